"""Purchases, the stock ledger, adjustments and alerts through the JSON API: the same services as the
web pages, scoped to the caller's branch, nothing written on bad input."""

from decimal import Decimal

import pytest

from core.roles import Role
from inventory.adjustment_services import stock_adjustment_request
from inventory.models import Purchase, PurchaseLine, StockAdjustment, StockMovement
from inventory.purchase_services import purchase_create, purchase_line_set, purchase_order
from inventory.selectors import stock_on_hand
from inventory.tests.factories import CategoryFactory, ProductFactory, SupplierFactory, UnitFactory, stock_in
from pos.people.models import AuditLog
from pos.tests.api_support import api_client
from pos.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
client_for = api_client  # a JWT-carrying API client for a user


@pytest.fixture
def shop(branch, other_branch, manager):
    unit = UnitFactory()
    category = CategoryFactory()
    soda = ProductFactory(name="Soda", category=category, unit=unit, reorder_level=Decimal("5"))
    sugar = ProductFactory(name="Sugar", category=category, unit=unit, reorder_level=Decimal("5"))
    stock_in(soda, branch, 10, user=manager)
    stock_in(soda, other_branch, 4)  # low there: an alert at the other branch
    return {"soda": soda, "sugar": sugar, "supplier": SupplierFactory(name="Bidco"), "unit": unit}


def test_purchase_with_details_in_one_request_then_receive(manager, shop, branch):
    api = client_for(manager)
    soda, sugar = shop["soda"], shop["sugar"]
    body = {
        "supplier": shop["supplier"].pk,
        "supplier_reference": "INV-77",
        "details": [
            {"product": soda.pk, "quantity": "24", "unit_cost": "40.00"},
            {"product": sugar.pk, "quantity": "10"},
        ],
    }
    response = api.post("/api/purchaseheaders/", body, format="json")
    assert response.status_code == 201, response.content
    purchase = response.json()
    assert purchase["status"] == "ORDERED" and purchase["branch"] == branch.pk
    assert purchase["total_ordered"] == "1660.00"  # 24 × 40 + 10 × 70 (the product's cost)
    assert [d["quantity"] for d in purchase["details"]] == ["24.000", "10.000"]

    line = purchase["details"][0]
    partly = api.post(
        f"/api/purchaseheaders/{purchase['id']}/receive/", {"details": [{"id": line["id"], "quantity": "20"}]},
        format="json",
    )
    assert partly.status_code == 200, partly.content
    assert partly.json()["status"] == "PARTLY_RECEIVED"
    assert stock_on_hand(product_id=soda.pk, branch_id=branch.pk) == Decimal("30")
    rest = api.post(f"/api/purchaseheaders/{purchase['id']}/receive/", {}, format="json")  # everything outstanding
    assert rest.status_code == 200 and rest.json()["status"] == "RECEIVED"
    assert stock_on_hand(product_id=soda.pk, branch_id=branch.pk) == Decimal("34")
    assert stock_on_hand(product_id=sugar.pk, branch_id=branch.pk) == Decimal("10")
    movements = api.get(f"/api/stock-movements/?product={soda.pk}&kind=PURCHASE_RECEIPT").json()
    assert [m["quantity"] for m in movements["results"]] == ["4.000", "20.000"]
    assert movements["results"][0]["reference_type"] == "inventory.purchase"
    assert AuditLog.objects.filter(action="purchase_received").count() == 2
    again = api.post(f"/api/purchaseheaders/{purchase['id']}/receive/", {}, format="json")
    assert again.status_code == 409  # received already


@pytest.mark.parametrize(
    "details,where",
    [
        ([], "details"),
        ([{"product": 999999, "quantity": "1"}], "details"),
        ([{"quantity": "1"}], "details"),
        ([{"product": "SODA", "quantity": "-2"}], "details"),
        ([{"product": "SODA", "quantity": "0"}], "details"),
        ([{"product": "SODA", "quantity": "1.5"}], "details"),  # whole pieces only
        ([{"product": "SODA", "quantity": "2", "unit_cost": "-1"}], "details"),
        ([{"product": "SODA", "quantity": "2"}, {"product": "SODA", "quantity": "1"}], "details"),
        (None, "details"),
    ],
)
def test_bad_purchases_are_400_and_write_nothing(manager, shop, details, where):
    if details is not None:
        details = [{**d, "product": shop["soda"].pk} if d.get("product") == "SODA" else d for d in details]
    body = {"supplier": shop["supplier"].pk}
    if details is not None:
        body["details"] = details
    response = client_for(manager).post("/api/purchaseheaders/", body, format="json")
    assert response.status_code == 400, response.content
    assert where in response.json()["errors"]
    assert not Purchase.objects.exists() and not PurchaseLine.objects.exists()


