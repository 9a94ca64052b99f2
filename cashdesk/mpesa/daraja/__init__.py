"""M-Pesa through Safaricom's Daraja API: settings, client, callback parsers, answers, simulator.

Pure integration code (no models, no payment rules). The cash desk builds on these names:

    from cashdesk.mpesa.daraja import DarajaClient, DarajaError, parse_stk_callback, ...

See docs/mpesa.md.
"""

from cashdesk.mpesa.daraja.callbacks import (
    C2BPayment,
    CallbackShapeError,
    DarajaResult,
    ResultMessage,
    StkCallback,
    StkStatus,
    load_body,
    parse_account_balance,
    parse_c2b_confirmation,
    parse_c2b_validation,
    parse_result,
    parse_stk_callback,
    result_message,
)
from cashdesk.mpesa.daraja.client import (
    AccessToken,
    AsyncRequestResult,
    C2BRegisterResult,
    C2BSimulateResult,
    DarajaClient,
    DarajaError,
    DarajaInputError,
    PulledTransaction,
    StkPushResult,
    StkQueryResult,
    daraja_timestamp,
    get_client,
    stk_password,
    whole_shillings,
)
from cashdesk.mpesa.daraja.config import (
    CallbackURLError,
    DarajaConfig,
    callback_secret_matches,
    callback_url,
    get_config,
    validate_callback_url,
)
from cashdesk.mpesa.daraja.responses import (
    C2BRejection,
    c2b_confirmation_received,
    c2b_validation_accepted,
    c2b_validation_rejected,
    callback_too_large,
    stk_callback_accepted,
)

__all__ = [
    "AccessToken",
    "AsyncRequestResult",
    "DarajaResult",
    "PulledTransaction",
    "parse_account_balance",
    "parse_result",
    "C2BPayment",
    "C2BRegisterResult",
    "C2BRejection",
    "C2BSimulateResult",
    "CallbackShapeError",
    "CallbackURLError",
    "DarajaClient",
    "DarajaConfig",
    "DarajaError",
    "DarajaInputError",
    "ResultMessage",
    "StkCallback",
    "StkPushResult",
    "StkQueryResult",
    "StkStatus",
    "c2b_confirmation_received",
    "c2b_validation_accepted",
    "c2b_validation_rejected",
    "callback_too_large",
    "callback_secret_matches",
    "callback_url",
    "daraja_timestamp",
    "get_client",
    "get_config",
    "load_body",
    "parse_c2b_confirmation",
    "parse_c2b_validation",
    "parse_stk_callback",
    "result_message",
    "stk_callback_accepted",
    "stk_password",
    "validate_callback_url",
    "whole_shillings",
]
