"""What is sent: the arithmetic of the samples, credit notes within their invoice, split tender, items,
stock and purchases in the documented order, the device's key, and rates from KRA's code list."""

import json
from decimal import Decimal as D
from pathlib import Path

import pytest

from cashdesk.etims import services
from cashdesk.etims.amounts import band_fields, line_amounts
from cashdesk.etims.models import EtimsDevice, EtimsItem, EtimsPurchase, EtimsSubmission, SubmissionStatus
from cashdesk.etims.services import EtimsError, etims_device_work
from cashdesk.refund_services import sale_return_refund, sale_void_completed
from cashdesk.services import Tender
from cashdesk.tests.etims.conftest import BHF, TIN, product, sell
from cashdesk.tests.factories import open_session
from pos.sales.services import ReturnItem

pytestmark = pytest.mark.django_db
SAMPLES = Path(__file__).resolve().parents[4] / "shared" / "etims" / "samples"


def work(etims_device):
    return etims_device_work(device_id=etims_device.pk)


def test_the_arithmetic_reproduces_the_sample_sale():
    lines = [("B", D("16"), D("349.00"), D("2")), ("A", D("0"), D("210.00"), D("1")), ("E", D("8"), D("45.50"), D("3"))]
    amounts = [(band, rate, line_amounts(prc=prc, qty=qty, sply_amt=prc * qty, dc_amt=D("0"), rate=rate))
               for band, rate, prc, qty in lines]
    fields = band_fields(amounts, band_rates={})
    assert [a.taxbl_amt for _, _, a in amounts] == [D("601.72"), D("210.00"), D("126.39")]
    assert [a.tax_amt for _, _, a in amounts] == [D("96.28"), D("0.00"), D("10.11")]
    assert (fields["totTaxblAmt"], fields["totTaxAmt"], fields["totAmt"]) == (D("938.11"), D("106.39"), D("1044.50"))
    assert (fields["taxRtB"], fields["taxRtE"], fields["taxRtC"]) == (D("16"), D("8"), D("0"))
    if SAMPLES.exists():
        sample = json.loads((SAMPLES / "save_sale_request.json").read_text(), parse_float=D)
        for key in ("taxblAmtA", "taxblAmtB", "taxblAmtE", "taxAmtB", "taxAmtE", "totTaxblAmt", "totTaxAmt", "totAmt"):
            assert fields[key] == sample[key], key


def test_unused_bands_carry_rate_zero_unless_set(settings):
    amounts = [("B", D("16"), line_amounts(prc=D("100"), qty=D("1"), sply_amt=D("100"), dc_amt=D("0"), rate=D("16")))]
    assert band_fields(amounts, band_rates={"E": D("8")})["taxRtE"] == D("0")
    assert band_fields(amounts, band_rates={"E": D("8")}, unused_band_rate="rate")["taxRtE"] == D("8")


def test_discounted_line_keeps_the_total_the_customer_paid():
    amounts = line_amounts(prc=D("99.99"), qty=D("3"), sply_amt=D("299.97"), dc_amt=D("29.99"), rate=D("16"))
    assert amounts.taxbl_amt + amounts.tax_amt == amounts.tot_amt == D("269.98")


def test_a_sale_payload_has_all_fifteen_band_fields_and_pays_what_the_customer_paid(etims_device, simulator, grocery,
                                                                                    branch, employee):
    oil = product(branch, grocery, price="349.00", tax_class="B", name="Cooking oil 1L")
    flour = product(branch, grocery, price="210.00", tax_class="A", name="Maize flour 2kg")
    feed = product(branch, grocery, price="45.50", tax_class="E", name="Band-E item")
    sale = sell(employee, [(oil, 2), (flour, 1), (feed, 3)])
    work(etims_device)
    payload = EtimsSubmission.objects.get(sale=sale).payload
    for band in "ABCDE":
        assert {f"taxblAmt{band}", f"taxRt{band}", f"taxAmt{band}"} <= set(payload)
    assert payload["totAmt"] == 1044.5 == float(sale.total)
    assert payload["taxblAmtB"] == 601.72 and payload["taxAmtE"] == 10.11
    assert payload["rcptTyCd"] == "S" and payload["orgInvcNo"] == 0 and payload["pmtTyCd"] == "01"
    assert payload["cfmDt"][:8] == payload["salesDt"]
    item_codes = [line["itemCd"] for line in payload["itemList"]]
    assert all(code.startswith("KE2NT") and len(code) == 14 for code in item_codes)
    assert [int(code[-7:]) for code in item_codes] == [1, 2, 3]  # the PIN's running number


