"""The till's rules as services: discounts and their limit, price overrides, voids, hold/resume, notes."""

from decimal import Decimal as D

import pytest

from cashdesk.services import Tender, sale_checkout
from cashdesk.tests.factories import open_session
from core.roles import Role
from inventory.selectors import stock_on_hand
from inventory.tests.factories import ProductFactory, stock_in
from pos.people.audit import AuditAction
from pos.people.models import AuditLog, ShopSettings
from pos.sales.models import Sale, SaleStatus
from pos.sales.services import (
    AuthorisationRequired,
    SaleConflictError,
    SaleError,
    sale_add_product,
    sale_get_or_open,
    sale_hold,
    sale_line_override_price,
    sale_line_remove,
    sale_line_set_discount,
    sale_line_set_quantity,
    sale_receipt_reprint,
    sale_resume,
    sale_set_cart_discount,
    sale_set_customer,
    sale_set_note,
    sale_void_open,
)
from pos.tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db


def set_shop(**values):
    """Change the owner's settings the way the settings page does (the cached copy is dropped)."""
    from django.core.cache import cache

    from pos.people.selectors import SHOP_SETTINGS_CACHE_KEY

    ShopSettings.objects.filter(pk=1).update(**values)
    cache.delete(SHOP_SETTINGS_CACHE_KEY)


@pytest.fixture
def cart(employee):
    sale = sale_get_or_open(cashier=employee)
    line = sale_add_product(
        sale=sale, product=ProductFactory(selling_price=D("200.00"), name="Cooking oil 1l"), user=employee
    )
    return sale, line


def test_a_small_discount_needs_no_manager_and_is_audited(cart, employee):
    sale, line = cart
    line = sale_line_set_discount(line=line, kind="PERCENT", value=D("5"), user=employee)
    sale.refresh_from_db()
    assert line.discount_amount == D("10.00") and sale.total == D("190.00")
    entry = AuditLog.objects.get(action=AuditAction.DISCOUNT)
    assert entry.user == employee and entry.authorised_by is None
    assert entry.before_data["discount_amount"] == "0.00" and entry.after_data["discount_amount"] == "10.00"


@pytest.mark.parametrize("kind,value", [("PERCENT", D("5.01")), ("AMOUNT", D("10.01"))])
def test_a_discount_above_the_limit_needs_a_manager(cart, employee, kind, value):
    sale, line = cart
    with pytest.raises(AuthorisationRequired, match="above 5%"):
        sale_line_set_discount(line=line, kind=kind, value=value, user=employee)
    sale.refresh_from_db()
    assert sale.total == D("200.00") and not AuditLog.objects.filter(action=AuditAction.DISCOUNT).exists()


def test_a_manager_pin_authorises_a_big_discount(cart, employee, manager):
    sale, line = cart
    sale_line_set_discount(
        line=line, kind="PERCENT", value=D("20"), user=employee, authorised_by=manager, reason="bulk buyer"
    )
    sale.refresh_from_db()
    assert sale.total == D("160.00")
    entry = AuditLog.objects.get(action=AuditAction.DISCOUNT)
    assert (entry.user, entry.authorised_by, entry.reason) == (employee, manager, "bulk buyer")


def test_another_cashier_cannot_authorise(cart, employee):
    _, line = cart
    with pytest.raises(AuthorisationRequired):
        sale_line_set_discount(line=line, kind="PERCENT", value=D("50"), user=employee, authorised_by=UserFactory())


def test_a_manager_of_another_branch_cannot_authorise(cart, employee, other_branch):
    _, line = cart
    elsewhere = UserFactory(role=Role.MANAGER, branch=other_branch)
    with pytest.raises(AuthorisationRequired):
        sale_line_set_discount(line=line, kind="PERCENT", value=D("50"), user=employee, authorised_by=elsewhere)


def test_the_owner_sets_the_limit(cart, employee):
    set_shop(cashier_discount_limit_percent=D("25"))
    _, line = cart
    line = sale_line_set_discount(line=line, kind="PERCENT", value=D("25"), user=employee)
    assert line.discount_amount == D("50.00")


@pytest.mark.parametrize(
    "kind,value,message",
    [("AMOUNT", D("200.01"), "bigger than"), ("PERCENT", D("101"), "more than 100"), ("AMOUNT", D("-1"), "negative"),
     ("BOGUS", D("1"), "KES or %"), ("AMOUNT", "abc", "not a number")],
)
def test_bad_discounts_change_nothing(cart, manager, kind, value, message):
    sale, line = cart
    sale.cashier = manager
    Sale.objects.filter(pk=sale.pk).update(cashier=manager, open_for_cashier=manager.pk)
    with pytest.raises(SaleError, match=message):
        sale_line_set_discount(line=line, kind=kind, value=value, user=manager)
    sale.refresh_from_db()
    line.refresh_from_db()
    assert sale.total == D("200.00") and line.discount_kind == ""