def test_a_service_refusal_on_one_line_rolls_back_the_whole_order(manager, shop):
    shop["sugar"].is_active = False
    shop["sugar"].save()
    body = {"supplier": shop["supplier"].pk, "details": [
        {"product": shop["soda"].pk, "quantity": "2"}, {"product": shop["sugar"].pk, "quantity": "2"},
    ]}
    response = client_for(manager).post("/api/purchaseheaders/", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["details"][1] == {"product": ["Sugar is deactivated."]}
    assert not Purchase.objects.exists()


def test_receive_refuses_bad_quantities_and_unknown_lines(manager, shop, branch):
    purchase = purchase_create(user=manager, supplier=shop["supplier"], branch=branch)
    line = purchase_line_set(user=manager, purchase=purchase, product=shop["soda"], quantity=Decimal("5"))
    purchase_order(user=manager, purchase=purchase)
    api = client_for(manager)
    url = f"/api/purchaseheaders/{purchase.pk}/receive/"
    assert api.post(url, {"details": [{"id": line.pk, "quantity": "-1"}]}, format="json").status_code == 400
    assert api.post(url, {"details": [{"id": 999999, "quantity": "1"}]}, format="json").status_code == 400
    over = api.post(url, {"details": [{"id": line.pk, "quantity": "9"}]}, format="json")
    assert over.status_code == 400 and "over_receive" in over.json()["errors"]
    assert api.post(url, {"details": "x"}, format="json").status_code == 400
    assert stock_on_hand(product_id=shop["soda"].pk, branch_id=branch.pk) == Decimal("10")
    ok = api.post(url, {"details": [{"id": line.pk, "quantity": "9"}], "over_receive": True,
                        "over_receive_reason": "Bonus stock"}, format="json")
    assert ok.status_code == 200
    assert stock_on_hand(product_id=shop["soda"].pk, branch_id=branch.pk) == Decimal("19")


def test_cancel_and_update_header(manager, shop, branch):
    api = client_for(manager)
    created = api.post("/api/purchaseheaders/", {"supplier": shop["supplier"].pk, "place_order": False,
                                                  "details": [{"product": shop["soda"].pk, "quantity": "1"}]},
                       format="json").json()
    assert created["status"] == "DRAFT"
    patched = api.patch(f"/api/purchaseheaders/{created['id']}/", {"notes": "Call first"}, format="json")
    assert patched.status_code == 200 and patched.json()["notes"] == "Call first"
    assert api.post(f"/api/purchaseheaders/{created['id']}/receive/", {}, format="json").status_code == 409
    cancelled = api.post(f"/api/purchaseheaders/{created['id']}/cancel/", {"reason": "No"}, format="json")
    assert cancelled.json()["status"] == "CANCELLED"
    assert api.delete(f"/api/purchaseheaders/{created['id']}/").status_code == 405


def test_other_branches_records_are_not_returned(manager, owner, shop, other_branch):
    other_manager = UserFactory(role=Role.MANAGER, branch=other_branch)
    theirs = purchase_create(user=other_manager, supplier=shop["supplier"], branch=other_branch)
    adjustment = stock_adjustment_request(user=other_manager, product=shop["soda"], branch=other_branch,
                                          reason="DAMAGED", delta=Decimal("-1"))
    api = client_for(manager)
    assert api.get("/api/purchaseheaders/").json()["count"] == 0
    assert api.get(f"/api/purchaseheaders/{theirs.pk}/").status_code == 404
    assert api.get(f"/api/stock-adjustments/{adjustment.pk}/").status_code == 404
    assert api.post(f"/api/stock-adjustments/{adjustment.pk}/approve/", {}, format="json").status_code == 404
    branches = {m["branch"] for m in api.get("/api/stock-movements/").json()["results"]}
    assert branches == {manager.branch_id}
    assert api.get("/api/stock-alerts/").json()["count"] == 0  # the low soda is at the other branch
    # The owner sees every branch.
    owner_api = client_for(owner)
    assert owner_api.get("/api/purchaseheaders/").json()["count"] == 1
    assert owner_api.get("/api/stock-alerts/").json()["results"][0]["branch"] == other_branch.pk
    # A manager may not buy for another branch.
    response = api.post("/api/purchaseheaders/", {"supplier": shop["supplier"].pk, "branch": other_branch.pk,
                                                   "details": [{"product": shop["soda"].pk, "quantity": "1"}]},
                        format="json")
    assert response.status_code == 400 and "branch" in response.json()["errors"]


def test_adjustment_request_approve_reject(employee, manager, shop, branch):
    api = client_for(employee)
    soda = shop["soda"]
    response = api.post("/api/stock-adjustments/", {"product": soda.pk, "reason": "DAMAGED", "delta": "-2",
                                                     "note": "Dropped"}, format="json")
    assert response.status_code == 201, response.content
    adjustment = response.json()
    assert adjustment["status"] == "PENDING" and adjustment["expected_quantity"] == "10.000"
    assert stock_on_hand(product_id=soda.pk, branch_id=branch.pk) == Decimal("10")  # a request changes nothing
    assert api.post(f"/api/stock-adjustments/{adjustment['id']}/approve/", {}, format="json").status_code == 403

    boss = client_for(manager)
    approved = boss.post(f"/api/stock-adjustments/{adjustment['id']}/approve/", {"note": "ok"}, format="json")
    assert approved.status_code == 200 and approved.json()["status"] == "APPROVED"
    assert stock_on_hand(product_id=soda.pk, branch_id=branch.pk) == Decimal("8")
    assert (
        boss.post(f"/api/stock-adjustments/{adjustment['id']}/reject/", {"note": "no"}, format="json").status_code
        == 409
    )
    assert StockMovement.objects.filter(kind="ADJUSTMENT", product=soda).count() == 1

    counted = api.post("/api/stock-adjustments/", {"product": soda.pk, "reason": "COUNT_CORRECTION",
                                                    "counted_quantity": "7"}, format="json").json()
    assert counted["delta"] == "-1.000"
    no_note = boss.post(f"/api/stock-adjustments/{counted['id']}/reject/", {}, format="json")
    assert no_note.status_code == 400 and "note" in no_note.json()["errors"]
    rejected = boss.post(f"/api/stock-adjustments/{counted['id']}/reject/", {"note": "Recount"}, format="json")
    assert rejected.json()["status"] == "REJECTED"
    assert AuditLog.objects.filter(action__in=["adjustment_approved", "adjustment_rejected"]).count() == 2


@pytest.mark.parametrize(
    "body,field",
    [
        ({"reason": "DAMAGED", "delta": "-2"}, "product"),
        ({"product": "SODA", "delta": "-2"}, "reason"),
        ({"product": "SODA", "reason": "DAMAGED"}, "non_field_errors"),
        ({"product": "SODA", "reason": "DAMAGED", "delta": "-2", "counted_quantity": "3"}, "non_field_errors"),
        ({"product": "SODA", "reason": "DAMAGED", "counted_quantity": "-3"}, "counted_quantity"),
        ({"product": "SODA", "reason": "DAMAGED", "delta": "-50"}, "delta"),  # below zero
        ({"product": "SODA", "reason": "DAMAGED", "delta": "abc"}, "delta"),
        ({"product": "SODA", "reason": "OTHER", "delta": "1"}, "note"),
        ({"product": "SODA", "reason": "NOPE", "delta": "1"}, "reason"),
    ],
)
def test_bad_adjustment_requests(employee, shop, body, field):
    body = {**body, "product": shop["soda"].pk} if body.get("product") == "SODA" else body
    response = client_for(employee).post("/api/stock-adjustments/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"], response.json()
    assert not StockAdjustment.objects.exists()


def test_employees_see_only_their_own_requests(employee, manager, shop, branch):
    mine = stock_adjustment_request(user=employee, product=shop["soda"], branch=branch, reason="DAMAGED",
                                    delta=Decimal("-1"))
    other = stock_adjustment_request(user=UserFactory(role=Role.EMPLOYEE, branch=branch), product=shop["soda"],
                                     branch=branch, reason="DAMAGED", delta=Decimal("-1"))
    ids = [row["id"] for row in client_for(employee).get("/api/stock-adjustments/").json()["results"]]
    assert ids == [mine.pk]
    assert client_for(employee).get(f"/api/stock-adjustments/{other.pk}/").status_code == 404
    assert client_for(manager).get("/api/stock-adjustments/?status=PENDING").json()["count"] == 2


def test_movements_are_read_only_filterable_and_for_managers(employee, manager, shop):
    api = client_for(manager)
    assert api.post("/api/stock-movements/", {}, format="json").status_code == 405
    assert client_for(employee).get("/api/stock-movements/").status_code == 403
    rows = api.get("/api/stock-movements/?kind=OPENING&created_after=2000-01-01T00:00:00Z").json()["results"]
    assert len(rows) == 1 and rows[0]["product_name"] == "Soda" and rows[0]["balance_after"] == "10.000"
    assert api.get("/api/stock-movements/?kind=NOPE").status_code == 400
    assert api.get("/api/stock-movements/?created_after=yesterday").status_code == 400


def test_stock_lists_are_bounded_in_queries(owner, manager, shop, branch, django_assert_max_num_queries):
    for _ in range(10):
        product = ProductFactory(category=shop["soda"].category, unit=shop["unit"], reorder_level=Decimal("5"))
        stock_in(product, branch, 2, user=manager)  # low: opens an alert
        stock_adjustment_request(user=manager, product=product, branch=branch, reason="DAMAGED", delta=Decimal("-1"))
        purchase = purchase_create(user=manager, supplier=shop["supplier"], branch=branch)
        purchase_line_set(user=manager, purchase=purchase, product=product, quantity=Decimal("5"))
    api = client_for(owner)
    for url in ("/api/stock-movements/", "/api/stock-adjustments/", "/api/stock-alerts/", "/api/purchaseheaders/",
                "/api/products/low_stock/"):
        with django_assert_max_num_queries(7):
            response = api.get(url)
        assert response.status_code == 200 and response.json()["count"] >= 10, url
