"""ASGI entry point."""

from django.core.asgi import get_asgi_application

from config import set_default_settings_module

set_default_settings_module()
application = get_asgi_application()
