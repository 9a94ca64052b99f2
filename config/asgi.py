"""ASGI entry point."""

from config import set_default_settings_module
from django.core.asgi import get_asgi_application

set_default_settings_module()
application = get_asgi_application()
