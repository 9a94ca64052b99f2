"""The OSCU client's one adapter: both reply envelopes, string or number codes, and what counts as sent."""

import json
from pathlib import Path

import httpx
import pytest
import respx

from cashdesk.etims.client import OscuClient, OscuTransportError, unwrap

pytestmark = pytest.mark.django_db
SAMPLES = Path(__file__).resolve().parents[4] / "shared" / "etims" / "samples"
BASE = "https://etims-api-sbx.kra.go.ke/etims-api"


def test_flat_replies_and_codes_as_numbers():
    assert unwrap({"resultCd": 0, "resultMsg": "ok", "resultDt": "x", "data": None}, 200).result_cd == "000"
    reply = unwrap({"resultCd": "001", "resultMsg": "none", "resultDt": "x", "data": None}, 200)
    assert reply.empty and not reply.ok


def test_the_gateway_envelope_and_its_400_are_unwrapped():
    inner = {"resultCd": "000", "resultMsg": "Successful", "resultDt": "20261123143007", "data": {"rcptSign": "X"}}
    assert unwrap({"responseHeader": {"responseCode": 200}, "responseBody": inner}, 200).data == {"rcptSign": "X"}
    sample = SAMPLES / "error_invcno_sequence_gateway.json"
    body = json.loads(sample.read_text()) if sample.exists() else {
        "responseHeader": {"responseCode": 400, "debugMessage": "Invalid invcNo sequence, expected: 42 but found: 44"},
        "responseBody": None}
    refused = unwrap(body, 400)
    assert refused.result_cd == "910" and "expected: 42" in refused.result_msg


def test_non_json_and_unreachable_are_transport_errors(settings):
    settings.ETIMS_TIMEOUT = 1
    with respx.mock(base_url=BASE) as router:
        router.post("/saveTrnsSalesOsdc").respond(502, text="<html>Bad gateway</html>")
        router.post("/selectCodeList").mock(side_effect=httpx.ConnectError("refused"))
        router.post("/saveItem").mock(side_effect=httpx.ReadTimeout("slow"))
        with OscuClient(base_url=BASE, tin="P051234567X", bhf_id="01", cmc_key="SECRET-KEY-1") as client:
            with pytest.raises(OscuTransportError) as html:
                client.call("saveTrnsSalesOsdc", {})
            assert html.value.sent and html.value.kind == "http_error"
            with pytest.raises(OscuTransportError) as refused:
                client.call("selectCodeList", {})
            assert not refused.value.sent
            with pytest.raises(OscuTransportError) as slow:
                client.call("saveItem", {})
            assert slow.value.sent and slow.value.kind == "timeout"
        sent = router.calls[0].request
        assert (sent.headers["tin"], sent.headers["bhfId"]) == ("P051234567X", "01")
        assert sent.headers["cmcKey"] == "SECRET-KEY-1"
    assert "SECRET-KEY-1" not in repr(client)


def test_paths_can_be_renamed_for_another_deployment(settings):
    settings.ETIMS_PATHS = {"saveTrnsSalesOsdc": "sendSalesTransaction"}
    assert OscuClient(base_url=BASE).path("saveTrnsSalesOsdc") == "sendSalesTransaction"
    settings.ETIMS_PATHS = {}
    settings.ETIMS_API_STYLE = "gateway"
    assert OscuClient(base_url=BASE).path("insertStockIO") == "insert/stockIO"
