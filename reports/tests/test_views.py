"""Report pages, CSV, PDF, exports and the dashboard: filters, bad input, branch limits, query counts."""

import datetime as dt
import shutil
import subprocess

import pytest
from django.urls import reverse

from reports.models import ExportJob, ExportStatus
from reports.registry import REPORTS
from reports.tests.conftest import DAY

pytestmark = pytest.mark.django_db
NEXT = DAY + dt.timedelta(days=1)
RANGE = {"preset": "custom", "start": DAY.isoformat(), "end": NEXT.isoformat()}


def pdf_text(content: bytes) -> str:
    """The PDF's text, by poppler's pdftotext (as a person copying from the PDF would get it)."""
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True
    ).stdout.decode()


def url(name, slug="sales-by-day"):
    return reverse(name, args=[slug])


def test_report_page_shows_the_hand_worked_figures(shop, owner_client):
    response = owner_client.get(url("reports:report"), {**RANGE, "branch": shop.main.pk})
    assert response.status_code == 200
    html = response.content.decode()
    assert "490.00" in html and "116.00" in html and "606.00" in html  # two days and the total
    assert "1,160.00" not in html  # Westlands


def test_htmx_request_gets_only_the_table(shop, owner_client):
    response = owner_client.get(url("reports:report"), RANGE, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="report-body"' in html and "<nav" not in html and "1,766.00" in html


@pytest.mark.parametrize("params, message", [
    ({"preset": "custom", "start": "2026-03-11", "end": "2026-03-10"}, "end date is before the start date"),
    ({"preset": "custom", "start": "2024-01-01", "end": "2026-01-01"}, "at most 366 days"),
    ({"preset": "custom", "start": "not-a-date", "end": "2026-01-01"}, "Enter a valid date"),
    ({"preset": "today", "branch": "999999"}, "Unknown branch"),
    ({"preset": "tomorrow"}, "Select a valid choice"),
])
def test_bad_filters_get_a_clear_message_never_a_500(shop, owner_client, params, message):
    for name in ("reports:report", "reports:report_csv", "reports:report_pdf"):
        response = owner_client.get(url(name), params)
        assert response.status_code == 400, name
        assert message in response.content.decode(), name


def test_a_manager_never_sees_another_branch(shop, manager_client):
    # Asking for Westlands by id is refused like an unknown branch; without a branch it is their own.
    response = manager_client.get(url("reports:report"), {**RANGE, "branch": shop.westlands.pk})
    assert response.status_code == 400 and "Unknown branch" in response.content.decode()
    response = manager_client.get(url("reports:report_csv"), RANGE)
    body = b"".join(response.streaming_content).decode()
    assert "490.00" in body and "1160.00" not in body


def test_no_data_is_an_empty_state(shop, owner_client):
    response = owner_client.get(url("reports:report"), {"preset": "custom", "start": "2020-01-01", "end": "2020-01-31"})
    assert response.status_code == 200
    assert 'data-testid="report-empty"' in response.content.decode()


def test_csv_is_streamed_with_totals(shop, owner_client):
    response = owner_client.get(url("reports:report_csv", "vat"), {**RANGE, "branch": shop.main.pk})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response.streaming
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[1].startswith("Tax class,")
    assert any(line.startswith("B – VAT 16%,348.00,0.00,348.00,300.00,48.00") for line in lines)
    assert lines[-1] == "Total,606.00,0.00,606.00,550.00,56.00"


def test_pdf_has_the_header_filters_and_figures(shop, owner_client):
    response = owner_client.get(url("reports:report_pdf", "vat"), {**RANGE, "branch": shop.main.pk})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "VAT by tax class" in text and "10 Mar 2026 – 11 Mar 2026" in text and "Page 1 of 1" in text
    assert "48.00" in text and "550.00" in text


def test_profit_reports_are_for_owners_only(shop, manager_client, owner_client):
    assert manager_client.get(url("reports:report", "profit-by-product"), RANGE).status_code == 403
    response = owner_client.get(url("reports:report", "profit-by-product"), {**RANGE, "branch": shop.main.pk})
    assert response.status_code == 200 and "100.00" in response.content.decode()


def test_unknown_report_is_404(owner_client):
    assert owner_client.get(url("reports:report", "no-such-report")).status_code == 404


def test_every_report_renders_for_the_owner(shop, owner_client, django_assert_max_num_queries):
    for slug in REPORTS:
        with django_assert_max_num_queries(12):
            response = owner_client.get(url("reports:report", slug), RANGE)
        assert response.status_code == 200, slug


def test_dashboard_figures_and_query_count(shop, owner_client, django_assert_max_num_queries, monkeypatch):
    from django.utils import timezone

    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: DAY + dt.timedelta(days=7))
    with django_assert_max_num_queries(20):
        response = owner_client.get(reverse("reports:dashboard"), {"branch": shop.main.pk})
    html = response.content.decode()
    assert response.status_code == 200
    assert "490.00" in html and 'id="dashboard-data"' in html and "chart.umd.js" in html
    assert "Akinyi Atieno" in html  # her drawer is open


