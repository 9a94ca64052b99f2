"""Role matrix for the foundation's URLs (people, settings, audit log, start page, health)."""

from pos.tests.matrix import LOGIN, OK, Case, Exempt, everyone_but_anonymous, managers_and_owners, owners_only, public


def prepare(world):
    from core.roles import Role
    from pos.tests.factories import UserFactory

    world.staff_member = UserFactory(role=Role.EMPLOYEE, branch=world.branch, full_name="Target Cashier")
    world.an_owner = UserFactory(role=Role.OWNER, branch=world.branch, full_name="Second Owner")


CASES = [
    Case("home", everyone_but_anonymous()),
    Case("healthz", public()),
    Case("pos:staff_list", managers_and_owners()),
    Case("pos:staff_create", managers_and_owners()),
    Case(
        "pos:staff_create",
        managers_and_owners(),
        id="post:pos:staff_create",
        method="post",
        fresh_world=True,
        data=lambda w: {
            "full_name": "New Person",
            "phone_number": "0799 123 456",
            "role": "EMPLOYEE",
            "branch": w.branch.pk,
            "password1": "a-long-pass-99",
            "password2": "a-long-pass-99",
        },
    ),
    Case("pos:staff_edit", managers_and_owners(), args=lambda w: [w.staff_member.pk]),
    # A manager may open an owner's page (read) but not change it: the POST is refused by the service.
    Case("pos:staff_edit", managers_and_owners(), args=lambda w: [w.an_owner.pk], id="get:pos:staff_edit:owner"),
    Case("pos:staff_password", managers_and_owners(), args=lambda w: [w.staff_member.pk], method="post",
         data=lambda w: {"password1": "another-pass-11", "password2": "another-pass-11"}),
    Case("pos:staff_pin", managers_and_owners(), args=lambda w: [w.staff_member.pk], method="post",
         data=lambda w: {"pin": "4826", "pin2": "4826"}),
    Case("pos:staff_active", managers_and_owners(), args=lambda w: [w.staff_member.pk], method="post",
         fresh_world=True, data=lambda w: {"reason": "left"}),
    Case("pos:my_pin", everyone_but_anonymous()),
    Case("pos:settings", owners_only()),
    Case("pos:audit_log", managers_and_owners()),
    Case("pos:audit_log", managers_and_owners(), htmx=True, id="htmx:pos:audit_log"),
    Case("pos:staff_list", managers_and_owners(), htmx=True, id="htmx:pos:staff_list"),
    Case("account_login", public(employee=OK, manager=OK, owner=OK)),
    Case("account_login", public(), method="post", id="post:account_login:bad",
         data=lambda w: {"login": "0712", "password": "x"}),  # a form error, never a crash
    Case("account_logout", everyone_but_anonymous()),  # GET asks; anonymous are sent to login
    # Logging out sends everyone (logged in or not) to the login page.
    Case("account_logout", {}, default=LOGIN, method="post", id="post:account_logout", fresh_world=True),
    Case("account_change_password", everyone_but_anonymous()),
    Case("account_reauthenticate", everyone_but_anonymous()),
    Case("account_email", everyone_but_anonymous()),  # "ask a manager": e-mail is kept on the Staff page
    Case("account_change_phone", everyone_but_anonymous()),  # same for the phone number
    Case("account_inactive", public()),
    Case("account_signup", public()),  # answers "sign-up is closed" to everyone
    Case("account_signup", public(), method="post", id="post:account_signup",
         data=lambda w: {"phone": "0711 222 333", "password1": "a-long-pass-99"}),
    Case("mfa_index", everyone_but_anonymous()),
    Case("mfa_add_webauthn", everyone_but_anonymous()),  # logged in: first "confirm it is you"
    Case("mfa_list_webauthn", everyone_but_anonymous()),
    Case("mfa_login_webauthn", everyone_but_anonymous()),  # GET without JS: back to the login page
    Case("mfa_activate_totp", everyone_but_anonymous()),
    Case("socialaccount_connections", everyone_but_anonymous()),
]

EXEMPT = [
    Exempt("admin:*", "Django admin: owners only (core/admin_site.py), see config/tests/test_admin_owners_only.py"),
    Exempt("<admin/login/>", "redirects to the allauth login page for everyone"),
    Exempt("account_*", "allauth's e-mail/phone verification, reset-by-key and login-code steps: one-time "
           "links and codes of flows that are off here; login, logout, password and passkey pages are cases"),
    Exempt("mfa_*", "allauth.mfa steps reached only inside a login or with an authenticator's id (tested in "
           "test_passkeys); the pages people open are cases above"),
    Exempt("socialaccount_*", "allauth social views: provider flows, no data of ours"),
    Exempt("google_*", "OAuth provider callback"),
    Exempt("microsoft_*", "OAuth provider callback"),
    Exempt("openid_connect_*", "OpenID Connect provider callback"),
    Exempt("<accounts/*", "allauth's unnamed compatibility redirects"),
]


