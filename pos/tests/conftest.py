"""Browser tests of the till: headless Debian Chromium for pytest-playwright."""

import os

import pytest


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    }


@pytest.fixture(scope="session", autouse=True)
def _orm_under_playwright(request):
    """Playwright's sync API runs an event loop in the test thread, and the ORM refuses to run beside
    one unless told. Only in a run that has browser tests (`-m e2e`): the check stays on otherwise."""
    if any(item.get_closest_marker("e2e") for item in request.session.items):
        os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    yield
