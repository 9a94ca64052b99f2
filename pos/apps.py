from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in


class PosConfig(AppConfig):
    name = "pos"
    verbose_name = "Till, people and sales"

    def ready(self) -> None:
        from pos.people import signals  # noqa: F401  (login / failed-login audit receivers)
        from pos.people.middleware import stamp_activity_on_login

        # The idle-session clock starts at login (pos/people/middleware.py, IdleSessionTimeoutMiddleware).
        user_logged_in.connect(stamp_activity_on_login, dispatch_uid="asiria-idle-stamp-on-login")
