"""Role matrix for the project-level URLs of config/ (metrics)."""

from pos.tests.matrix import FORBIDDEN, OK, Case

CASES = [
    # A scraper sends a bearer token (tested in test_metrics); without one: 401, staff 403, owners OK.
    Case("metrics", {"anonymous": 401, "employee": FORBIDDEN, "manager": FORBIDDEN, "owner": OK}),
]
