"""Project-wide pytest fixtures: people of every role, logged-in clients, the live server's browser."""

import pytest
from django.test import Client

from core.roles import Role
from pos.tests.factories import BranchFactory, UserFactory, put_back_migration_rows

DEFAULT_PASSWORD = "correct-horse-77"


def _uses_the_database(item) -> bool:
    names = set(getattr(item, "fixturenames", ()))
    return bool(item.get_closest_marker("django_db") or names & {"db", "transactional_db", "django_db_setup"})


@pytest.fixture(scope="session", autouse=True)
def _migration_data(request, django_db_blocker):
    """The rows migrations make (the MAIN branch, the settings row, the site). A transactional test
    (browser, concurrency) flushes every table when it ends, so with --reuse-db the next run would
    start without them; put them back once per session. A run with no database test sets up no test
    database (pytest-django), and must not write to the shop's own."""
    if not any(_uses_the_database(item) for item in request.session.items):
        return
    request.getfixturevalue("django_db_setup")
    with django_db_blocker.unblock():
        put_back_migration_rows()


@pytest.fixture(autouse=True)
def _migration_rows(request):
    """Every database test starts with the migrations' rows, whichever transactional test ran before
    it on this worker (inside the test's own transaction: what a test changes stays its own)."""
    if not _uses_the_database(request.node):
        return
    if not request.node.get_closest_marker("django_db"):  # the database comes through a fixture: set it up first
        request.getfixturevalue("transactional_db" if "transactional_db" in request.fixturenames else "db")
    put_back_migration_rows()


@pytest.fixture
def branch(db):
    """The branch migration 0002 creates. get_or_create: a transactional test (browser, concurrency)
    flushes the database afterwards, migration data included."""
    from pos.people.models import DEFAULT_BRANCH_CODE, Branch

    return Branch.objects.get_or_create(code=DEFAULT_BRANCH_CODE, defaults={"name": "Main branch"})[0]


@pytest.fixture
def other_branch(db):
    return BranchFactory(name="Westlands", code="WSTL")


@pytest.fixture
def owner(branch):
    return UserFactory(role=Role.OWNER, branch=branch, full_name="Olive Owner", is_superuser=True)


@pytest.fixture
def manager(branch):
    return UserFactory(role=Role.MANAGER, branch=branch, full_name="Mark Manager")


@pytest.fixture
def employee(branch):
    return UserFactory(role=Role.EMPLOYEE, branch=branch, full_name="Esther Cashier")


@pytest.fixture
def cashier(employee):
    return employee


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def owner_client(owner):
    return _client_for(owner)


@pytest.fixture
def manager_client(manager):
    return _client_for(manager)


@pytest.fixture
def employee_client(employee):
    return _client_for(employee)


@pytest.fixture
def client_for():
    return _client_for


@pytest.fixture(scope="module")
def _url_world_of_the_module(django_db_setup, django_db_blocker):
    """The URL-walking suites' world (`config/tests/url_world.py`), built once per test module.

    It lives in a transaction opened here and rolled back when the module is done; each test's own
    transaction (the `django_db` marker) is a savepoint inside it, so what one test changes is gone for
    the next while the world stays. Not for transactional tests (`transaction=True`)."""
    from django.db import transaction

    from config.tests.url_world import build_world

    with django_db_blocker.unblock(), transaction.atomic():
        put_back_migration_rows()
        yield build_world()
        transaction.set_rollback(True)


@pytest.fixture
def url_world(_url_world_of_the_module):
    """The module's world for one test; objects a test made on first use are forgotten after it (its
    rollback removed their rows), so the next test makes its own."""
    from config.tests.url_world import forget_made_on_first_use

    yield _url_world_of_the_module
    forget_made_on_first_use(_url_world_of_the_module)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Every test starts with an empty cache (allauth's rate-limit counters, cached shop settings) and
    an empty content-type cache (a transactional test's flush re-creates content types with new ids;
    a stale cached id would break the stock ledger's reference foreign key)."""
    from django.contrib.contenttypes.models import ContentType
    from django.core.cache import cache

    cache.clear()
    ContentType.objects.clear_cache()
    yield
    cache.clear()
    ContentType.objects.clear_cache()


# ---------------------------------------------------------------------------- browser tests
# pytest-playwright with Debian's Chromium (`playwright install` does not work on these machines).
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # The shop's tablets: 768×1024 portrait.
    return {**browser_context_args, "viewport": {"width": 768, "height": 1024}}


@pytest.fixture(scope="session")
def browser_context_args_timeouts():
    """Wait up to 15 s (not Playwright's 5 s) for what a page should show: CI's 2-core machine, busy
    with the live server, a Huey consumer and Chromium, once took over 5 s to answer a log-out POST.
    A passing check takes no longer for it."""
    from playwright.sync_api import expect

    expect.set_options(timeout=15_000)


@pytest.fixture(autouse=True)
def _e2e_patience(request):
    if request.node.get_closest_marker("e2e"):
        request.getfixturevalue("browser_context_args_timeouts")


@pytest.fixture
def e2e(live_server):
    """A browser test: the live server's URL.

    Playwright's sync API keeps an event loop in this thread, so Django's async-safety check must be
    told that the test's own database calls (and the flush after it) are fine. Set for the rest of
    the session on purpose: undoing it before pytest-django's flush would make the flush fail.
    """
    import os

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    return live_server.url


def pytest_runtest_setup(item):
    """`mysql_only` tests need real row locks: skip them when the suite runs on SQLite."""
    if item.get_closest_marker("mysql_only"):
        from django.db import connection

        if connection.vendor != "mysql":
            pytest.skip("needs MySQL/MariaDB (row locks); run with DATABASE_URL=mysql://…")
