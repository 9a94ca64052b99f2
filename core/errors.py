"""The domain errors every app raises: a message a cashier can read, and 409 for conflicts."""







class DomainError(Exception):
    """Base of each app's one domain exception (StockError, SaleError, PaymentError…).

    Services raise it with a message a cashier can read; `field` names the form or API field it
    belongs to when there is one. Views turn it into a form error, the API into a 400/409.
    """

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code or "invalid"


class ConflictError(DomainError):
    """The request is valid but the world disagrees: stock short, session closed (API: 409)."""

    status_code = 409
