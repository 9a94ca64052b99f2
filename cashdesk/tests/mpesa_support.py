"""Helpers for the cash desk's M-Pesa tests: a respx stand-in for Daraja and the sample payloads."""

import json
from decimal import Decimal
from pathlib import Path

import httpx
import respx
from django.urls import reverse

CALLBACK_SECRET = "test-callback-secret-5f2c9e1b7a4d4e0f8a6b3c2d1e0f9a8b"
DARAJA_URL = "http://daraja.test"  # respx answers for it; nothing real listens
SAMPLES = Path(__file__).parent / "samples"


def sample(name: str) -> dict:
    return json.loads((SAMPLES / f"{name}.json").read_text())


def sample_bytes(name: str) -> bytes:
    return (SAMPLES / f"{name}.json").read_bytes()


def stk_callback_body(name: str, *, checkout_request_id: str | None = None, amount=None, receipt=None) -> bytes:
    """A sample STK callback, optionally for another CheckoutRequestID / amount / receipt."""
    body = sample(name)
    stk = body["Body"]["stkCallback"]
    if checkout_request_id:
        stk["CheckoutRequestID"] = checkout_request_id
        stk["MerchantRequestID"] = MERCHANT_IDS.get(checkout_request_id, stk["MerchantRequestID"])
    for item in stk.get("CallbackMetadata", {}).get("Item", []):
        if amount is not None and item["Name"] == "Amount":
            item["Value"] = float(Decimal(amount))
        if receipt is not None and item["Name"] == "MpesaReceiptNumber":
            item["Value"] = receipt
    return json.dumps(body).encode()


def callback_url(name: str = "stk", secret: str = CALLBACK_SECRET) -> str:
    return reverse(
        {"stk": "cashdesk:stk_callback", "validate": "cashdesk:c2b_validation", "confirm": "cashdesk:c2b_confirmation"}[
            name
        ],
        args=[secret],
    )


MERCHANT_IDS = {
    sample(name)["Body"]["stkCallback"]["CheckoutRequestID"]: sample(name)["Body"]["stkCallback"]["MerchantRequestID"]
    for name in ("stk_callback_success", "stk_callback_cancelled", "stk_callback_timeout", "stk_callback_insufficient")
}


class FakeDaraja:
    """Answers the Daraja endpoints the cash desk calls; records what was sent."""

    def __init__(self):
        self.router = respx.mock(base_url=DARAJA_URL, assert_all_called=False)
        self.pushes: list[dict] = []
        self.queries: list[dict] = []
        self.next_checkout_ids = [
            "ws_CO_191220191020363925",  # stk_callback_success
            "ws_CO_191220191020363926",  # stk_callback_cancelled
            "ws_CO_191220191020363927",  # stk_callback_timeout
            "ws_CO_191220191020363928",  # stk_callback_insufficient
        ]
        self.push_answer: tuple[int, dict] | None = None
        self.query_answer: tuple[int, dict] = (500, sample("stk_query_pending"))

    def _push(self, request):
        payload = json.loads(request.content)
        self.pushes.append(payload)
        if self.push_answer is not None:
            return httpx.Response(self.push_answer[0], json=self.push_answer[1])
        body = sample("stk_push_response")
        body["CheckoutRequestID"] = (
            self.next_checkout_ids.pop(0) if self.next_checkout_ids else f"ws_CO_T{len(self.pushes):06d}"
        )
        # Daraja's callback carries the MerchantRequestID of its push: the samples' ids, in their order.
        body["MerchantRequestID"] = MERCHANT_IDS.get(body["CheckoutRequestID"], body["MerchantRequestID"])
        return httpx.Response(200, json=body)

    def _query(self, request):
        self.queries.append(json.loads(request.content))
        status, body = self.query_answer
        body = dict(body)
        if "CheckoutRequestID" in body:
            body["CheckoutRequestID"] = json.loads(request.content)["CheckoutRequestID"]
        return httpx.Response(status, json=body)

    def __enter__(self):
        self.router.__enter__()
        self.router.get("/oauth/v1/generate").respond(200, json={"access_token": "test-token", "expires_in": "3599"})
        self.router.post("/mpesa/stkpush/v1/processrequest").mock(side_effect=self._push)
        self.router.post("/mpesa/stkpushquery/v1/query").mock(side_effect=self._query)
        return self

    def __exit__(self, *exc):
        self.router.__exit__(*exc)
