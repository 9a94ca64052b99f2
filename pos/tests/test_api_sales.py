"""The sales API: a sale created with its details, scoping, overrides and voids as the till does them."""

from decimal import Decimal as D

import pytest
from django.urls import reverse
from django.utils import timezone

from cashdesk.tests.factories import open_session, ring_up
from core.models import ApiIdempotencyKey
from core.roles import Role
from inventory.models import StockMovement
from inventory.tests.factories import ProductFactory, stock_in
from pos.people.audit import AuditAction
from pos.people.models import AuditLog
from pos.sales.models import Sale, SaleLine, SaleStatus
from pos.tests.api_support import api_client
from pos.tests.factories import DEFAULT_PIN, CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db

SALES = reverse("salesheader-list")
DETAILS = reverse("salesdetail-list")


def detail_url(pk):
    return reverse("salesdetail-detail", args=[pk])


@pytest.fixture
def products(branch):
    soda = ProductFactory(name="Soda 500ml", selling_price=D("60.00"))
    bread = ProductFactory(name="Bread 400g", selling_price=D("65.00"))
    for product in (soda, bread):
        stock_in(product, branch, 20)
    return soda, bread


def create_sale(client, products, **headers):
    soda, bread = products
    body = {"details": [{"product": soda.pk, "quantity": "2"}, {"product": bread.pk, "quantity": "1"}]}
    return client.post(SALES, body, format="json", **headers)


# ---------------------------------------------------------------------------- create with details
def test_a_sale_is_created_with_its_details_and_awaits_payment(employee, products):
    response = create_sale(api_client(employee), products)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "OPEN" and body["cashier"] == employee.pk
    assert body["total"] == "185.00" and body["amount_due"] == "185.00"
    assert [(d["product_name"], d["quantity"], d["unit_price"], d["line_total"]) for d in body["details"]] == [
        ("Soda 500ml", "2.000", "60.00", "120.00"),
        ("Bread 400g", "1.000", "65.00", "65.00"),
    ]
    assert not StockMovement.objects.filter(kind="SALE").exists()  # stock moves at checkout


def test_the_same_idempotency_key_returns_the_first_sale(employee, products):
    client = api_client(employee)
    first = create_sale(client, products, HTTP_IDEMPOTENCY_KEY="sale-1")
    again = create_sale(client, products, HTTP_IDEMPOTENCY_KEY="sale-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Sale.objects.count() == 1 and SaleLine.objects.count() == 2


def test_a_key_reused_with_another_body_is_a_conflict(employee, products):
    client = api_client(employee)
    create_sale(client, products, HTTP_IDEMPOTENCY_KEY="sale-2")
    response = client.post(SALES, {"details": [{"product": products[0].pk, "quantity": "5"}]}, format="json",
                           HTTP_IDEMPOTENCY_KEY="sale-2")
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"
    assert SaleLine.objects.count() == 2


def test_a_failed_request_keeps_no_key_so_a_retry_runs(employee, products):
    client = api_client(employee)
    bad = client.post(SALES, {"details": [{"product": 999999, "quantity": "1"}]}, format="json",
                      HTTP_IDEMPOTENCY_KEY="sale-3")
    assert bad.status_code == 400
    assert not ApiIdempotencyKey.objects.exists()


def test_a_second_sale_while_the_cart_has_items_is_refused(employee, products):
    client = api_client(employee)
    create_sale(client, products)
    response = create_sale(client, products)
    assert response.status_code == 409
    assert "already have an open sale" in response.json()["detail"]
    assert SaleLine.objects.count() == 2


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "details"),
        ({"details": []}, "details"),
        ({"details": [{"product": 999999, "quantity": "1"}]}, "details"),
        ({"details": [{"quantity": "1"}]}, "details"),
        ({"details": [{"product": "PRODUCT", "quantity": "-1"}]}, "details"),
        ({"details": "soda"}, "details"),
        ({"details": [{"product": 1, "quantity": "1"}], "customer": 999999}, "customer"),
    ],
)
def test_bad_details_are_400_with_field_errors_and_write_nothing(employee, products, body, field):
    if body.get("details") and isinstance(body["details"], list) and body["details"][0].get("product") == "PRODUCT":
        body["details"][0]["product"] = products[0].pk
    response = api_client(employee).post(SALES, body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]
    assert not Sale.objects.exists()


