"""`config` as an installed app: it owns no models, only the project-wide operations commands
(`backup`, `restore`) and the Huey tasks in `config/tasks.py` (the nightly backup)."""

from django.apps import AppConfig


class ProjectConfig(AppConfig):
    name = "config"
    label = "config"
    verbose_name = "Project operations"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in
        from django.core.signals import request_finished

        from pos.middleware import stamp_activity_on_login

        from config import tasks  # noqa: F401  (registers the nightly backup and the task log context)
        from config.logs import clear_log_context

        # Once the response is sent (streamed bodies included), the request's ids leave the thread's
        # log context, so gunicorn's own lines in between ("Worker exiting") carry no stale request id.
        request_finished.connect(clear_log_context, dispatch_uid="asiria-clear-log-context")
        # The idle-session clock starts at login (pos/middleware.py, IdleSessionTimeoutMiddleware).
        user_logged_in.connect(stamp_activity_on_login, dispatch_uid="asiria-idle-stamp-on-login")
