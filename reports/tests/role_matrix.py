"""Role matrix for the report pages, CSV/PDF downloads and exports (see pos/tests/matrix.py).

Reports are for managers and owners; profit reports for owners only (Perm.VIEW_PROFIT). An export
belongs to the owner who asked for it: anyone else who may see reports gets 404 for it.
The analytics' URLs are in role_matrix_analytics.py.
"""

from pos.tests.matrix import FORBIDDEN, LOGIN, NOT_FOUND, OK, Case, managers_and_owners, owners_only

RANGE = "preset=custom&start=2026-03-01&end=2026-03-31"


def prepare(world):
    from django.core.files.base import ContentFile

    from reports.models import ExportJob, ExportStatus

    job = ExportJob(user=world.users["owner"], report="sales-by-day", format="csv", params={
        "preset": "custom", "start": "2026-03-01", "end": "2026-03-31"}, status=ExportStatus.DONE, progress=100)
    job.file.save("sales-by-day.csv", ContentFile(b"Day,Sales\n"), save=False)
    job.save()
    world.export_job = job


def _job(world):
    return [world.export_job.token]


def _export_post(world):
    return {"preset": "custom", "start": "2026-03-01", "end": "2026-03-31", "format": "csv"}


OWNER_ONLY_OBJECT = {"anonymous": LOGIN, "employee": FORBIDDEN, "manager": NOT_FOUND, "owner": OK}

CASES = [
    Case("reports:dashboard", managers_and_owners()),
    Case("reports:dashboard", managers_and_owners(), query="branch=999999", id="get:reports:dashboard?bad-branch"),
    Case("reports:index", managers_and_owners()),
    Case("reports:export_list", managers_and_owners()),
    Case("reports:report", managers_and_owners(), args=lambda w: ["sales-by-day"], query=RANGE),
    Case("reports:report", managers_and_owners(), args=lambda w: ["sales-by-day"], query=RANGE, htmx=True,
         id="htmx:reports:report"),
    Case("reports:report", owners_only(), args=lambda w: ["profit-by-product"], query=RANGE,
         id="get:reports:report:profit"),
    Case("reports:report", managers_and_owners(), args=lambda w: ["inventory-valuation"],
         id="get:reports:report:valuation"),
    Case("reports:report", managers_and_owners(manager=NOT_FOUND, owner=NOT_FOUND), args=lambda w: ["nope"],
         id="get:reports:report:unknown"),
    Case("reports:report", managers_and_owners(manager=400, owner=400), args=lambda w: ["sales-by-day"],
         query="preset=custom&start=2026-03-31&end=2026-03-01", id="get:reports:report:bad-range"),
    Case("reports:report_csv", managers_and_owners(), args=lambda w: ["sales-by-day"], query=RANGE),
    Case("reports:report_csv", owners_only(), args=lambda w: ["profit-by-category"], query=RANGE,
         id="get:reports:report_csv:profit"),
    Case("reports:report_pdf", managers_and_owners(), args=lambda w: ["vat"], query=RANGE),
    Case("reports:export_start", managers_and_owners(), args=lambda w: ["sales-by-day"], method="post",
         data=_export_post),
    Case("reports:export_detail", OWNER_ONLY_OBJECT, args=_job),
    Case("reports:export_detail", OWNER_ONLY_OBJECT, args=_job, htmx=True, id="htmx:reports:export_detail"),
    Case("reports:export_download", OWNER_ONLY_OBJECT, args=_job),
]

CASES += [
    Case("reports-api-list", managers_and_owners(), api=True),
    Case("reports-api-dashboard", managers_and_owners(), api=True),
    Case("reports-api-detail", managers_and_owners(), args=lambda w: ["sales-by-day"], query=RANGE, api=True),
    Case("reports-api-detail", owners_only(), args=lambda w: ["profit-by-product"], query=RANGE, api=True,
         id="api:reports-api-detail:profit"),
    Case("reports-api-detail", managers_and_owners(manager=400, owner=400), args=lambda w: ["vat"],
         query="preset=custom&start=2026-03-31&end=2026-03-01", api=True, id="api:reports-api-detail:bad-range"),
]
