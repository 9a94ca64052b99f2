"""Huey tasks of the cash desk: Huey finds them here; they are defined by area."""

from cashdesk.etims import tasks as etims_tasks  # noqa: F401
from cashdesk.mpesa import tasks  # noqa: F401
from cashdesk.printing import tasks as printing_tasks  # noqa: F401