def test_split_tender_maps_to_the_method_that_paid_most(etims_device, simulator, grocery, branch, employee):
    item = product(branch, grocery, price="300.00")
    sale = sell(employee, [(item, 1)], tenders=[Tender("CARD", D("200"), "TX-1"), Tender("CASH", D("100"))])
    work(etims_device)
    assert EtimsSubmission.objects.get(sale=sale).payload["pmtTyCd"] == "05"


def test_a_partial_credit_note_is_signed_with_the_original_invoice_number(etims_device, simulator, grocery, branch,
                                                                         employee, manager):
    oil = product(branch, grocery, price="349.00")
    flour = product(branch, grocery, price="210.00", tax_class="A")
    first = sell(employee, [(flour, 1)])
    sale = sell(employee, [(oil, 2), (flour, 1)])
    work(etims_device)
    original = EtimsSubmission.objects.get(sale=sale, kind="SALE")
    assert original.number == 2
    oil_line = sale.lines.get(product=oil)
    open_session(manager)
    returned = sale_return_refund(sale=sale, items=[ReturnItem(oil_line.pk, D("1"))], user=manager,
                                  reason="Damaged bottle", refund_to="CASH")
    work(etims_device)
    credit = EtimsSubmission.objects.get(sale_return=returned)
    assert credit.status == SubmissionStatus.SIGNED and credit.number == 3
    payload = credit.payload
    assert payload["rcptTyCd"] == "R" and payload["orgInvcNo"] == 2 and payload["rfdRsnCd"] == "03"
    assert payload["totAmt"] == 349.0 and payload["rfdDt"]
    assert len(payload["itemList"]) == 1 and payload["itemList"][0]["qty"] == 1
    assert simulator.accepted_invoices(TIN, BHF) == [1, 2, 3]
    assert first.pk


def test_credit_notes_never_exceed_the_original(etims_device, simulator, grocery, branch, employee, manager):
    oil = product(branch, grocery, price="349.00")
    sale = sell(employee, [(oil, 2)])
    open_session(manager)
    line = sale.lines.get()
    returned = sale_return_refund(sale=sale, items=[ReturnItem(line.pk, D("2"))], user=manager, reason="Refund",
                                  refund_to="CASH")
    # A second credit note for the same line (as if from another path): more than was sold.
    extra = EtimsSubmission.objects.create(
        device=etims_device, kind="CREDIT_NOTE", document_key="R:extra", sale=sale,
        original=EtimsSubmission.objects.get(sale=sale, kind="SALE"), sequence="invc", occurred_at=returned.created_at,
        reason_code="06",
        document={"lines": [{"sale_line": line.pk, "qty": "1", "amount": "349.00"}]},
    )
    work(etims_device)
    extra.refresh_from_db()
    assert extra.status == SubmissionStatus.QUEUED and "exceed the original" in extra.waiting_reason
    assert EtimsSubmission.objects.get(sale_return=returned).status == SubmissionStatus.SIGNED


def test_a_voided_sale_gets_a_credit_note_for_all_of_it(etims_device, simulator, grocery, branch, employee, manager):
    sale = sell(employee, [(product(branch, grocery, price="250.00"), 2)])
    open_session(manager)
    sale_void_completed(sale=sale, user=manager, reason="Rang up the wrong customer")
    work(etims_device)
    credit = EtimsSubmission.objects.get(document_key=f"V:{sale.pk}")
    assert credit.status == SubmissionStatus.SIGNED and credit.payload["orgInvcNo"] == 1
    assert credit.payload["totAmt"] == 500.0


def test_init_stores_the_key_encrypted_and_a_second_init_keeps_it(etims_device, simulator):
    plain = simulator.device(TIN, BHF).cmc_key
    assert etims_device.cmc_key_encrypted and plain not in etims_device.cmc_key_encrypted
    assert services.cmc_key_of(etims_device) == plain
    stored = etims_device.cmc_key_encrypted
    with pytest.raises(EtimsError) as refused:
        services.etims_device_initialise(device=etims_device)
    assert "902" in refused.value.message
    etims_device.refresh_from_db()
    assert etims_device.cmc_key_encrypted == stored


def test_an_unknown_device_is_refused_and_nothing_stored(etims_settings, branch):
    etims_device = EtimsDevice.objects.create(branch=branch, environment="simulator", tin=TIN, bhf_id="02",
                                        serial_number="UNKNOWN-1")
    with pytest.raises(EtimsError, match="901"):
        services.etims_device_initialise(device=etims_device)
    etims_device.refresh_from_db()
    assert not etims_device.cmc_key_encrypted and not etims_device.is_initialised


