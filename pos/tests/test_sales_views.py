"""Sales pages, returns and voids through the browser views, customers pages, and where cashiers land."""

import re
import subprocess
from decimal import Decimal as D

import pytest
from django.urls import reverse

from cashdesk.services import Tender, sale_checkout
from cashdesk.tests.factories import open_session
from core.roles import Role
from inventory.tests.factories import ProductFactory, stock_in
from pos.customers.models import Customer
from pos.people.audit import AuditAction
from pos.people.models import AuditLog
from pos.sales.models import Refund, SaleReturn, SaleStatus
from pos.sales.services import sale_add_product, sale_get_or_open, sale_line_override_price, sale_line_remove
from pos.tests.factories import DEFAULT_PASSWORD, DEFAULT_PIN, CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


def pdf_text(content: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True
    ).stdout.decode()


@pytest.fixture
def soap(branch):
    product = ProductFactory(name="Geisha soap 225g", selling_price=D("116.00"))
    stock_in(product, branch, 50)
    return product


def sell(cashier, product, quantity="2", key=None, customer=None, tenders=None):
    if not cashier.cash_sessions.filter(status="OPEN").exists():
        open_session(cashier)
    sale = sale_get_or_open(cashier=cashier)
    sale_add_product(sale=sale, product=product, user=cashier, quantity=D(quantity))
    if customer:
        from pos.sales.services import sale_set_customer

        sale_set_customer(sale=sale, customer=customer, user=cashier)
    sale.refresh_from_db()
    return sale_checkout(sale=sale, user=cashier, tenders=tenders or [Tender("CASH", sale.total)],
                         idempotency_key=key or f"k-{sale.pk}")


# ---------------------------------------------------------------------------- the list
def test_cashiers_see_their_own_sales_managers_see_the_branch(employee_client, manager_client, employee, manager, soap,
                                                              other_branch):
    mine = sell(employee, soap)
    theirs = sell(manager, soap)
    stock_in(soap, other_branch, 10)
    elsewhere = sell(UserFactory(branch=other_branch), soap)
    page = employee_client.get(reverse("sales:list")).content.decode()
    assert mine.number in page and theirs.number not in page and elsewhere.number not in page
    assert 'name="cashier"' not in page  # no cashier filter for someone who sees only their own
    page = manager_client.get(reverse("sales:list")).content.decode()
    assert mine.number in page and theirs.number in page and elsewhere.number not in page


def test_filters_and_the_fragment(manager_client, employee, manager, soap):
    first = sell(employee, soap)
    second = sell(manager, soap)
    fragment = manager_client.get(reverse("sales:list"), {"cashier": employee.pk}, **HX).content.decode()
    assert "<html" not in fragment and first.number in fragment and second.number not in fragment
    by_number = manager_client.get(reverse("sales:list"), {"number": second.number}).content.decode()
    assert second.number in by_number and first.number not in by_number
    voided = manager_client.get(reverse("sales:list"), {"status": "VOIDED"}).content.decode()
    assert first.number not in voided


def test_the_list_is_a_few_queries(manager_client, employee, soap, django_assert_max_num_queries):
    for _ in range(8):
        sell(employee, soap, quantity="1")
    with django_assert_max_num_queries(12):
        manager_client.get(reverse("sales:list"))


# ---------------------------------------------------------------------------- the detail
def test_detail_shows_lines_payments_and_the_audit_trail(manager_client, employee, manager, soap):
    sale = sale_get_or_open(cashier=employee)
    line = sale_add_product(sale=sale, product=soap, user=employee)
    sale_line_override_price(line=line, unit_price=D("100"), user=employee, reason="dented", authorised_by=manager)
    gone = sale_add_product(sale=sale, product=ProductFactory(name="Mistake"), user=employee)
    sale_line_remove(line=gone, user=employee, reason="scanned by mistake", authorised_by=manager)
    open_session(employee)
    sale.refresh_from_db()
    sale = sale_checkout(sale=sale, user=employee, tenders=[Tender("CASH", D("100"))], idempotency_key="d1")
    page = manager_client.get(reverse("sales:detail", args=[sale.pk])).content.decode()
    assert "Geisha soap 225g" in page and "Price override" in page and "Line void" in page
    assert "dented" in page and "scanned by mistake" in page and "116.00 → 100.00" in page
    assert 'data-testid="void-link"' in page and 'data-testid="return-link"' in page
    fragment = manager_client.get(reverse("sales:detail", args=[sale.pk]), **HX).content.decode()
    assert "<html" not in fragment and 'id="sale-body"' in fragment


