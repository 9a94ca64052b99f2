"""Scanning at the till: a scan id adds once, scale labels, goods sold by weight ask for their weight,
and codes that are not one barcode get a clear message and leave the cart as it was."""

from decimal import Decimal as D

import pytest
from django.urls import reverse

from inventory.barcodes import make_ean13
from inventory.tests.factories import KilogramFactory, ProductFactory, stock_in
from pos.sales.models import Sale, SaleScan

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}
LABEL_1250_G = make_ean13("201234501250")  # item 12345, 1.250 kg


@pytest.fixture
def shelf(branch):
    soap = ProductFactory(name="Geisha soap 225g", selling_price=D("116.00"))
    sukuma = ProductFactory(name="Sukuma wiki", unit=KilogramFactory(), selling_price=D("80.00"),
                            barcode=make_ean13("201234500000"), is_favourite=True)
    for product in (soap, sukuma):
        stock_in(product, branch, 50)
    return soap, sukuma


def scan(client, code, scan_id=""):
    return client.post(reverse("till:scan"), {"q": code, "scan_id": scan_id}, **HX)


def lines_of(user):
    sale = Sale.objects.filter(open_for_cashier=user.pk).first()
    return [(line.product_name, line.quantity) for line in sale.lines.order_by("position")] if sale else []


# ---------------------------------------------------------------------------- exactly once
def test_the_same_scan_id_twice_adds_once(employee_client, employee, shelf):
    soap, _ = shelf
    first = scan(employee_client, soap.barcode, "3f2a9c0e8d7b4a1f9e6d5c4b3a291807")
    assert first.status_code == 200 and "Geisha soap 225g × 1" in first.content.decode()
    again = scan(employee_client, soap.barcode, "3f2a9c0e8d7b4a1f9e6d5c4b3a291807")  # the retried request
    assert again.status_code == 200
    assert 'data-testid="cart-line"' in again.content.decode()  # it shows the cart as it is
    assert lines_of(employee) == [("Geisha soap 225g", D("1"))]
    scan(employee_client, soap.barcode, "0b1c2d3e4f")  # a new scan of the same item: a second one
    assert lines_of(employee) == [("Geisha soap 225g", D("2"))]
    assert SaleScan.objects.filter(cashier=employee).count() == 2


def test_scan_ids_are_per_cashier(client_for, employee, manager, shelf):
    soap, _ = shelf
    scan(client_for(employee), soap.barcode, "same-id")
    scan(client_for(manager), soap.barcode, "same-id")  # another till's scan with the same id: its own
    assert lines_of(employee) == [("Geisha soap 225g", D("1"))]
    assert lines_of(manager) == [("Geisha soap 225g", D("1"))]


def test_a_scan_that_fails_may_be_sent_again(employee_client, employee, shelf):
    soap, _ = shelf
    soap.is_active = False
    soap.save()
    refused = scan(employee_client, soap.barcode, "retry-me")
    assert "No product has the barcode" in refused.content.decode() and not SaleScan.objects.exists()
    soap.is_active = True
    soap.save()
    scan(employee_client, soap.barcode, "retry-me")
    assert lines_of(employee) == [("Geisha soap 225g", D("1"))]


def test_a_scan_id_we_do_not_use_changes_nothing(employee_client, employee, shelf):
    soap, _ = shelf
    response = scan(employee_client, soap.barcode, "x" * 65)
    assert response["HX-Retarget"] == "#scan-feedback" and "scan the item again" in response.content.decode()
    response = scan(employee_client, soap.barcode, "<script>")
    assert "scan the item again" in response.content.decode()
    assert lines_of(employee) == [] and not SaleScan.objects.exists()


# ---------------------------------------------------------------------------- codes that are not one barcode
@pytest.mark.parametrize(
    "code, message",
    [
        ("61600000000126160000000027", "is more than one barcode (26 digits): scan one item at a time"),
        ("6160000", "is only part of a barcode (7 digits"),
        ("6161234567893", "The check digit of this EAN-13 is wrong (expected 0)"),
        ("2012345012505", "check digit of scale label 2012345012505 is wrong (expected 9)"),
        (make_ean13("209999901250"), "No product has the scale item code 99999"),
    ],
)
def test_a_code_that_is_not_one_readable_barcode_gets_a_clear_message(employee_client, employee, shelf, code,
                                                                      message):
    response = scan(employee_client, code, "a1")
    assert response["HX-Retarget"] == "#scan-feedback" and "till:error" in response["HX-Trigger"]
    assert message in response.content.decode()
    assert lines_of(employee) == [] and not SaleScan.objects.exists()


def test_a_scale_label_of_goods_counted_in_pieces_is_refused(employee_client, employee, shelf):
    ProductFactory(name="Bread roll", barcode=make_ean13("205555500000"))
    response = scan(employee_client, make_ean13("205555500750"), "b1")
    assert "Bread roll is not sold by weight" in response.content.decode()
    assert lines_of(employee) == []