def test_cart_discount_is_shared_and_limited(employee, manager):
    sale = sale_get_or_open(cashier=employee)
    sale_add_product(sale=sale, product=ProductFactory(selling_price=D("116.00"), tax_class="B"), user=employee)
    sale_add_product(sale=sale, product=ProductFactory(selling_price=D("84.00"), tax_class="A"), user=employee)
    sale = sale_set_cart_discount(sale=sale, kind="AMOUNT", value=D("10"), user=employee)
    assert (sale.cart_discount, sale.total) == (D("10.00"), D("190.00"))
    assert sum(line.cart_discount_share for line in sale.lines.all()) == D("10.00")
    with pytest.raises(AuthorisationRequired):
        sale_set_cart_discount(sale=sale, kind="PERCENT", value=D("10"), user=employee)
    sale = sale_set_cart_discount(sale=sale, kind="PERCENT", value=D("10"), user=employee, authorised_by=manager)
    assert sale.total == D("180.00")
    sale = sale_set_cart_discount(sale=sale, kind="", value=D("0"), user=employee)
    assert sale.total == D("200.00") and sale.cart_discount == D("0.00")


def test_a_price_override_needs_a_manager_and_a_reason(cart, employee, manager):
    sale, line = cart
    with pytest.raises(AuthorisationRequired):
        sale_line_override_price(line=line, unit_price=D("150"), user=employee, reason="damaged tin")
    with pytest.raises(SaleError, match="Say why"):
        sale_line_override_price(line=line, unit_price=D("150"), user=employee, reason=" ", authorised_by=manager)
    line = sale_line_override_price(
        line=line, unit_price=D("150"), user=employee, reason="damaged tin", authorised_by=manager
    )
    sale.refresh_from_db()
    assert (line.unit_price, line.list_price, line.price_overridden_by, sale.total) == (
        D("150.00"),
        D("200.00"),
        manager,
        D("150.00"),
    )
    entry = AuditLog.objects.get(action=AuditAction.PRICE_OVERRIDE)
    assert entry.model_name == "pos.SaleLine" and entry.object_id == str(line.pk)
    assert entry.before_data["unit_price"] == "200.00" and entry.after_data["unit_price"] == "150.00"
    assert (entry.user, entry.authorised_by, entry.reason) == (employee, manager, "damaged tin")


def test_a_manager_overrides_directly(manager):
    sale = sale_get_or_open(cashier=manager)
    line = sale_add_product(sale=sale, product=ProductFactory(selling_price=D("50.00")), user=manager)
    sale_line_override_price(line=line, unit_price=D("45"), user=manager, reason="price match")
    entry = AuditLog.objects.get(action=AuditAction.PRICE_OVERRIDE)
    assert entry.user == manager and entry.authorised_by is None


def test_an_override_below_a_discount_is_refused(cart, manager, employee):
    _, line = cart
    sale_line_set_discount(line=line, kind="AMOUNT", value=D("10"), user=employee)
    with pytest.raises(SaleError, match="bigger than"):
        sale_line_override_price(line=line, unit_price=D("5"), user=employee, reason="x", authorised_by=manager)
    line.refresh_from_db()
    assert line.unit_price == D("200.00") and not AuditLog.objects.filter(action=AuditAction.PRICE_OVERRIDE).exists()


def test_a_line_void_needs_a_manager(cart, employee, manager):
    sale, line = cart
    with pytest.raises(AuthorisationRequired):
        sale_line_remove(line=line, user=employee, reason="scanned twice")
    assert sale.lines.count() == 1
    sale_line_remove(line=line, user=employee, reason="scanned twice", authorised_by=manager)
    entry = AuditLog.objects.get(action=AuditAction.LINE_VOID)
    assert entry.before_data["sale"] == sale.pk and entry.before_data["product_name"] == "Cooking oil 1l"


def test_a_quantity_below_one_is_refused(cart, employee):
    sale, line = cart
    for quantity in (D("0"), D("-2")):
        with pytest.raises(SaleError, match="more than zero"):
            sale_line_set_quantity(line=line, quantity=quantity, user=employee)
    line.refresh_from_db()
    assert line.quantity == D("1")


def test_voiding_the_cart_needs_a_manager_and_records_the_lines(cart, employee, manager):
    sale, _ = cart
    with pytest.raises(AuthorisationRequired):
        sale_void_open(sale=sale, user=employee, reason="customer left")
    sale = sale_void_open(sale=sale, user=employee, reason="customer left", authorised_by=manager)
    assert sale.status == SaleStatus.VOIDED and sale.open_for_cashier is None and sale.voided_by == manager
    entry = AuditLog.objects.get(action=AuditAction.SALE_VOID)
    assert entry.model_name == "pos.Sale" and entry.before_data["lines"][0]["product_name"] == "Cooking oil 1l"
    assert entry.authorised_by == manager
    assert sale_get_or_open(cashier=employee).pk != sale.pk  # a fresh cart


