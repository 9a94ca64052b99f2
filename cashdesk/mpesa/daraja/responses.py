"""The JSON our callback endpoints answer Safaricom with (the view wraps it in a JsonResponse).

Answer fast (HTTP 200) and do the work in a task: Safaricom gives C2B validation about 8 seconds and
may repeat or drop callbacks that are slow to answer.
"""

from enum import StrEnum


class C2BRejection(StrEnum):
    """Codes a C2B validation answer may use to refuse a payment (Safaricom's list)."""

    INVALID_MSISDN = "C2B00011"
    INVALID_ACCOUNT_NUMBER = "C2B00012"
    INVALID_AMOUNT = "C2B00013"
    INVALID_KYC_DETAILS = "C2B00014"
    INVALID_SHORTCODE = "C2B00015"
    OTHER_ERROR = "C2B00016"


def stk_callback_accepted() -> dict:
    """Answer to an STK callback (whatever it said, once it is stored)."""
    return {"ResultCode": 0, "ResultDesc": "Accepted"}


def c2b_validation_accepted() -> dict:
    """Answer to a C2B validation request: let the payment through."""
    return {"ResultCode": 0, "ResultDesc": "Accepted"}


def c2b_validation_rejected(code: C2BRejection | str = C2BRejection.INVALID_ACCOUNT_NUMBER) -> dict:
    """Answer to a C2B validation request: refuse the payment (the customer's money stays with them)."""
    value = C2BRejection(code).value  # ValueError for a code Safaricom does not know
    return {"ResultCode": value, "ResultDesc": "Rejected"}


def c2b_confirmation_received() -> dict:
    """Answer to a C2B confirmation (the payment already happened; this only acknowledges it)."""
    return {"ResultCode": 0, "ResultDesc": "Success"}


def is_acceptance(body: object) -> bool:
    """Whether a validation answer accepts the payment (ResultCode 0 or "0"); used by the simulator."""
    if not isinstance(body, dict):
        return False
    code = body.get("ResultCode")
    return not isinstance(code, bool) and str(code).strip() == "0"


def callback_too_large(request_id: str, limit: int) -> dict:
    """Answer to a body above the size limit, in Daraja's own error shape (HTTP 413)."""
    return {
        "requestId": request_id,
        "errorCode": "413.001.01",
        "errorMessage": f"Request body too large: at most {limit} bytes",
    }