def test_a_cashier_cannot_open_someone_elses_sale(employee_client, manager, soap):
    theirs = sell(manager, soap)
    assert employee_client.get(reverse("sales:detail", args=[theirs.pk])).status_code == 404
    assert employee_client.get(reverse("sales:receipt", args=[theirs.pk])).status_code == 404


def test_find_by_number_or_qr(manager_client, employee, soap):
    sale = sell(employee, soap)
    response = manager_client.get(reverse("sales:find"), {"q": sale.number.lower()})
    assert response["Location"] == reverse("sales:detail", args=[sale.pk])
    response = manager_client.get(reverse("sales:find"), {"q": str(sale.sequence)})
    assert response["Location"] == reverse("sales:detail", args=[sale.pk])
    missing = manager_client.get(reverse("sales:find"), {"q": "MAIN-999999"})
    assert missing.status_code == 200 and "No sale you can see" in missing.content.decode()


def test_scanning_a_receipt_qr_at_the_till_opens_the_sale(employee_client, employee, soap):
    sale = sell(employee, soap)
    response = employee_client.post(reverse("till:scan"), {"q": sale.number}, **HX)
    assert response["HX-Redirect"] == f"{reverse('sales:find')}?q={sale.number}"


# ---------------------------------------------------------------------------- returns
def test_a_return_with_a_managers_pin_and_its_credit_note(employee_client, employee, manager, soap):
    sale = sell(employee, soap, quantity="3")
    line = sale.lines.get()
    url = reverse("sales:return", args=[sale.pk])
    page = employee_client.get(url).content.decode()
    assert 'data-testid="pin-box"' in page and "All 3" in page
    refused = employee_client.post(url, {f"qty_{line.pk}": "1", f"restock_{line.pk}": "on", "reason": "leaking",
                                         "refund_to": "ORIGINAL"})
    assert "needs a manager" in refused.content.decode() and not SaleReturn.objects.exists()
    done = employee_client.post(url, {f"qty_{line.pk}": "1", f"restock_{line.pk}": "on", "reason": "leaking",
                                      "refund_to": "ORIGINAL", "authoriser": manager.pk, "pin": DEFAULT_PIN})
    assert done.status_code == 302
    sale_return = SaleReturn.objects.get()
    assert sale_return.authorised_by == manager and sale_return.total == D("116.00")
    assert Refund.objects.get().method == "CASH"
    detail = employee_client.get(done["Location"]).content.decode()
    assert sale_return.number in detail and "Credit note" in detail
    pdf = employee_client.get(reverse("sales:credit_note", args=[sale_return.pk]))
    text = pdf_text(pdf.content)
    assert "CREDIT NOTE" in text and sale_return.number in text and sale.number in text and "116.00" in text


@pytest.mark.parametrize("quantity,message", [("4", "3 can still be returned"), ("-1", "cannot be negative"),
                                               ("0", "Choose at least one item"), ("x", "Enter a number")])
def test_bad_returns_are_clear_and_change_nothing(manager_client, manager, employee, soap, quantity, message):
    open_session(manager)
    sale = sell(employee, soap, quantity="3")
    line = sale.lines.get()
    response = manager_client.post(reverse("sales:return", args=[sale.pk]),
                                   {f"qty_{line.pk}": quantity, "reason": "x", "refund_to": "CASH"})
    assert message in response.content.decode()
    line.refresh_from_db()
    assert line.returned_quantity == 0 and not SaleReturn.objects.exists()


def test_a_return_without_a_reason_is_refused(manager_client, employee, soap):
    sale = sell(employee, soap)
    line = sale.lines.get()
    response = manager_client.post(
        reverse("sales:return", args=[sale.pk]), {f"qty_{line.pk}": "1", "refund_to": "CASH"}
    )
    assert "Say why the goods came back" in response.content.decode()


