"""The contract test: the shop's whole flow through the JSON API, over HTTP only.

Log in with a phone number, create a category, unit and product, receive a purchase, open a cash
session, create a sale with details, override a price and void a line (both in the audit log), pay
it with the API's split payload, see stock fall and the movement appear, close the session with
`closing_total`. No ORM call is used to act; the database is only read at the very end to check the
HTTP answers told the truth.
"""

from decimal import Decimal as D

import pytest
from rest_framework.test import APIClient

from core.roles import Role
from pos.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def ok(response, status=200):
    assert response.status_code == status, (response.status_code, response.content[:600])
    return response.json() if response.content else None


def test_the_shops_flow_through_http_only(branch):
    UserFactory(role=Role.OWNER, branch=branch, is_superuser=True, phone_number="+254712345678")
    api = APIClient()

    # log in with the phone number typed the Kenyan way
    assert api.get("/api/salesheaders/").status_code == 401
    tokens = ok(api.post("/api/token/", {"phone_number": "0712 345 678", "password": DEFAULT_PASSWORD}, format="json"))
    assert tokens["user"]["role"] == "OWNER"
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")

    # catalogue
    category = ok(api.post("/api/categories/", {"name": "Drinks"}, format="json"), 201)
    unit = ok(api.post("/api/units/", {"name": "Bottle", "code": "btl", "decimal_places": 0}, format="json"), 201)
    products = {}
    for name, sku, price in (("Soda 500ml", "SODA-500", "60.00"), ("Water 1l", "WATER-1L", "50.00"),
                             ("Juice 300ml", "JUICE-300", "80.00")):
        products[sku] = ok(api.post("/api/products/", {
            "name": name, "sku": sku, "price": price, "cost_price": "30.00", "category": category["id"],
            "unit": unit["id"],
        }, format="json"), 201)
        assert products[sku]["stock"] in ("0.000", "0")

    # receive a purchase: 24 of each
    supplier = ok(api.post("/api/suppliers/", {"name": "Nairobi Bottlers Ltd", "phone_number": "0722 000 111"},
                           format="json"), 201)
    purchase = ok(api.post("/api/purchaseheaders/", {
        "supplier": supplier["id"],
        "details": [{"product": p["id"], "quantity": "24", "unit_cost": "30.00"} for p in products.values()],
    }, format="json"), 201)
    received = ok(api.post(f"/api/purchaseheaders/{purchase['id']}/receive/", {}, format="json"))
    assert received["status"] == "RECEIVED"
    soda = ok(api.get(f"/api/products/{products['SODA-500']['id']}/"))
    assert D(soda["stock"]) == D("24")

    # open a cash session
    session = ok(api.post("/api/cash-sessions/", {"opening_float": "1000.00"}, format="json"), 201)

    # a sale with its details, in one request
    sale = ok(api.post("/api/salesheaders/", {"details": [
        {"product": products["SODA-500"]["id"], "quantity": "5"},
        {"product": products["WATER-1L"]["id"], "quantity": "2"},
        {"product": products["JUICE-300"]["id"], "quantity": "1"},
    ]}, format="json", HTTP_IDEMPOTENCY_KEY="contract-sale-1"), 201)
    assert sale["status"] == "OPEN" and sale["total"] == "480.00"
    details = {d["product"]: d for d in sale["details"]}

    # override a price (soda 60 → 55) and void a line (the juice)
    soda_line = details[products["SODA-500"]["id"]]["id"]
    juice_line = details[products["JUICE-300"]["id"]]["id"]
    overridden = ok(api.patch(f"/api/salesdetails/{soda_line}/", {"unit_price": "55.00", "reason": "Dented crate"},
                              format="json"))
    assert overridden["line_total"] == "275.00" and overridden["price_overridden"] is True
    assert api.delete(f"/api/salesdetails/{juice_line}/", {"reason": "Customer changed mind"},
                      format="json").status_code == 204
    sale = ok(api.get(f"/api/salesheaders/{sale['id']}/"))
    assert sale["total"] == "375.00" and len(sale["details"]) == 2

    # pay with the API's split payload (cash with change, and card)
    split = {
        "sales_header": str(sale["id"]),
        "session": str(session["id"]),
        "payments": [
            {"method": "CASH", "amount": 200.00},
            {"method": "CARD", "amount": 225.00, "reference": "TX-123"},
        ],
    }
    not_enough = api.post("/api/sales-payments/split/", {**split, "payments": split["payments"][:1]}, format="json")
    assert not_enough.status_code == 400
    paid = ok(api.post("/api/sales-payments/split/", split, format="json", HTTP_IDEMPOTENCY_KEY="contract-pay-1"), 201)
    assert paid["status"] == "COMPLETED" and paid["number"]
    assert paid["change_given"] == "50.00" and paid["amount_due"] == "0.00"
    retried = ok(
        api.post("/api/sales-payments/split/", split, format="json", HTTP_IDEMPOTENCY_KEY="contract-pay-1"), 201
    )
    assert retried == paid

    # stock fell, and the movement is in the ledger
    soda = ok(api.get(f"/api/products/{products['SODA-500']['id']}/"))
    juice = ok(api.get(f"/api/products/{products['JUICE-300']['id']}/"))
    assert D(soda["stock"]) == D("19") and D(juice["stock"]) == D("24")
    movements = ok(api.get("/api/stock-movements/", {"kind": "SALE", "product": products["SODA-500"]["id"]}))
    assert movements["count"] == 1
    assert D(movements["results"][0]["quantity"]) == D("-5") and D(movements["results"][0]["balance_after"]) == D("19")

    # both sensitive actions are in the audit log
    overrides = ok(api.get("/api/audit-logs/", {"action": "price_override"}))["results"]
    voids = ok(api.get("/api/audit-logs/", {"action": "line_void"}))["results"]
    assert [row["object_id"] for row in overrides] == [str(soda_line)]
    assert [row["object_id"] for row in voids] == [str(juice_line)]
    assert overrides[0]["reason"] == "Dented crate" and voids[0]["reason"] == "Customer changed mind"

    # close the session with the counted cash: float 1000 + 200 cash − 50 change
    report = ok(api.get(f"/api/cash-sessions/{session['id']}/report/"))
    assert report["kind"] == "X"
    closed = ok(api.post(f"/api/cash-sessions/{session['id']}/close/", {"closing_total": 1150.00}, format="json"))
    assert closed["status"] == "CLOSED" and closed["expected_cash"] == "1150.00" and closed["difference"] == "0.00"
    again = api.post(f"/api/cash-sessions/{session['id']}/close/", {"closing_total": 1150.00}, format="json")
    assert again.status_code == 409
    assert ok(api.get(f"/api/cash-sessions/{session['id']}/report/"))["kind"] == "Z"
