"""No page, fragment, download or API endpoint gives a user limited to their branch another branch's records.

The role matrix's whole world (every object its pages point at: sales, receipts, cash sessions, payments,
M-Pesa requests, stock movements, adjustments, counts, purchases, transfers, expenses, staff…) is built
at a far branch. Every free-text field of every row that belongs to the far branch (a foreign key to a
branch, directly or through its parent row) is stamped with a marker. Then a manager and a cashier of
another branch open every GET case of the matrix, with the far world's ids:

- a URL about one far-branch record (an id in the path) answers 404 or 403 (or sends them elsewhere),
  unless the case is a chain-wide record (`SHARED`, with the reason);
- no answer, whatever its status, carries a marker.

A model or page added later is covered by being a model of ours with a branch, or a case in the matrix.
"""


import pytest
from django.db import models

from config.tests.security_support import (
    case_url,
    client_for,
    fetch,
    fill,
    free_text_fields,
    get_cases,
)
from config.tests.url_world import ALL_CASES, build_world, materialise
from core.roles import Perm, Role, role_has_perm
from pos.people.models import Branch
from pos.tests.factories import BranchFactory, UserFactory
from pos.tests.matrix import FORBIDDEN, LOGIN

pytestmark = [pytest.mark.sqlite_only, pytest.mark.django_db]

MARK = "ZZFARMARK"

# Records of the whole chain, not of one branch: their pages open for everyone allowed, with the reason.
SHARED = {
    "inventory:product_detail": "the catalogue is the chain's (stock shown is the viewer's branch only)",
    "inventory:product_edit": "the catalogue is the chain's",
    "inventory:product_active": "the catalogue is the chain's: deactivating closes its stock alerts everywhere",
    "inventory:category_edit": "categories are the chain's",
    "inventory:unit_edit": "units are the chain's",
    "inventory:supplier_detail": "suppliers are the chain's (their purchases shown are the viewer's branch)",
    "inventory:supplier_edit": "suppliers are the chain's",
    "till:category": "till buttons of a chain-wide category",
    "customers:detail": "customers shop at any branch (their history shown is limited like the sales list)",
    "customers:edit": "customers shop at any branch",
    "cashdesk:receipt_customer_sales": "a customer's unpaid sales at the viewer's branch",
    # The JSON API serves the same chain-wide records as the pages above (docs/api.md).
    "product-detail": "the catalogue is the chain's (its `stock` is the viewer's branch only)",
    "product-by-barcode": "the catalogue is the chain's (its `stock` is the viewer's branch only)",
    "category-detail": "categories are the chain's",
    "unit-detail": "units are the chain's",
    "supplier-detail": "suppliers are the chain's",
    "client-detail": "customers shop at any branch",
}

# Rows with a branch that are not that branch's secret, with the reason.
NOT_BRANCH_RECORDS = {
    "pos.Branch": "branch names are shown to everyone (transfer destinations, the header)",
    "pos.Customer": "customers are the chain's; `branch` is only where they were first registered",
    "pos.AuditLog": "insert-only; a far-branch entry with the marker is added below instead",
}


# People move between branches and customers shop at any: a row hangs on a branch through its own
# foreign keys or its parent document's, never through the person on it.
PEOPLE = ("pos.User", "pos.Customer")


def _sees_all(user) -> bool:
    return role_has_perm(user.role, Perm.ALL_BRANCHES)


def _branch_paths(model) -> list[str]:
    """Lookups from `model` to a Branch: its own foreign keys to Branch, and those of the rows it hangs on."""
    paths = []
    for field in model._meta.concrete_fields:
        if not isinstance(field, models.ForeignKey):
            continue
        target = field.related_model
        if target is Branch:
            paths.append(f"{field.name}_id")
        elif target._meta.app_label in ("pos", "inventory", "cashdesk", "reports") and target._meta.label not in PEOPLE:
            for parent in target._meta.concrete_fields:
                if isinstance(parent, models.ForeignKey) and parent.related_model is Branch:
                    paths.append(f"{field.name}__{parent.name}_id")
    return paths


def far_rows(model, *, far: Branch, near: Branch) -> list[int]:
    """Rows of `model` tied to the far branch and not to the near one (a transfer between them is both's)."""
    paths = _branch_paths(model)
    if not paths:
        return []
    rows = model._default_manager.values_list("pk", *paths)
    found = []
    for pk, *branches in rows:
        if far.pk in branches and near.pk not in branches:
            found.append(pk)
    if model._meta.label == "pos.User":  # owners see every branch: their names show wherever they act
        found = [pk for pk in found if not _sees_all(model._default_manager.get(pk=pk))]
    return found


