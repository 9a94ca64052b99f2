"""The foundation as an installed app: the operations commands (`backup`, `restore`), the nightly backup
task and the API's idempotency keys."""

from django.apps import AppConfig
from django.core.signals import request_finished


class CoreConfig(AppConfig):
    name = "core"
    label = "core"
    verbose_name = "Foundation and operations"

    def ready(self) -> None:
        from core import tasks  # noqa: F401  (registers the nightly backup and the task log context)
        from core.ops.logs import clear_log_context

        # Once the response is sent (streamed bodies included), the request's ids leave the thread's
        # log context, so gunicorn's own lines in between ("Worker exiting") carry no stale request id.
        request_finished.connect(clear_log_context, dispatch_uid="asiria-clear-log-context")