# ---------------------------------------------------------------------------- voids of completed sales
def test_a_manager_voids_a_completed_sale(manager_client, manager, employee, soap):
    open_session(manager)
    sale = sell(employee, soap)
    page = manager_client.get(reverse("sales:void", args=[sale.pk])).content.decode()
    assert "Every item goes back on the shelf" in page and 'data-testid="pin-box"' not in page
    response = manager_client.post(reverse("sales:void", args=[sale.pk]), {"reason": "Duplicate sale"})
    assert response.status_code == 302
    sale.refresh_from_db()
    assert sale.status == SaleStatus.VOIDED and sale.voided_by == manager
    assert Refund.objects.get().cash_session.cashier == manager
    assert "Voided" in manager_client.get(reverse("sales:detail", args=[sale.pk])).content.decode()


def test_a_void_without_the_managers_drawer_open_is_refused(manager_client, employee, soap):
    sale = sell(employee, soap)
    response = manager_client.post(reverse("sales:void", args=[sale.pk]), {"reason": "Duplicate sale"})
    assert "open a cash session first" in response.content.decode()
    sale.refresh_from_db()
    assert sale.status == SaleStatus.COMPLETED


# ---------------------------------------------------------------------------- customers
def test_customers_list_search_and_fragment(employee_client):
    CustomerFactory(name="Wanjiku Kamau", phone_number="+254711000101")
    CustomerFactory(name="Baraka Otieno")
    page = employee_client.get(reverse("customers:list")).content.decode()
    assert "Wanjiku Kamau" in page and "Baraka Otieno" in page
    fragment = employee_client.get(reverse("customers:list"), {"q": "0711000101"}, **HX).content.decode()
    assert "<html" not in fragment and "Wanjiku Kamau" in fragment and "Baraka" not in fragment


def test_only_the_owner_sets_a_credit_limit(employee_client, owner_client, owner):
    response = employee_client.post(reverse("customers:create"), {"name": "Mutua Hardware", "credit_limit": "50000"})
    customer = Customer.objects.get(name="Mutua Hardware")
    assert response.status_code == 302 and customer.credit_limit == 0  # the field is disabled for them
    owner_client.post(reverse("customers:edit", args=[customer.pk]),
                      {"name": "Mutua Hardware", "credit_limit": "50000", "is_active": "on"})
    customer.refresh_from_db()
    assert customer.credit_limit == D("50000.00")
    entry = AuditLog.objects.get(action=AuditAction.CREDIT_LIMIT_CHANGED)
    assert entry.user == owner and entry.after_data == {"credit_limit": "50000.00"}


def test_customer_service_refuses_a_limit_without_permission(manager):
    from pos.customers.services import CustomerError, customer_create

    with pytest.raises(CustomerError, match="Only the owner"):
        customer_create(actor=manager, data={"name": "X", "credit_limit": D("10")})
    assert not Customer.objects.exists()


def test_customer_edit_errors(employee_client):
    CustomerFactory(name="A", phone_number="+254711000101")
    other = CustomerFactory(name="B")
    response = employee_client.post(
        reverse("customers:edit", args=[other.pk]), {"name": "B", "phone_number": "0711000101"}
    )
    assert "already has this phone number" in response.content.decode()
    response = employee_client.post(reverse("customers:edit", args=[other.pk]), {"name": "B", "kra_pin": "123"})
    assert "KRA PIN" in response.content.decode()


def test_customer_history_and_total_spent(manager_client, employee, manager, soap):
    open_session(manager)
    person = CustomerFactory(name="Amina Hassan")
    first = sell(employee, soap, quantity="2", customer=person)  # 232
    sell(employee, soap, quantity="1", customer=person)  # 116
    from cashdesk.refund_services import sale_return_refund
    from pos.sales.services import ReturnItem

    sale_return_refund(sale=first, items=[ReturnItem(first.lines.get().pk, D("1"))], user=manager, reason="x")
    page = manager_client.get(reverse("customers:detail", args=[person.pk])).content.decode()
    assert "KES 232.00" in page  # 232 + 116 − 116 returned
    assert first.number in page and "Earned on a sale" in page
    fragment = manager_client.get(reverse("customers:detail", args=[person.pk]), **HX).content.decode()
    assert "<html" not in fragment and first.number in fragment


