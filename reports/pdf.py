"""Reports as A4 PDFs (WeasyPrint) and streamed CSV: one template and one writer for every report."""

import csv
import datetime as dt
from collections.abc import Iterable, Iterator
from decimal import Decimal

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import timezone

from pos.people.selectors import shop_settings
from reports.registry import Report

PDF_STYLESHEET = "css/reports-pdf.css"


def render_report_pdf(*, report: Report, rows: list[dict], totals: dict | None, filters: dict, user=None,
                      base_url: str | None = None) -> bytes:
    """The report on A4: the shop's header, the filters used, the table, totals; page numbers in the footer."""
    from weasyprint import CSS, HTML  # imported late: Pango loads only when a PDF is asked for  # noqa: PLC0415 - WeasyPrint takes a second to load: only processes that print pay for it

    html = render_to_string(
        "reports/report_pdf.html",
        {
            "report": report,
            "rows": rows,
            "totals": totals,
            "filters": filters,
            "shop": shop_settings(),
            "printed_at": timezone.localtime(),
            "printed_by": user,
        },
    )
    stylesheet = finders.find(PDF_STYLESHEET)
    stylesheets = [CSS(filename=stylesheet)] if stylesheet else None
    return HTML(string=html, base_url=base_url).write_pdf(stylesheets=stylesheets)


def csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:f}"
    text = str(value)
    # A cell starting with = + - @ would be run as a formula by a spreadsheet (CSV injection).
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    except ValueError:
        return False
    return True


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(*, report: Report, rows: Iterable[dict], totals: dict | None, filters: dict) -> Iterator[str]:
    """The CSV, line by line (for a StreamingHttpResponse or a file): a header, the rows, a totals row."""
    writer = csv.writer(_Echo())
    yield "\ufeff"  # a BOM, so Excel opens the UTF-8 (KES amounts, names with accents) correctly
    yield writer.writerow([f"# {report.title}", f"{filters['period']}", f"{filters['branch']}"])
    yield writer.writerow([c.label for c in report.columns])
    for row in rows:
        yield writer.writerow([csv_cell(row.get(c.key)) for c in report.columns])
    if totals:
        yield writer.writerow(
            ["Total" if i == 0 and not c.numeric else csv_cell(totals.get(c.key)) for i, c in enumerate(report.columns)]
        )
