from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        from reports import export_tasks  # noqa: F401  (registers the export task with Huey)
        from reports import receivers, tasks  # noqa: F401 - registers the Huey tasks

        receivers.connect()
