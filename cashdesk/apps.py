from django.apps import AppConfig


class CashdeskConfig(AppConfig):
    name = "cashdesk"
    verbose_name = "Cash desk"

    def ready(self) -> None:
        from cashdesk.etims.receipt import receipt_extension
        from cashdesk.mpesa.daraja import checks  # noqa: F401 - registers the M-Pesa settings check
        from pos.sales.receipts import register_receipt_extension

        register_receipt_extension(receipt_extension)  # the eTIMS SCU block on receipts and credit notes
