from django.apps import AppConfig


class CashdeskConfig(AppConfig):
    name = "cashdesk"
    verbose_name = "Cash desk"

    def ready(self) -> None:
        from cashdesk.mpesa.daraja import checks  # noqa: F401 - registers the M-Pesa settings check