def test_settings_refuse_a_pin_or_branch_id_kra_would_not_know(etims_settings, branch, owner):
    with pytest.raises(EtimsError) as bad_pin:
        services.etims_device_save(branch=branch, environment="simulator", tin="123", bhf_id="01",
                                   serial_number="X", user=owner)
    assert bad_pin.value.field == "tin"
    with pytest.raises(EtimsError) as no_branch:
        services.etims_device_save(branch=branch, environment="simulator", tin=TIN, bhf_id="", serial_number="X",
                                   user=owner)
    assert no_branch.value.field == "bhf_id"


def test_a_code_list_change_updates_the_rate_the_till_uses_not_completed_sales(etims_device, simulator, grocery, branch,
                                                                                employee):
    from cashdesk.etims.services import etims_codes_sync
    from inventory.models import current_tax_rates

    feed = product(branch, grocery, price="108.00", tax_class="E")
    before = sell(employee, [(feed, 1)])
    simulator.set_rates({"E": "10"})
    assert etims_codes_sync(device=etims_device) == ["E"]
    assert current_tax_rates()["E"] == D("10")
    feed.refresh_from_db()
    assert feed.tax_rate == D("10")
    after = sell(employee, [(feed, 1)])
    assert before.lines.get().tax_rate == D("8.00") and after.lines.get().tax_rate == D("10.00")
    work(etims_device)
    assert EtimsSubmission.objects.get(sale=before).payload["taxRtE"] == 8
    assert EtimsSubmission.objects.get(sale=after).payload["taxRtE"] == 10
    assert simulator.accepted_invoices(TIN, BHF) == [1, 2]


def test_items_are_registered_before_their_first_sale_and_in_bulk(etims_device, simulator, grocery, branch, employee):
    from django.core.management import call_command

    items = [product(branch, grocery) for _ in range(3)]
    call_command("etims_register_items", branch=branch.code)
    assert EtimsItem.objects.filter(registered_at__isnull=False).count() == 3
    assert set(simulator.items[TIN]) == set(EtimsItem.objects.values_list("item_code", flat=True))
    sell(employee, [(items[0], 1)])
    work(etims_device)
    assert [e for e, _ in simulator.requests if e == "saveItem"] == ["saveItem"] * 3  # not again


def test_stock_goes_to_kra_after_its_sale_then_the_stock_master(etims_device, simulator, grocery, branch, employee):
    item = product(branch, grocery, stock=50)
    sell(employee, [(item, 2)])
    services.etims_stock_feed(device=etims_device)
    work(etims_device)
    sim_device = simulator.device(TIN, BHF)
    assert sorted(sim_device.stock_io) == [1, 2]  # opening stock in (06), then the sale out (11)
    assert [sim_device.stock_io[n]["sarTyCd"] for n in (1, 2)] == ["06", "11"]
    code = EtimsItem.objects.get(product=item).item_code
    assert float(sim_device.stock_master[code]["rsdQty"]) == 48
    order = [e for e, _ in simulator.requests if e in ("saveTrnsSalesOsdc", "insertStockIO", "saveStockMaster")]
    assert order.index("saveTrnsSalesOsdc") < order.index("insertStockIO") < order.index("saveStockMaster")
    assert services.etims_stock_feed(device=etims_device) == 0  # the cursor moved on


def test_declared_purchases_are_fetched_decided_and_reported(etims_device, simulator, manager):
    simulator.add_purchase(tin=TIN, invc_no=77)
    assert services.etims_purchases_fetch(device=etims_device) == 1
    assert services.etims_purchases_fetch(device=etims_device) == 0  # lastReqDt kept
    imported = EtimsPurchase.objects.get()
    services.etims_purchase_decide(purchase_import=imported, accept=True, user=manager)
    work(etims_device)
    assert list(simulator.device(TIN, BHF).purchases) == [1]
    with pytest.raises(EtimsError):
        services.etims_purchase_decide(purchase_import=imported, accept=False, user=manager)


def test_a_buyer_pin_is_checked_with_kra(etims_device, simulator, branch):
    result = services.etims_customer_check(branch_id=branch.pk, pin="a123456789z")
    assert result["checked"] and result["name"] == "TAXPAYER A123456789Z"
    with pytest.raises(EtimsError, match="does not know"):
        services.etims_customer_check(branch_id=branch.pk, pin="A000000000Z")