# ---------------------------------------------------------------------------- weighed goods
def test_a_scale_label_adds_its_weight(employee_client, employee, shelf):
    response = scan(employee_client, LABEL_1250_G, "c1")
    assert "Sukuma wiki × 1.25" in response.content.decode()
    assert lines_of(employee) == [("Sukuma wiki", D("1.250"))]
    assert Sale.objects.get(open_for_cashier=employee.pk).total == D("100.00")
    scan(employee_client, f"2*{LABEL_1250_G}", "c2")  # two bags of the same weight
    assert lines_of(employee) == [("Sukuma wiki", D("3.750"))]


def test_a_price_label_adds_the_weight_worked_out_from_the_price(owner_client, owner, shelf):
    from pos.people.services import shop_settings_update

    shop_settings_update(actor=owner, data={"scale_label_kind": "PRICE", "scale_label_decimals": 2})
    scan(owner_client, make_ean13("201234510000"), "d1")  # KES 100.00 of KES 80/kg
    assert lines_of(owner) == [("Sukuma wiki", D("1.250"))]


@pytest.mark.parametrize("how", ["own barcode", "name", "tap"])
def test_goods_sold_by_weight_ask_for_the_weight_instead_of_adding_1_kg(employee_client, employee, shelf, how):
    _, sukuma = shelf
    if how == "tap":
        response = employee_client.post(reverse("till:add", args=[sukuma.pk]), **HX)
    else:
        response = scan(employee_client, sukuma.barcode if how == "own barcode" else "sukuma", "e1")
    html = response.content.decode()
    assert response["HX-Retarget"] == "#till-dialog-content"
    assert 'data-testid="weight-input"' in html and "80.00 per kg" in html and "data-keypad" in html
    assert lines_of(employee) == []
    scan_id = html.split('name="scan_id" value="')[1].split('"')[0]
    if how != "tap":
        assert scan_id == "e1"  # the dialog finishes the scan: its Add counts once
    url = reverse("till:add", args=[sukuma.pk])
    data = {"dialog": "1", "scan_id": scan_id, "quantity": "0.75"}
    added = employee_client.post(url, data, **HX)
    assert "till:dialog-close" in added["HX-Trigger"] and "Sukuma wiki × 0.75" in added.content.decode()
    employee_client.post(url, data, **HX)  # a double tap on Add
    assert lines_of(employee) == [("Sukuma wiki", D("0.750"))]


@pytest.mark.parametrize(
    "typed, message",
    [("0", "The quantity must be more than zero."), ("1.2345", "allows at most 3 decimal places"),
     ("200000", "too large for one line"), ("abc", "That weight is not a number."), ("", "Type the weight in kg.")],
)
def test_a_weight_the_unit_does_not_allow_stays_in_the_dialog(employee_client, employee, shelf, typed, message):
    _, sukuma = shelf
    response = employee_client.post(reverse("till:add", args=[sukuma.pk]),
                                    {"dialog": "1", "scan_id": "f1", "quantity": typed}, **HX)
    html = response.content.decode()
    assert response["HX-Retarget"] == "#till-dialog-content"
    assert message in html and 'data-testid="weight-error"' in html
    assert lines_of(employee) == [] and not SaleScan.objects.exists()


def test_a_count_typed_before_a_weighed_product_adds_that_much(employee_client, employee, shelf):
    _, sukuma = shelf
    scan(employee_client, f"0.5*{sukuma.barcode}", "g1")
    assert lines_of(employee) == [("Sukuma wiki", D("0.500"))]


def test_the_weight_dialog_without_javascript_is_a_page(employee_client, employee, shelf):
    _, sukuma = shelf
    page = employee_client.post(reverse("till:add", args=[sukuma.pk]))
    assert page.status_code == 200 and "<html" in page.content.decode()
    assert 'data-testid="weight-input"' in page.content.decode()
    done = employee_client.post(reverse("till:add", args=[sukuma.pk]), {"dialog": "1", "quantity": "1.5"})
    assert done.status_code == 302 and lines_of(employee) == [("Sukuma wiki", D("1.500"))]


# ---------------------------------------------------------------------------- the API reads labels the same way
def test_the_api_adds_a_scale_label_with_its_weight(employee, shelf):
    from rest_framework.test import APIClient

    from pos.sales.services import sale_get_or_open

    api = APIClient()
    api.force_authenticate(employee)
    sale = sale_get_or_open(cashier=employee)
    response = api.post("/api/salesdetails/", {"sales_header": sale.pk, "barcode": LABEL_1250_G}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["quantity"] == "1.250"
    bad = api.post("/api/salesdetails/", {"sales_header": sale.pk, "barcode": make_ean13("205555500750")},
                   format="json")
    assert bad.status_code == 400 and "barcode" in bad.json()["errors"]
    neither = api.post("/api/salesdetails/", {"sales_header": sale.pk}, format="json")
    assert neither.status_code == 400
    assert lines_of(employee) == [("Sukuma wiki", D("1.250"))]