# ---------------------------------------------------------------------------- where people land
@pytest.mark.parametrize("role,landing", [(Role.EMPLOYEE, "/till/"), (Role.MANAGER, "/reports/")])
def test_cashiers_land_on_the_till(client, branch, role, landing):
    person = UserFactory(role=role, branch=branch, phone_number="+254722333444")
    response = client.post(reverse("account_login"), {"login": "0722 333 444", "password": DEFAULT_PASSWORD})
    assert response.status_code == 302 and response["Location"] == landing, response.content[:500]
    assert person.pk


def test_next_still_wins_for_cashiers(client, branch):
    UserFactory(role=Role.EMPLOYEE, branch=branch, phone_number="+254722333445")
    response = client.post(
        f"{reverse('account_login')}?next=/sales/", {"login": "0722333445", "password": DEFAULT_PASSWORD}
    )
    assert response["Location"] == "/sales/"


def test_html_of_sales_pages_has_no_inline_script_or_style(manager_client, employee, soap):
    sale = sell(employee, soap)
    for url in (
        reverse("sales:list"),
        reverse("sales:detail", args=[sale.pk]),
        reverse("sales:return", args=[sale.pk]),
        reverse("sales:void", args=[sale.pk]),
        reverse("sales:receipt", args=[sale.pk]),
        reverse("customers:list"),
    ):
        html = manager_client.get(url).content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), url
        assert not re.search(r"\sstyle=\"", html), url
        assert not re.search(r"\son[a-z]+=\"", html), url


def test_a_cashier_takes_a_return_for_a_colleagues_sale_with_the_receipt(
    employee_client, employee, manager, branch, soap
):
    colleague = UserFactory(role=Role.EMPLOYEE, branch=branch, full_name="Kamau Mwangi")
    sale = sell(colleague, soap)
    open_session(employee)
    assert employee_client.get(reverse("sales:detail", args=[sale.pk])).status_code == 404  # not theirs to browse
    found = employee_client.get(reverse("sales:find"), {"q": sale.number})
    assert found["Location"] == reverse("sales:return", args=[sale.pk])
    line = sale.lines.get()
    done = employee_client.post(reverse("sales:return", args=[sale.pk]),
                                {f"qty_{line.pk}": "1", "reason": "torn", "refund_to": "CASH",
                                 "authoriser": manager.pk, "pin": DEFAULT_PIN})
    assert done["Location"].startswith(reverse("sales:return", args=[sale.pk]))
    page = employee_client.get(done["Location"]).content.decode()
    sale_return = SaleReturn.objects.get()
    assert sale_return.number in page and 'data-testid="credit-note-link"' in page
    assert employee_client.get(reverse("sales:credit_note", args=[sale_return.pk])).status_code == 200
    assert Refund.objects.get().cash_session.cashier == employee  # the cash left the cashier's own drawer


def test_no_returns_for_another_branchs_sale(employee_client, other_branch, soap):
    stock_in(soap, other_branch, 5)
    sale = sell(UserFactory(branch=other_branch), soap)
    assert employee_client.get(reverse("sales:return", args=[sale.pk])).status_code == 404
    assert employee_client.get(reverse("sales:find"), {"q": sale.number}).status_code == 200


def test_who_may_print_a_receipt_is_decided_in_one_place(employee, soap, rf):
    from pos.sales.receipts import receipt_grant, receipt_may_print

    request = rf.get("/")
    request.session = {}
    cart = sale_get_or_open(cashier=employee)
    receipt_grant(request, cart, "original")
    assert receipt_may_print(request, cart) is None  # no receipt before the sale is completed
    sold = sell(employee, soap)
    assert sold.pk == cart.pk and receipt_may_print(request, sold) == "original"
    colleague = UserFactory(role=Role.EMPLOYEE, branch=employee.branch)
    theirs = sell(colleague, soap)
    assert receipt_may_print(request, theirs) is None  # not this login's checkout: a copy needs a manager
    receipt_grant(request, theirs, "copy")
    assert receipt_may_print(request, theirs) == "copy"
