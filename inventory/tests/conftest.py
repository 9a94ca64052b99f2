"""Fixtures of the stock tests: Debian's Chromium for the browser tests (pytest-playwright)."""

import os

import pytest

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium", "args": CHROMIUM_ARGS}


def pytest_runtest_setup(item):
    """Playwright's sync API runs an event loop in the test's thread while the test and the live
    server's set-up make ordinary synchronous ORM calls: tell Django's async-safety check so, for
    browser tests only (`.ci/test` sets the same variable for its e2e pass)."""
    if item.get_closest_marker("e2e"):
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
