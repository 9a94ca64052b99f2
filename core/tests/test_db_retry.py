"""A unit of work that InnoDB picks as a deadlock victim runs again, whole, and nothing of the lost
attempt stays; the same for an API request with an Idempotency-Key. The deadlock is simulated (SQLite
never has one); the real races are in cashdesk/tests/test_api_lock_races.py on MariaDB."""

import pytest
from django.db import OperationalError, transaction
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from core import db
from core.db import ATTEMPTS, retry_on_deadlock
from core.idempotency import REPLAYED_HEADER, run_idempotent
from core.models import ApiIdempotencyKey

# The retry only runs outside any transaction: the test itself must not be wrapped in one.
pytestmark = pytest.mark.django_db(transaction=True)

DEADLOCK = OperationalError(1213, "Deadlock found when trying to get lock; try restarting transaction")


@pytest.fixture(autouse=True)
def _no_waiting(monkeypatch):
    monkeypatch.setattr(db.time, "sleep", lambda seconds: None)


def _losing(times: int, error=DEADLOCK):
    """A unit of work that writes a row, then loses the lock race `times` times before it succeeds."""
    calls = []

    @retry_on_deadlock
    @transaction.atomic
    def work(user):
        calls.append(1)
        ApiIdempotencyKey.objects.create(user=user, key=f"attempt-{len(calls)}", endpoint="test", request_hash="x")
        if len(calls) <= times:
            raise error
        return len(calls)

    return work, calls


def test_a_deadlock_victim_runs_again_and_keeps_only_the_winning_attempt(employee):
    work, calls = _losing(2)
    assert work(employee) == 3
    assert list(ApiIdempotencyKey.objects.values_list("key", flat=True)) == ["attempt-3"]


def test_a_lock_wait_timeout_is_retried_too(employee):
    work, calls = _losing(1, OperationalError(1205, "Lock wait timeout exceeded; try restarting transaction"))
    assert work(employee) == 2


def test_it_gives_up_after_the_last_attempt_and_leaves_nothing(employee):
    work, calls = _losing(ATTEMPTS)
    with pytest.raises(OperationalError):
        work(employee)
    assert len(calls) == ATTEMPTS and not ApiIdempotencyKey.objects.exists()


def test_other_database_errors_are_not_retried(employee):
    work, calls = _losing(1, OperationalError(2006, "MySQL server has gone away"))
    with pytest.raises(OperationalError):
        work(employee)
    assert len(calls) == 1


def test_inside_a_transaction_the_error_goes_up_to_the_outermost_unit(employee):
    work, calls = _losing(1)
    with pytest.raises(OperationalError), transaction.atomic():
        work(employee)
    assert len(calls) == 1


def _request(user, key: str):
    request = APIRequestFactory().post("/api/anything/", {"amount": "10"}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    force_authenticate(request, user=user)
    return APIView().initialize_request(request)


def test_a_keyed_api_request_that_loses_a_lock_race_runs_again_with_its_key(employee):
    calls = []

    def run():
        calls.append(1)
        ApiIdempotencyKey.objects.create(user=employee, key=f"work-{len(calls)}", endpoint="work", request_hash="x")
        if len(calls) == 1:
            raise DEADLOCK
        return Response({"attempt": len(calls)}, status=201)

    request = _request(employee, "till-7-sale-1")
    request.user  # noqa: B018 - authenticate before the work, as DRF does when the view runs
    response = run_idempotent(request, endpoint="test:create", run=run)
    assert response.status_code == 201 and response.data == {"attempt": 2}
    stored = ApiIdempotencyKey.objects.get(key="till-7-sale-1")
    assert (stored.status_code, stored.response_body) == (201, {"attempt": 2})
    assert set(ApiIdempotencyKey.objects.values_list("key", flat=True)) == {"till-7-sale-1", "work-2"}

    again = run_idempotent(_request(employee, "till-7-sale-1"), endpoint="test:create", run=run)
    assert again.data == {"attempt": 2} and again[REPLAYED_HEADER] == "true" and len(calls) == 2
