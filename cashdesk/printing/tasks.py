"""Huey tasks of the counter's printer: send one job. Safe to run twice (a printed job is not resent)."""

from huey.contrib.djhuey import db_task


@db_task()
def print_job_run(job_id: int) -> None:
    from cashdesk.printing.services import print_job_send

    print_job_send(job_id=job_id)