# ============================================================================ the till, sales, returns, customers
# (the browser till; the foundation's cases are above)
from functools import cached_property  # noqa: E402


class TillWorld:
    """The till's objects for the matrix, made on first use: a suite that builds its own world pays only
    for what its cases point at; the shared world (`config/tests/url_world.py`) makes them all once."""

    def __init__(self, world):
        self.world = world
        self.employee, self.manager = world.users["employee"], world.users["manager"]

    @cached_property
    def category(self):
        from inventory.tests.factories import CategoryFactory

        return CategoryFactory(name="Matrix groceries")

    @cached_property
    def product(self):
        from decimal import Decimal

        from inventory.tests.factories import ProductFactory, stock_in

        product = ProductFactory(
            name="Matrix soap", category=self.category, is_favourite=True, selling_price=Decimal("50.00")
        )
        stock_in(product, self.world.branch, 100)
        return product

    @cached_property
    def customer(self):
        from pos.tests.factories import CustomerFactory

        return CustomerFactory(name="Matrix Customer", email="matrix@example.com")

    @cached_property
    def sessions(self):
        from decimal import Decimal

        from cashdesk.services import session_open

        return [session_open(cashier=person, opening_float=Decimal("500")) for person in (self.employee, self.manager)]

    def _completed(self, cashier):
        import uuid
        from decimal import Decimal

        from cashdesk.services import Tender, sale_checkout
        from pos.sales.services import sale_add_product, sale_get_or_open

        assert self.sessions
        sale = sale_get_or_open(cashier=cashier)
        sale_add_product(sale=sale, product=self.product, user=cashier, quantity=Decimal("2"))
        sale.refresh_from_db()
        return sale_checkout(
            sale=sale, user=cashier, tenders=[Tender("CASH", sale.total)], idempotency_key=uuid.uuid4().hex
        )

    @cached_property
    def completed_sale(self):
        return self._completed(self.employee)

    @cached_property
    def managers_sale(self):
        return self._completed(self.manager)

    @cached_property
    def sale_return(self):
        from decimal import Decimal

        from cashdesk.refund_services import sale_return_refund
        from pos.sales.services import ReturnItem

        sale = self._completed(self.employee)
        return sale_return_refund(sale=sale, items=[ReturnItem(sale.lines.get().pk, Decimal("1"))], user=self.employee,
                                  authorised_by=self.manager, reason="matrix return")

    @cached_property
    def held_sale(self):
        from pos.sales.services import sale_add_product, sale_get_or_open, sale_hold

        held = sale_get_or_open(cashier=self.manager)
        sale_add_product(sale=held, product=self.product, user=self.manager)
        return sale_hold(sale=held, user=self.manager)

    @cached_property
    def open_sale(self):
        from pos.sales.services import sale_get_or_open

        sale = sale_get_or_open(cashier=self.employee)
        assert self.line.sale_id == sale.pk
        return sale

    @cached_property
    def line(self):
        from pos.sales.services import sale_add_product, sale_get_or_open

        return sale_add_product(sale=sale_get_or_open(cashier=self.employee), product=self.product, user=self.employee)


_previous_prepare = prepare


def prepare(world):  # noqa: F811 - the foundation's objects, then the till's (made lazily)
    _previous_prepare(world)
    world.till = TillWorld(world)


def _only_the_cashier(**overrides):
    """A line of the employee's own cart: other people get 404 (never someone else's cart)."""
    expect = {"anonymous": LOGIN, "employee": OK, "manager": 404, "owner": 404}
    expect.update(overrides)
    return expect


