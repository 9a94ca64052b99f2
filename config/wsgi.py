"""WSGI entry point (gunicorn config.wsgi)."""

from config import set_default_settings_module
from django.core.wsgi import get_wsgi_application

set_default_settings_module()
application = get_wsgi_application()