def test_an_empty_cart_has_nothing_to_void(employee, manager):
    sale = sale_get_or_open(cashier=employee)
    with pytest.raises(SaleError, match="already empty"):
        sale_void_open(sale=sale, user=employee, reason="x", authorised_by=manager)


def test_hold_and_resume(cart, employee, branch):
    sale, line = cart
    held = sale_hold(sale=sale, user=employee)
    assert held.status == SaleStatus.HELD and held.open_for_cashier is None and held.held_at
    second = sale_get_or_open(cashier=employee)
    assert second.pk != sale.pk
    sale_add_product(sale=second, product=ProductFactory(), user=employee)
    with pytest.raises(SaleConflictError, match="Finish or hold"):
        sale_resume(sale=held, user=employee)
    resumed = sale_resume(sale=held, user=employee, hold_current=True)
    assert resumed.status == SaleStatus.OPEN and resumed.open_for_cashier == employee.pk
    second.refresh_from_db()
    assert second.status == SaleStatus.HELD


def test_resuming_into_an_empty_cart_discards_it(cart, employee):
    sale, _ = cart
    sale_hold(sale=sale, user=employee)
    empty = sale_get_or_open(cashier=employee)
    sale_resume(sale=sale, user=employee)
    assert not Sale.objects.filter(pk=empty.pk).exists()


def test_an_empty_cart_cannot_be_held(employee):
    with pytest.raises(SaleError, match="empty"):
        sale_hold(sale=sale_get_or_open(cashier=employee), user=employee)


def test_held_sales_reserve_no_stock(employee, branch):
    open_session(employee)
    soap = ProductFactory(selling_price=D("50.00"), name="Soap")
    stock_in(soap, branch, 2)
    sale = sale_get_or_open(cashier=employee)
    sale_add_product(sale=sale, product=soap, user=employee, quantity=D("2"))
    held = sale_hold(sale=sale, user=employee)
    other = sale_get_or_open(cashier=employee)
    sale_add_product(sale=other, product=soap, user=employee, quantity=D("2"))
    sale_checkout(sale=other, user=employee, tenders=[Tender("CASH", D("100"))], idempotency_key="h1")
    assert stock_on_hand(product_id=soap.pk, branch_id=branch.pk) == D("0")
    sale_resume(sale=held, user=employee)
    from inventory.errors import StockShortError

    with pytest.raises(StockShortError):
        sale_checkout(sale=held, user=employee, tenders=[Tender("CASH", D("100"))], idempotency_key="h2")


def test_held_sales_of_another_branch_cannot_be_resumed(cart, employee, other_branch):
    sale, _ = cart
    sale_hold(sale=sale, user=employee)
    with pytest.raises(SaleConflictError, match="another branch"):
        sale_resume(sale=sale, user=UserFactory(branch=other_branch))


def test_note_and_customer(cart, employee):
    sale, _ = cart
    customer = CustomerFactory(name="Wanjiku")
    sale = sale_set_customer(sale=sale, customer=customer, user=employee)
    sale = sale_set_note(sale=sale, note="  deliver after 5pm  ", user=employee)
    sale.refresh_from_db()
    assert sale.customer == customer and sale.note == "deliver after 5pm"
    gone = CustomerFactory(is_active=False)
    with pytest.raises(SaleError, match="no longer"):
        sale_set_customer(sale=sale, customer=gone, user=employee)


def test_a_completed_sale_cannot_be_changed(cart, employee, branch):
    sale, line = cart
    open_session(employee)
    stock_in(line.product, branch, 5)
    sale_checkout(sale=sale, user=employee, tenders=[Tender("CASH", D("200"))], idempotency_key="done")
    with pytest.raises(SaleConflictError, match="completed"):
        sale_line_set_quantity(line=line, quantity=D("3"), user=employee)
    with pytest.raises(SaleConflictError):
        sale_hold(sale=sale, user=employee)


def test_reprints_need_a_manager_and_are_counted(cart, employee, manager, branch):
    sale, line = cart
    open_session(employee)
    stock_in(line.product, branch, 5)
    sale = sale_checkout(sale=sale, user=employee, tenders=[Tender("CASH", D("200"))], idempotency_key="rp")
    assert sale.receipt_prints == 1
    with pytest.raises(AuthorisationRequired):
        sale_receipt_reprint(sale=sale, user=employee)
    sale = sale_receipt_reprint(sale=sale, user=employee, authorised_by=manager, reason="customer lost it")
    assert sale.receipt_prints == 2
    entry = AuditLog.objects.get(action=AuditAction.REPRINT)
    assert (entry.user, entry.authorised_by, entry.after_data) == (employee, manager, {"receipt_prints": 2})
