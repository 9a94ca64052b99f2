from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        from reports import (  # noqa: F401 - registers the Huey tasks
            export_tasks,  # noqa: F401  (registers the export task with Huey)
            receivers,
            tasks,
        )

        receivers.connect()