def marker_for(pk, max_length):
    text = f"{MARK}{pk}"
    return text if max_length is None or len(text) <= max_length else None


def _stamp_far_branch(far: Branch, near: Branch) -> dict[str, int]:
    from pos.people.audit import audit_record

    stamped = {}
    for field in free_text_fields(skip_models=tuple(NOT_BRANCH_RECORDS)):
        rows = far_rows(field.model, far=far, near=near)
        if rows:
            stamped[field.label] = fill(field, rows, marker_for)
    audit_record(action="branch_probe", reason=f"{MARK} audit", branch=far, model_name="Sale", object_id="1")
    return stamped


def _money_out(world):
    """What the matrix's world has none of: petty cash out of a drawer and a supplier paid."""
    from decimal import Decimal

    from cashdesk.money_services import supplier_payment_record
    from cashdesk.services import cash_movement_record

    session = world.drawer_session
    cash_movement_record(session=session, kind="PAID_IN", amount=Decimal("20"), reason="x", user=session.cashier)
    supplier_payment_record(supplier=world.supplier, amount=Decimal("10"), method="BANK", reference="EFT-9",
                            purchase=world.ordered, note="x", user=world.users["manager"])


@pytest.fixture
def two_branches():
    near = Branch.objects.get_or_create(code="MAIN", defaults={"name": "Main branch"})[0]
    far = BranchFactory(code="ZZF", name="Faraway")
    world = build_world(far, who="Far")
    materialise(world)
    _money_out(world)
    stamped = _stamp_far_branch(far, near)
    people = {
        "manager": UserFactory(role=Role.MANAGER, branch=near, full_name="Near Manager"),
        "employee": UserFactory(role=Role.EMPLOYEE, branch=near, full_name="Near Employee"),
    }
    return world, people, stamped


def test_no_branch_sees_another_branchs_records(two_branches):
    world, people, stamped = two_branches
    assert sum(1 for count in stamped.values() if count > 0) >= 15, stamped  # the far branch really has records
    problems, opened = [], 0
    for case in get_cases(api=True):
        for role, user in people.items():
            if case.expected(role) in (LOGIN, FORBIDDEN):
                continue  # not theirs at all, at any branch (the role matrix checks that)
            url = case_url(case, world)
            response = fetch(client_for(user, api=case.api), case, url)
            opened += 1
            where = f"{role} {case.label} {url}"
            status = response.status_code
            if status >= 500:
                problems.append(f"{where}: {status}")
                continue
            body = b"" if getattr(response, "streaming", False) else response.content
            if getattr(response, "streaming", False):
                body = b"".join(response.streaming_content)
            if MARK.encode() in body:
                at = body.index(MARK.encode())
                problems.append(f"{where}: {status} shows a far-branch record …{body[max(0, at - 100):at + 30]!r}")
            about_a_record = any(isinstance(arg, int) for arg in (case.args(world) if case.args else []))
            if about_a_record and case.name not in SHARED and status < 300:
                problems.append(f"{where}: {status} for another branch's record (expected 404 or 403)")
    assert opened >= 150, opened
    assert not problems, "\n".join(problems)


def test_the_walk_finds_branch_records():
    from cashdesk.models import CashSession, Payment
    from inventory.models import StockAdjustment, StockMovement
    from pos.sales.models import Sale, SaleLine

    assert _branch_paths(Sale) == ["branch_id"]
    assert "sale__branch_id" in _branch_paths(SaleLine)
    assert "sale__branch_id" in _branch_paths(Payment) or "session__branch_id" in _branch_paths(Payment)
    for model in (CashSession, StockMovement, StockAdjustment):
        assert _branch_paths(model)


def test_every_shared_page_and_record_has_a_reason():
    assert all(SHARED.values()) and all(NOT_BRANCH_RECORDS.values())


def _far_snapshot(far: Branch, near: Branch) -> dict:
    """Every row tied to the far branch, as stored."""
    from django.apps import apps

    snapshot = {}
    for label in ("pos", "inventory", "cashdesk", "reports"):
        for model in apps.get_app_config(label).get_models():
            if model._meta.label in NOT_BRANCH_RECORDS:
                continue
            rows = far_rows(model, far=far, near=near)
            if rows:
                snapshot[model._meta.label] = list(model._default_manager.filter(pk__in=rows).order_by("pk").values())
    return snapshot


