"""Where the project lives and how settings are read: django-environ over the environment and `.env`."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"  # runtime files: SQLite databases, the Huey queue, backups
VAR_DIR.mkdir(exist_ok=True)

env = environ.Env()
env_file = env.str("ENV_FILE", default=str(BASE_DIR / ".env"))
if Path(env_file).is_file():
    env.read_env(env_file, overwrite=False)
