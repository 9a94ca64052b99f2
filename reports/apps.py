from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        from reports import receivers, tasks  # noqa: F401 - registers the Huey tasks

        receivers.connect()
