"""Settings shared by every environment, read from the environment through django-environ.

With no `.env` at all the shop runs on SQLite, the local-memory cache and a SQLite Huey queue;
`DATABASE_URL=mysql://…` and `REDIS_URL=redis://…` switch to MySQL/MariaDB and Redis. One module per
topic; `local`, `test` and `production` start from this one and change what they must.
"""

from config.settings.analytics import *  # noqa: F403
from config.settings.api import *  # noqa: F403
from config.settings.auth import *  # noqa: F403
from config.settings.environment import *  # noqa: F403
from config.settings.etims import *  # noqa: F403
from config.settings.hardware import *  # noqa: F403
from config.settings.mpesa import *  # noqa: F403
from config.settings.operations import *  # noqa: F403
from config.settings.platform import *  # noqa: F403
