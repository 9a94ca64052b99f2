"""`manage.py check`: M-Pesa settings that would make Daraja refuse us or leave callbacks open."""

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from cashdesk.mpesa.daraja.config import configuration_problems, get_config


@checks.register(checks.Tags.security)
def mpesa_settings_check(app_configs=None, **kwargs):
    try:
        config = get_config()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="cashdesk.E001")]
    # In production a wrong M-Pesa setting loses real money: error; elsewhere a warning.
    level = checks.Error if config.is_production else checks.Warning
    return [
        level(problem, hint="See docs/mpesa.md.", id="cashdesk.E002" if config.is_production else "cashdesk.W002")
        for problem in configuration_problems(config)
    ]
