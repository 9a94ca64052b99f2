"""Huey tasks of the `pos` app: Huey finds them here; they are defined by area."""

from pos.sales import tasks  # noqa: F401