def test_a_quantity_the_unit_does_not_allow_is_refused_whole(employee, products):
    soda, bread = products
    body = {"details": [{"product": soda.pk, "quantity": "1"}, {"product": bread.pk, "quantity": "0.5"}]}
    response = api_client(employee).post(SALES, body, format="json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Item 2:")
    assert not SaleLine.objects.exists()


def test_malformed_json_is_a_400(employee):
    response = api_client(employee).post(SALES, data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_without_a_token_it_is_401(products):
    assert api_client().get(SALES).status_code == 401
    assert create_sale(api_client(), products).status_code == 401


# ---------------------------------------------------------------------------- reading
def test_employees_see_their_own_sales_managers_their_branch(employee, manager, branch, other_branch):
    colleague = UserFactory(role=Role.EMPLOYEE, branch=branch)
    elsewhere = UserFactory(role=Role.MANAGER, branch=other_branch)
    mine = ring_up(employee, branch, ("100", "1"))
    theirs = ring_up(colleague, branch, ("100", "1"))
    far = ring_up(elsewhere, other_branch, ("100", "1"))
    ids = lambda user: {row["id"] for row in api_client(user).get(SALES).json()["results"]}  # noqa: E731
    assert ids(employee) == {mine.pk}
    assert ids(manager) == {mine.pk, theirs.pk}
    assert far.pk not in ids(manager)
    assert api_client(employee).get(reverse("salesheader-detail", args=[theirs.pk])).status_code == 404
    assert api_client(manager).get(reverse("salesheader-detail", args=[far.pk])).status_code == 404
    assert api_client(employee).get(reverse("salesheader-detail", args=[99999])).status_code == 404


def test_filters_by_status_cashier_and_customer(manager, employee, branch):
    customer = CustomerFactory()
    open_session(employee)
    sale = ring_up(employee, branch, ("100", "1"), customer=customer)
    client = api_client(manager)
    assert client.get(SALES, {"status": "OPEN"}).json()["count"] == 1
    assert client.get(SALES, {"status": "COMPLETED"}).json()["count"] == 0
    assert client.get(SALES, {"cashier": employee.pk}).json()["results"][0]["id"] == sale.pk
    assert client.get(SALES, {"customer": customer.pk}).json()["count"] == 1
    assert client.get(SALES, {"date_from": "2000-01-01", "date_to": "2000-01-02"}).json()["count"] == 0
    today = timezone.localdate().isoformat()
    assert client.get(SALES, {"date_from": today, "date_to": today}).json()["count"] == 1
    assert client.get(SALES, {"status": "NOPE"}).status_code == 400


def test_the_list_does_not_grow_queries_with_sales_and_details(manager, branch, django_assert_max_num_queries):
    for _ in range(6):
        cashier = UserFactory(role=Role.EMPLOYEE, branch=branch)
        ring_up(cashier, branch, ("100", "2"), ("50", "1"), ("20", "3"))
    client = api_client(manager)
    with django_assert_max_num_queries(9):
        response = client.get(SALES)
    assert response.status_code == 200 and response.json()["count"] == 6
    assert all(len(row["details"]) == 3 for row in response.json()["results"])
    with django_assert_max_num_queries(6):
        assert client.get(DETAILS).json()["count"] == 18


# ---------------------------------------------------------------------------- overrides and voids
@pytest.fixture
def open_sale(employee, products):
    response = create_sale(api_client(employee), products)
    return Sale.objects.get(pk=response.json()["id"])


def test_a_manager_overrides_a_price_audited_like_the_till(manager, branch, products):
    response = create_sale(api_client(manager), products)
    line = SaleLine.objects.get(sale_id=response.json()["id"], product=products[0])
    response = api_client(manager).patch(
        detail_url(line.pk), {"unit_price": "50.00", "reason": "Dented can"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["unit_price"] == "50.00" and response.json()["line_total"] == "100.00"
    entry = AuditLog.objects.get(action=AuditAction.PRICE_OVERRIDE)
    assert entry.user == manager and entry.reason == "Dented can"
    assert entry.before_data["unit_price"] == "60.00" and entry.after_data["unit_price"] == "50.00"
    assert Sale.objects.get(pk=line.sale_id).total == D("165.00")


def test_a_cashier_needs_a_managers_pin_for_an_override(employee, manager, open_sale):
    line = open_sale.lines.first()
    client = api_client(employee)
    refused = client.patch(detail_url(line.pk), {"unit_price": "1.00", "reason": "friend"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "authorisation_required"
    wrong = client.patch(detail_url(line.pk), {"unit_price": "1.00", "reason": "friend", "authoriser": manager.pk,
                                               "pin": "0000"}, format="json")
    assert wrong.status_code == 400 and "pin" in wrong.json()["errors"]
    line.refresh_from_db()
    assert line.unit_price == D("60.00") and not AuditLog.objects.filter(action=AuditAction.PRICE_OVERRIDE).exists()
    allowed = client.patch(detail_url(line.pk), {"unit_price": "55.00", "reason": "Promo", "authoriser": manager.pk,
                                                 "pin": DEFAULT_PIN}, format="json")
    assert allowed.status_code == 200, allowed.json()
    entry = AuditLog.objects.get(action=AuditAction.PRICE_OVERRIDE)
    assert entry.user == employee and entry.authorised_by == manager


@pytest.mark.parametrize(
    "body, status, field",
    [
        ({"unit_price": "50.00"}, 400, "reason"),
        ({"unit_price": "-1"}, 400, "unit_price"),
        ({"unit_price": "abc", "reason": "x"}, 400, "unit_price"),
        ({}, 400, "unit_price"),
        ({"quantity": "0"}, 400, "quantity"),
    ],
)
def test_bad_overrides_change_nothing(manager, products, body, status, field):
    sale_id = create_sale(api_client(manager), products).json()["id"]
    line = SaleLine.objects.filter(sale_id=sale_id).first()
    response = api_client(manager).patch(detail_url(line.pk), body, format="json")
    assert response.status_code == status
    assert field in response.json()["errors"]
    line.refresh_from_db()
    assert line.unit_price == D("60.00") and line.quantity == D("2")


def test_a_quantity_change_reprices_the_line(employee, open_sale):
    line = open_sale.lines.first()
    response = api_client(employee).patch(detail_url(line.pk), {"quantity": "3"}, format="json")
    assert response.status_code == 200 and response.json()["line_total"] == "180.00"


def test_a_line_void_is_audited_and_needs_a_manager(employee, manager, open_sale):
    line = open_sale.lines.first()
    refused = api_client(employee).delete(detail_url(line.pk) + "?reason=mistake")
    assert refused.status_code == 403 and SaleLine.objects.filter(pk=line.pk).exists()
    no_reason = api_client(employee).delete(
        detail_url(line.pk), {"authoriser": manager.pk, "pin": DEFAULT_PIN}, format="json"
    )
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["errors"]
    done = api_client(employee).delete(
        detail_url(line.pk), {"reason": "Scanned twice", "authoriser": manager.pk, "pin": DEFAULT_PIN}, format="json"
    )
    assert done.status_code == 204
    assert not SaleLine.objects.filter(pk=line.pk).exists()
    entry = AuditLog.objects.get(action=AuditAction.LINE_VOID)
    assert entry.object_id == str(line.pk) and entry.authorised_by == manager and entry.reason == "Scanned twice"
    open_sale.refresh_from_db()
    assert open_sale.total == D("65.00")


def test_lines_of_someone_elses_sale_are_hidden_or_refused(employee, manager, open_sale):
    colleague = UserFactory(role=Role.EMPLOYEE, branch=employee.branch)
    line = open_sale.lines.first()
    assert api_client(colleague).patch(detail_url(line.pk), {"quantity": "1"}, format="json").status_code == 404
    response = api_client(manager).patch(detail_url(line.pk), {"unit_price": "1", "reason": "x"}, format="json")
    assert response.status_code == 409 and "another cashier" in response.json()["detail"]
    assert api_client(manager).delete(detail_url(99999) + "?reason=x").status_code == 404


def test_adding_a_line_to_the_open_sale(employee, open_sale, products):
    response = api_client(employee).post(DETAILS, {"sales_header": open_sale.pk, "product": products[1].pk,
                                                   "quantity": "2"}, format="json")
    assert response.status_code == 201 and response.json()["quantity"] == "3.000"
    assert api_client(employee).post(DETAILS, {"sales_header": 99999, "product": products[1].pk},
                                     format="json").status_code == 400


# ---------------------------------------------------------------------------- sale voids and returns
def test_voiding_the_open_sale(employee, manager, open_sale):
    url = reverse("salesheader-void", args=[open_sale.pk])
    assert api_client(employee).post(url, {"reason": "walked off"}, format="json").status_code == 403
    assert api_client(employee).post(url, {}, format="json").status_code == 400
    response = api_client(employee).post(
        url, {"reason": "Customer walked off", "authoriser": manager.pk, "pin": DEFAULT_PIN}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "VOIDED"
    assert AuditLog.objects.get(action=AuditAction.SALE_VOID).authorised_by == manager
    again = api_client(employee).post(
        url, {"reason": "again", "authoriser": manager.pk, "pin": DEFAULT_PIN}, format="json"
    )
    assert again.status_code == 409


def test_voiding_a_completed_sale_puts_stock_back_and_refunds(manager, branch):
    from cashdesk.services import Tender, sale_checkout

    open_session(manager)
    sale = ring_up(manager, branch, ("100", "2"))
    sale_checkout(sale=sale, user=manager, tenders=[Tender("CASH", D("200"))], idempotency_key="void-1")
    product_id = sale.lines.get().product_id
    response = api_client(manager).post(
        reverse("salesheader-void", args=[sale.pk]), {"reason": "Wrong customer"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "VOIDED"
    assert StockMovement.objects.filter(kind="VOID", product_id=product_id).get().quantity == D("2")
    assert sale.refunds.get().amount == D("200.00")


def test_a_return_refunds_through_the_return_services(manager, branch):
    from cashdesk.services import Tender, sale_checkout

    open_session(manager)
    sale = ring_up(manager, branch, ("100", "3"))
    sale_checkout(sale=sale, user=manager, tenders=[Tender("CASH", D("300"))], idempotency_key="ret-1")
    line = sale.lines.get()
    url = reverse("salesheader-returns", args=[sale.pk])
    client = api_client(manager)
    too_many = client.post(url, {"reason": "Broken", "items": [{"detail": line.pk, "quantity": "4"}]}, format="json")
    assert too_many.status_code == 400 and not sale.returns.exists()
    missing = client.post(url, {"items": [{"detail": line.pk, "quantity": "1"}]}, format="json")
    assert missing.status_code == 400 and "reason" in missing.json()["errors"]
    response = client.post(url, {"reason": "Broken", "items": [{"detail": line.pk, "quantity": "1"}]}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["total"] == "100.00" and body["refunds"] == [{"method": "CASH", "amount": "100.00", "reference": ""}]
    assert AuditLog.objects.filter(action=AuditAction.REFUND).count() == 1
    assert StockMovement.objects.filter(kind="SALE_RETURN").get().quantity == D("1")
    listed = client.get(url).json()
    assert [row["number"] for row in listed] == [body["number"]]


def test_an_open_sale_cannot_be_returned(manager, open_sale):
    line = open_sale.lines.first()
    response = api_client(manager).post(reverse("salesheader-returns", args=[open_sale.pk]),
                                        {"reason": "x", "items": [{"detail": line.pk, "quantity": "1"}]}, format="json")
    assert response.status_code == 409


def test_a_key_used_to_create_a_sale_cannot_pay_with_another_body(employee, products):
    client = api_client(employee)
    sale_id = create_sale(client, products, HTTP_IDEMPOTENCY_KEY="shared").json()["id"]
    response = client.post(reverse("sales-payment-split"), {"sales_header": sale_id, "session": 1,
                                                            "payments": [{"method": "CASH", "amount": "185"}]},
                           format="json", HTTP_IDEMPOTENCY_KEY="shared")
    assert response.status_code == 409 and response.json()["code"] == "idempotency_key_reused"
    assert Sale.objects.get(pk=sale_id).status == SaleStatus.OPEN


def test_keys_are_per_user(employee, products, branch):
    colleague = UserFactory(role=Role.EMPLOYEE, branch=branch)
    first = create_sale(api_client(employee), products, HTTP_IDEMPOTENCY_KEY="same-key")
    second = create_sale(api_client(colleague), products, HTTP_IDEMPOTENCY_KEY="same-key")
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]


def test_a_key_longer_than_64_characters_is_refused(employee, products):
    response = create_sale(api_client(employee), products, HTTP_IDEMPOTENCY_KEY="k" * 65)
    assert response.status_code == 400 and not Sale.objects.exists()
