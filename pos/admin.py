"""Admin of the `pos` app: Django finds it here; the registrations are by area."""

from pos.people import admin  # noqa: F401