def test_dashboard_margin_only_for_those_who_see_profit(shop, manager_client, owner_client):
    assert "Gross margin" not in manager_client.get(reverse("reports:dashboard")).content.decode()
    assert "Gross margin" in owner_client.get(reverse("reports:dashboard")).content.decode()


def test_dashboard_with_an_unknown_branch_falls_back_with_a_message(shop, manager_client):
    response = manager_client.get(reverse("reports:dashboard"), {"branch": shop.westlands.pk})
    assert response.status_code == 200 and "Unknown branch" in response.content.decode()


def test_background_export_writes_the_file_and_only_its_owner_gets_it(shop, owner, owner_client, manager_client,
                                                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(url("reports:export_start", "sales-by-product"), {**RANGE, "format": "csv"})
    job = ExportJob.objects.get()
    assert response.status_code == 302 and str(job.token) in response["Location"]
    job.refresh_from_db()
    assert job.status == ExportStatus.DONE and job.progress == 100 and job.row_count == 3
    poll = owner_client.get(reverse("reports:export_detail", args=[job.token]), HTTP_HX_REQUEST="true")
    assert poll.status_code == 286 and "Download" in poll.content.decode()
    download = owner_client.get(reverse("reports:export_download", args=[job.token]))
    body = b"".join(download.streaming_content).decode("utf-8-sig")
    assert "Sugar 1kg" in body and "1508.00" in body  # 348 at MAIN + 1160 at Westlands
    assert manager_client.get(reverse("reports:export_download", args=[job.token])).status_code == 404


def test_export_with_bad_filters_changes_nothing(shop, owner_client):
    response = owner_client.post(url("reports:export_start"), {"preset": "custom", "start": "2026-03-11",
                                                               "end": "2026-03-01", "format": "csv"})
    assert response.status_code == 302 and ExportJob.objects.count() == 0
    response = owner_client.post(url("reports:export_start"), {**RANGE, "format": "xls"})
    assert ExportJob.objects.count() == 0


def test_a_pdf_with_too_many_rows_goes_to_the_background(shop, owner_client, monkeypatch,
                                                         django_capture_on_commit_callbacks):
    monkeypatch.setattr("reports.views.PDF_INLINE_MAX_ROWS", 1)
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.get(url("reports:report_pdf", "sales-by-product"), RANGE)
    job = ExportJob.objects.get()
    assert response.status_code == 302 and job.format == "pdf"
    job.refresh_from_db()
    assert job.status == ExportStatus.DONE and job.file.name.endswith(".pdf")


def test_owners_and_managers_land_on_the_dashboard_after_login(client, owner):
    from conftest import DEFAULT_PASSWORD

    response = client.post(reverse("account_login"), {"login": owner.phone_number, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("reports:dashboard")


# ---------------------------------------------------------------------------- JSON API
def _api(user):
    from pos.tests.api_support import api_client

    return api_client(user)


def test_api_report_amounts_are_strings_to_the_cent(shop, owner, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        response = _api(owner).get(reverse("reports-api-detail", args=["vat"]), {**RANGE, "branch": shop.main.pk})
    assert response.status_code == 200
    body = response.json()
    assert body["totals"] == {"sales": "606.00", "returns": "0.00", "gross": "606.00", "taxable": "550.00",
                              "vat": "56.00"}
    assert {"label": "B – VAT 16%", "sales": "348.00", "returns": "0.00", "gross": "348.00", "taxable": "300.00",
            "vat": "48.00"} in body["rows"]


def test_api_bad_filters_are_a_400_with_field_errors(shop, owner, manager):
    response = _api(owner).get(reverse("reports-api-detail", args=["vat"]), {"preset": "custom", "start": "2026-03-11",
                                                                             "end": "2026-03-01"})
    assert response.status_code == 400 and "end" in response.json()["errors"]
    response = _api(manager).get(reverse("reports-api-detail", args=["vat"]), {**RANGE, "branch": shop.westlands.pk})
    assert response.status_code == 400 and "Unknown branch" in response.json()["detail"]
    assert _api(owner).get(reverse("reports-api-detail", args=["nope"])).status_code == 404


def test_api_dashboard(shop, owner, manager, monkeypatch):
    from django.utils import timezone

    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: DAY + dt.timedelta(days=7))
    body = _api(owner).get(reverse("reports-api-dashboard"), {"branch": shop.main.pk}).json()
    assert body["week_ago"]["sales"] == "490.00" and body["week_ago"]["margin"] == "17.8"
    assert "margin" not in _api(manager).get(reverse("reports-api-dashboard")).json()["week_ago"]


def test_export_pages_do_not_grow_with_the_number_of_exports(owner, owner_client, django_assert_max_num_queries):
    from reports.models import ExportJob

    for _ in range(15):
        ExportJob.objects.create(user=owner, report="vat", format="csv", params={"start": "2026-03-01",
                                                                                   "end": "2026-03-31"})
    with django_assert_max_num_queries(6):
        response = owner_client.get(reverse("reports:export_list"))
    assert response.status_code == 200 and response.content.decode().count("2026-03-01 – 2026-03-31") == 15
    job = ExportJob.objects.first()
    with django_assert_max_num_queries(6):
        response = owner_client.get(reverse("reports:export_detail", args=[job.token]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and 'value="0"' in response.content.decode()  # still polling
