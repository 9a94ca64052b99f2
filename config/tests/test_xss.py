"""Every template escapes user data: a script typed into any free-text field never runs on any page.

The test builds the role matrix's world (every object its pages point at), writes an HTML payload into
every free-text field of every model of ours (`security_support.free_text_fields`: a field added later is
covered), then opens every page, htmx fragment and PDF of the role matrix as each role that may, and
looks for the payload's live markup. The PDFs are checked in the HTML handed to WeasyPrint.
"""

import pytest

from config.tests.security_support import (
    case_url,
    client_for,
    fetch,
    fill,
    free_text_fields,
    get_cases,
)
from config.tests.url_world import build_world, materialise
from pos.tests.matrix import OK

pytestmark = [pytest.mark.sqlite_only, pytest.mark.django_db]

# The longest payload that fits: a tag closing an attribute and opening an <img> with a handler, and a
# <script>. A field too short for those gets `"><u q>`: still an attribute break and a live tag.
PAYLOADS = (
    '"><img src=x onerror=alert(1)><script>alert(1)</script>',
    '"><img src=x onerror=alert(1)>',
    "<script>alert(1)</script>",
    '"><u q>',
)
LIVE = ("<script>alert(1)", "<img src=x onerror=alert(1)>", "<u q>")  # what must never reach a page raw
ESCAPED = ("&lt;script&gt;alert(1)", "&lt;img src=x onerror=alert(1)&gt;", "&lt;u q&gt;")


def payload_for(pk, max_length, *, unique: bool):
    suffix = str(pk) if unique else ""  # unique fields (names, numbers, barcodes) need one value per row
    for payload in PAYLOADS:
        if max_length is None or len(payload) + len(suffix) <= max_length:
            return payload + suffix
    return None  # shorter than 7 characters: no markup fits


def _extra_objects(world):
    """What the matrix's world leaves out but a page shows: the owner's own cart, with a customer,
    a note and a line (the till page is rendered for the person logged in)."""
    from pos.sales.services import sale_add_product, sale_get_or_open, sale_set_customer, sale_set_note

    owner = world.users["owner"]
    sale = sale_get_or_open(cashier=owner)
    sale_add_product(sale=sale, product=world.till.product, user=owner)
    sale_set_customer(sale=sale, customer=world.till.customer, user=owner)
    sale_set_note(sale=sale, note="for the XSS test", user=owner)


def _poison_everything() -> dict[str, int]:
    from pos.people.audit import audit_record

    written = {}
    for field in free_text_fields(skip_models=("pos.AuditLog",)):
        rows = list(field.model._default_manager.values_list("pk", flat=True))
        written[field.label] = fill(field, rows, lambda pk, n, f=field: payload_for(pk, n, unique=f.unique))
    # The audit log is insert-only: add an entry carrying the payload in every text it shows.
    audit_record(
        action="xss_probe",
        model_name=PAYLOADS[0][:60],
        object_id=PAYLOADS[3],
        reason=PAYLOADS[0],
        before={"name": PAYLOADS[0]},
        after={PAYLOADS[2]: PAYLOADS[0]},
    )
    return written


class PdfSources:
    """The HTML every PDF is made from (WeasyPrint runs no script, but markup injected there could
    still forge a receipt line)."""

    def __init__(self, monkeypatch):
        import weasyprint

        self.sources: list[str] = []
        real = weasyprint.HTML
        sources = self.sources

        def recording_html(*args, **kwargs):
            if "string" in kwargs:
                sources.append(kwargs["string"])
            return real(*args, **kwargs)

        monkeypatch.setattr(weasyprint, "HTML", recording_html)


def _live_markup(text: str) -> list[str]:
    return [live for live in LIVE if live in text]


def test_no_page_renders_a_stored_script(monkeypatch):
    world = build_world()
    materialise(world)
    _extra_objects(world)
    written = _poison_everything()
    assert sum(1 for count in written.values() if count) >= 40, written  # the walk really wrote text

    pdfs = PdfSources(monkeypatch)
    users = {"anonymous": None, **world.users}
    problems, seen_escaped, pages, pdf_pages = [], set(), 0, 0
    for case in get_cases():
        for role, user in users.items():
            if case.expected(role) != OK:
                continue
            url = case_url(case, world)
            before = len(pdfs.sources)
            response = fetch(client_for(user), case, url)
            where = f"{role} {case.label} {url}"
            if response.status_code >= 500:
                problems.append(f"{where}: {response.status_code} with the payload stored")
                continue
            kind = response.get("Content-Type", "")
            bodies = []
            if kind.startswith("text/html"):
                bodies.append(("page", response.content.decode()))
                pages += 1
            for source in pdfs.sources[before:]:
                bodies.append(("PDF source", source))
                pdf_pages += 1
            for what, body in bodies:
                for live in _live_markup(body):
                    at = body.index(live)
                    problems.append(f"{where}: {what} has live {live!r} …{body[max(0, at - 80):at + 40]!r}")
                seen_escaped.update(escaped for escaped in ESCAPED if escaped in body)
    assert not problems, "\n".join(problems)
    assert pages >= 100 and pdf_pages >= 3, (pages, pdf_pages)
    assert seen_escaped == set(ESCAPED), seen_escaped  # the payloads were on the pages, escaped


def test_the_payload_is_sized_to_each_field():
    assert payload_for(1, None, unique=False) == PAYLOADS[0]
    assert payload_for(1, 30, unique=False) == PAYLOADS[1]
    assert payload_for(12, 30, unique=True) == PAYLOADS[2] + "12"
    assert payload_for(3, 10, unique=True) == '"><u q>3'
    assert payload_for(3, 6, unique=False) is None


def test_the_walk_finds_the_fields_people_type():
    labels = {field.label for field in free_text_fields()}
    for expected in (
        "inventory.Product.name",
        "inventory.Category.description",
        "inventory.Unit.name",
        "inventory.Supplier.address",
        "pos.Customer.notes",
        "pos.Sale.note",
        "inventory.StockAdjustment.note",
        "pos.User.full_name",
        "cashdesk.Expense.description",
        "cashdesk.SupplierPayment.note",
        "pos.Branch.address",
    ):
        assert expected in labels
    assert "pos.User.password" not in labels and "pos.Sale.idempotency_key" not in labels
