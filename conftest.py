"""Project-wide pytest fixtures: people of every role, logged-in clients, the live server's browser."""

import pytest
from django.test import Client

from pos.roles import Role
from pos.tests.factories import BranchFactory, UserFactory

DEFAULT_PASSWORD = "correct-horse-77"


@pytest.fixture
def branch(db):
    from pos.models import DEFAULT_BRANCH_CODE, Branch

    # get_or_create: transactional tests flush the rows the data migration made
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


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache (cached shop settings, rate limits, tokens)."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