CASES += [
    # the till page and its fragments
    Case("till:index", everyone_but_anonymous()),
    Case("till:index", everyone_but_anonymous(), htmx=True, id="htmx:till:index"),
    Case("till:search", everyone_but_anonymous(), query="q=Matrix", htmx=True),
    Case("till:search", everyone_but_anonymous(), query="q=Matrix", id="get:till:search:nojs"),
    Case("till:favourites", everyone_but_anonymous(), htmx=True),
    Case("till:category", everyone_but_anonymous(), args=lambda w: [w.till.category.pk], htmx=True),
    Case("till:scan", everyone_but_anonymous(), method="post", htmx=True, data=lambda w: {"q": w.till.product.barcode}),
    Case("till:add", everyone_but_anonymous(), method="post", htmx=True, args=lambda w: [w.till.product.pk]),
    # lines: only the cashier whose cart it is
    Case("till:line_edit", _only_the_cashier(), args=lambda w: [w.till.line.pk], htmx=True),
    Case(
        "till:line_quantity",
        _only_the_cashier(),
        args=lambda w: [w.till.line.pk],
        method="post",
        htmx=True,
        data=lambda w: {"delta": "1"},
    ),
    Case(
        "till:line_discount",
        _only_the_cashier(),
        args=lambda w: [w.till.line.pk],
        method="post",
        htmx=True,
        data=lambda w: {"kind": "PERCENT", "value": "2"},
    ),
    Case(
        "till:line_price",
        _only_the_cashier(),
        args=lambda w: [w.till.line.pk],
        method="post",
        htmx=True,
        data=lambda w: {"unit_price": "45", "reason": "matrix"},
    ),
    Case("till:line_remove", _only_the_cashier(), args=lambda w: [w.till.line.pk], htmx=True),
    # the whole sale
    Case("till:cart_discount", everyone_but_anonymous(), htmx=True),
    Case("till:note", everyone_but_anonymous(), htmx=True),
    Case(
        "till:note",
        everyone_but_anonymous(),
        method="post",
        htmx=True,
        data=lambda w: {"note": "x"},
        id="post:till:note",
    ),
    Case("till:void", everyone_but_anonymous(), htmx=True),
    Case("till:customer", everyone_but_anonymous(), htmx=True),
    Case("till:customer_lookup", everyone_but_anonymous(), query="q=Matrix", htmx=True),
    Case(
        "till:customer_new",
        everyone_but_anonymous(),
        method="post",
        htmx=True,
        data=lambda w: {"name": "Walk-in Wanjiru"},
    ),
    Case("till:hold", everyone_but_anonymous(), method="post", htmx=True, fresh_world=True),
    Case("till:held", everyone_but_anonymous(), htmx=True),
    Case(
        "till:resume",
        everyone_but_anonymous(),
        args=lambda w: [w.till.held_sale.pk],
        method="post",
        htmx=True,
        fresh_world=True,
    ),
    Case("till:pay", everyone_but_anonymous(), htmx=True),
    Case("till:pay_summary", everyone_but_anonymous(), htmx=True, query="cash=500"),
    Case(
        "till:session_open", everyone_but_anonymous(), method="post", htmx=True, data=lambda w: {"opening_float": "100"}
    ),
    # the employee's sale: only they can check it out
    Case(
        "till:checkout",
        _only_the_cashier(),
        method="post",
        htmx=True,
        fresh_world=True,
        data=lambda w: {"sale": w.till.open_sale.pk, "idempotency_key": "matrix-pay", "cash": "100"},
    ),
    # sales pages
    Case("sales:list", everyone_but_anonymous()),
    Case("sales:list", everyone_but_anonymous(), htmx=True, id="htmx:sales:list"),
    Case("sales:detail", everyone_but_anonymous(), args=lambda w: [w.till.completed_sale.pk]),
    Case(
        "sales:detail",
        everyone_but_anonymous(employee=404),
        args=lambda w: [w.till.managers_sale.pk],
        id="get:sales:detail:someone-elses",
    ),
    Case("sales:find", everyone_but_anonymous(), query="q=MAIN-000001"),
    Case("sales:receipt", everyone_but_anonymous(), args=lambda w: [w.till.completed_sale.pk]),
    Case(
        "sales:receipt",
        everyone_but_anonymous(employee=404),
        args=lambda w: [w.till.managers_sale.pk],
        id="get:sales:receipt:someone-elses",
    ),
    Case("sales:receipt_pdf", everyone_but_anonymous(), args=lambda w: [w.till.completed_sale.pk]),
    Case("sales:receipt_email", everyone_but_anonymous(), args=lambda w: [w.till.completed_sale.pk], method="post"),
    Case(
        "sales:reprint",
        everyone_but_anonymous(),
        args=lambda w: [w.till.completed_sale.pk],
        method="post",
        data=lambda w: {"reason": "matrix"},
    ),
    Case("sales:return", everyone_but_anonymous(), args=lambda w: [w.till.completed_sale.pk]),
    Case(
        "sales:return",
        everyone_but_anonymous(),
        args=lambda w: [w.till.completed_sale.pk],
        method="post",
        fresh_world=True,
        id="post:sales:return",
        data=lambda w: {f"qty_{w.till.completed_sale.lines.get().pk}": "1", "reason": "matrix", "refund_to": "CASH"},
    ),
    Case("sales:void", everyone_but_anonymous(), args=lambda w: [w.till.completed_sale.pk]),
    Case("sales:credit_note", everyone_but_anonymous(), args=lambda w: [w.till.sale_return.pk]),
    # customers
    Case("customers:list", everyone_but_anonymous()),
    Case("customers:list", everyone_but_anonymous(), htmx=True, query="q=Matrix", id="htmx:customers:list"),
    Case("customers:create", everyone_but_anonymous()),
    Case("customers:detail", everyone_but_anonymous(), args=lambda w: [w.till.customer.pk]),
    Case("customers:edit", everyone_but_anonymous(), args=lambda w: [w.till.customer.pk]),
]
