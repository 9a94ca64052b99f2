from django.apps import AppConfig


class PosConfig(AppConfig):
    name = "pos"
    verbose_name = "Till, people and sales"

    def ready(self) -> None:
        from pos import signals  # noqa: F401  (login / failed-login audit receivers)
