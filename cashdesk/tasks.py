"""Huey tasks of the cash desk: Huey finds them here; they are defined by area."""

from cashdesk.mpesa import tasks  # noqa: F401
