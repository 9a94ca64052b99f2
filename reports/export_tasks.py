"""Huey tasks of the reports: a long CSV/PDF export written in the background while the page polls.

Registered from `ReportsConfig.ready()` so the consumer knows them (the analytics keep `tasks.py`).
"""

from huey.contrib.djhuey import db_task

from reports import export_services


@db_task(retries=1, retry_delay=30)
def export_job_run(job_id: int) -> None:
    export_services.export_job_run(job_id=job_id)
