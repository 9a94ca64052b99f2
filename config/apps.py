"""`config` as an installed app: it owns no models, only the project-wide operations commands
(`backup`, `restore`) and the Huey tasks in `config/tasks.py` (the nightly backup)."""

from django.apps import AppConfig


class ProjectConfig(AppConfig):
    name = "config"
    label = "config"
    verbose_name = "Project operations"

    def ready(self) -> None:
        from . import tasks  # noqa: F401  (registers the nightly backup and the task log context)
