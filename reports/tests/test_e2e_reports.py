"""In a real browser: the owner lands on the dashboard (charts drawn under our CSP), opens the VAT
report for a custom period and one branch, downloads the PDF and its text has the hand-worked figures.
Screenshots (768×1024 tablet) of the dashboard and the report go to $E2E_SCREENSHOTS (default /tmp/shots),
with the PDF's first page as a PNG when pdftoppm is there.

    DJANGO_ALLOW_ASYNC_UNSAFE=true pytest -m e2e reports/tests/test_e2e_reports.py
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from pos.tests.factories import DEFAULT_PASSWORD
from reports.tests.conftest import DAY

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SHOTS = Path(os.environ.get("E2E_SCREENSHOTS", "/tmp/shots"))


def test_owner_downloads_the_vat_report_as_pdf(live_server, page: Page, shop, owner, tmp_path):
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    from reports.summaries import summaries_catch_up

    summaries_catch_up()  # the shop's March days are read from the report summaries, as a real shop's would be
    problems = []
    page.on(
        "console",
        lambda m: problems.append(m.text) if m.type == "error" or "Content Security Policy" in m.text else None,
    )
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", owner.phone_number)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{live_server.url}/reports/")
    expect(page.get_by_test_id("dashboard-kpis")).to_contain_text("Sales (KES)")
    # Chart.js drew on the canvas (it sizes the canvas when it draws).
    page.wait_for_function(
        "() => { const c = document.getElementById('chart-hours');"
        " return c && c.width > 0 && window.Chart && Chart.getChart(c); }"
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "reports-dashboard.png"), full_page=True)

    page.goto(f"{live_server.url}/reports/view/vat/")
    page.select_option("select[name=preset]", "custom")
    page.fill("input[name=start]", DAY.isoformat())
    page.fill("input[name=end]", "2026-03-11")
    page.select_option("select[name=branch]", str(shop.main.pk))
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_test_id("report-filters-used")).to_contain_text("10 Mar 2026 – 11 Mar 2026 · Main branch")
    expect(page.get_by_test_id("report-totals")).to_contain_text("56.00")
    page.screenshot(path=str(SHOTS / "reports-vat.png"), full_page=True)

    with page.expect_download() as download_info:
        page.get_by_test_id("download-pdf").click()
    download = download_info.value
    assert download.suggested_filename == "vat-20260310-20260311.pdf"
    pdf = tmp_path / "vat.pdf"
    download.save_as(str(pdf))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True).stdout.decode()
    assert "VAT by tax class" in text
    assert "10 Mar 2026 – 11 Mar 2026" in text and "Main branch" in text
    assert "Page 1 of 1" in text
    lines = {line.strip().split("  ")[0]: line for line in text.splitlines() if line.strip()}
    assert "348.00" in lines["B – VAT 16%"] and "300.00" in lines["B – VAT 16%"] and "48.00" in lines["B – VAT 16%"]
    assert "606.00" in lines["Total"] and "550.00" in lines["Total"] and "56.00" in lines["Total"]
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(SHOTS / "reports-vat-pdf")],
                       check=True)
    assert not problems, problems