def test_no_branch_changes_another_branchs_records(two_branches):
    """The POST side: every form and button of the matrix, sent by a manager and a cashier of another
    branch with the far world's ids, leaves every far-branch row as it was."""

    world, people, _ = two_branches
    far, near = world.branch, people["manager"].branch
    before = _far_snapshot(far, near)
    assert len(before) >= 15, sorted(before)
    problems, sent = [], 0
    for case in ALL_CASES:
        if case.method == "get" or case.name in SHARED:
            continue
        for role, user in people.items():
            if case.expected(role) in (LOGIN, FORBIDDEN):
                continue
            url = case_url(case, world)
            client = client_for(user, api=case.api)
            headers = {"HTTP_HX_REQUEST": "true"} if case.htmx else {}
            data = case.data(world) if case.data else {}
            if case.api:
                response = getattr(client, case.method)(url, data=data, content_type="application/json")
            else:
                response = getattr(client, case.method)(url, data=data, **headers)
            sent += 1
            if response.status_code >= 500:
                problems.append(f"{role} {case.label} {url}: {response.status_code}")
            after = _far_snapshot(far, near)
            if after != before:
                changed = sorted(label for label in set(before) | set(after) if before.get(label) != after.get(label))
                problems.append(f"{role} {case.label} {url}: changed the far branch's {', '.join(changed)}")
                before = after  # report each culprit once
    assert sent >= 40, sent
    assert not problems, "\n".join(problems)


def _normalised(body: bytes) -> str:
    """A page without what changes on every request (tokens, clock times, generated ids)."""
    import re
    import subprocess

    if body.startswith(b"%PDF"):
        # The printed-at time is drawn as glyphs, not text: compare what the PDF says, not its bytes.
        body = subprocess.run(["pdftotext", "-", "-"], input=body, capture_output=True, check=True).stdout
    text = body.decode(errors="replace")
    text = re.sub(r'(csrfmiddlewaretoken" value=|x-csrftoken": )"[^"]*"', r"\1-", text)
    text = re.sub(r"\b\d{1,2}:\d{2}(:\d{2})?\b", "hh:mm", text)
    return text


def _figures_pages():
    """Reports, the dashboard and the analytics: pages of figures, where another branch's activity would
    show as numbers (no text marker to find), asked for today's period."""
    for case in get_cases(api=True):
        if case.name.startswith(("reports:", "analytics")) or "dashboard" in case.name or "summary" in case.name:
            query = case.query.replace("preset=custom", "preset=today") if case.query else ""
            query = "&".join(part for part in query.split("&") if not part.startswith(("start=", "end=")))
            yield case, query


def test_no_branch_counts_another_branchs_sales(monkeypatch):
    """A manager's reports and dashboard read the same before and after a day of trade at another branch."""
    from django.urls import reverse

    near = Branch.objects.get_or_create(code="MAIN", defaults={"name": "Main branch"})[0]
    manager = UserFactory(role=Role.MANAGER, branch=near, full_name="Near Manager")
    owner = UserFactory(role=Role.OWNER, branch=near, full_name="Chain Owner", is_superuser=True)
    pages = list(_figures_pages())
    assert len(pages) >= 5, [case.label for case, _ in pages]

    def read_all(person, role):
        client, api_client = client_for(person), client_for(person, api=True)
        seen = {}
        for case, query in pages:
            if case.expected(role) in (LOGIN, FORBIDDEN):
                continue
            try:
                args = case.args(None) if case.args else []  # a report's name; pages about one record
            except AttributeError:  # (an export job) need the world and are the record test's
                continue
            url = reverse(case.name, args=args)
            url = f"{url}?{query}" if query else url
            response = fetch(api_client if case.api else client, case, url)
            body = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
            seen[case.label] = (response.status_code, _normalised(body))
        return seen

    before = read_all(manager, "manager"), read_all(owner, "owner")
    far = BranchFactory(code="ZZF", name="Faraway")
    world = build_world(far, who="Far")
    materialise(world)  # completed sales, returns, M-Pesa, purchases, stock moves… all at the far branch, today
    after = read_all(manager, "manager"), read_all(owner, "owner")
    changed = [label for label in before[0] if before[0][label] != after[0][label]]
    assert before[0] and not changed, changed
    # The owner sees every branch: the same pages do move, so the far branch's trade was there to leak.
    assert any(before[1][label] != after[1][label] for label in before[1])
