"""The primary/replica router, with a real second SQLite database standing in for the replica."""

import threading

import pytest
from django.db import connections, transaction
from django.db.utils import ConnectionHandler

from core.ops.db_router import REPLICA_DB_ALIAS, PrimaryReplicaRouter, replica_configured, use_replica
from pos.people.models import Branch

# The suite has no replica (settings.test drops it). This module plugs a second SQLite database in as
# `replica` for its own tests and takes it out again. The tests run inside Django's per-test transaction,
# which the router knows is not the application's (see test_testcase_transaction_does_not_count).
pytestmark = pytest.mark.django_db(databases=["default", REPLICA_DB_ALIAS])


@pytest.fixture(scope="module", autouse=True)
def replica_alias(tmp_path_factory, django_db_setup, django_db_blocker):
    """Registered before pytest-django checks which databases the tests may use."""
    path = tmp_path_factory.mktemp("replica") / "replica.sqlite3"
    handler = ConnectionHandler(
        {"default": {}, REPLICA_DB_ALIAS: {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path)}}
    )
    connections.settings[REPLICA_DB_ALIAS] = handler.settings[REPLICA_DB_ALIAS]
    with django_db_blocker.unblock(), connections[REPLICA_DB_ALIAS].schema_editor() as editor:
        editor.create_model(Branch)  # the replica's copy of the schema (replication does this for real)
    yield
    connections[REPLICA_DB_ALIAS].close()
    del connections[REPLICA_DB_ALIAS]
    del connections.settings[REPLICA_DB_ALIAS]


@pytest.fixture
def replica(branch):  # `branch`: the MAIN branch on default, which the replica does not have
    connection = connections[REPLICA_DB_ALIAS]
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {Branch._meta.db_table}")  # noqa: S608 (a constant table name)
    # A row only the replica has, so a read that finds it must have gone there.
    # (An id default does not use, so saving it below cannot overwrite one of default's rows.)
    Branch.objects.using(REPLICA_DB_ALIAS).create(pk=9001, name="Only On Replica", code="REPL")
    return connection


def _replica_codes():
    return set(Branch.objects.using(REPLICA_DB_ALIAS).values_list("code", flat=True))


def test_reads_go_to_default_outside_the_block(replica):
    assert replica_configured()
    assert not Branch.objects.filter(code="REPL").exists()
    assert Branch.objects.filter(code="MAIN").exists()


def test_reads_inside_use_replica_hit_the_replica(replica):
    with use_replica():
        assert Branch.objects.filter(code="REPL").exists()
        assert not Branch.objects.filter(code="MAIN").exists()  # MAIN lives on default only
        found = Branch.objects.get(code="REPL")
    assert found._state.db == REPLICA_DB_ALIAS
    assert not Branch.objects.filter(code="REPL").exists()  # back to default after the block


def test_writes_inside_use_replica_go_to_default(replica):
    with use_replica():
        Branch.objects.create(name="Westlands", code="WSTL")
        Branch.objects.filter(code="MAIN").update(address="Moi Avenue")
        found = Branch.objects.get(code="REPL")  # read from the replica ...
        found.address = "changed"
        found.save()  # ... but saved to default, never to the replica

    assert "WSTL" not in _replica_codes()
    assert Branch.objects.using(REPLICA_DB_ALIAS).get(code="REPL").address == ""
    assert Branch.objects.filter(code="WSTL").exists()
    assert Branch.objects.get(code="MAIN").address == "Moi Avenue"
    assert Branch.objects.filter(code="REPL", address="changed").exists()  # an insert on default


def test_inside_a_transaction_reads_stay_on_default(replica):
    with transaction.atomic(), use_replica():
        Branch.objects.create(name="Karen", code="KRN")
        assert Branch.objects.filter(code="KRN").exists()  # sees its own write
        assert not Branch.objects.filter(code="REPL").exists()
    with use_replica():
        assert Branch.objects.filter(code="REPL").exists()


def test_the_choice_is_per_thread(replica):
    seen = {}

    def other_thread():
        seen["other"] = PrimaryReplicaRouter().db_for_read(Branch)

    with use_replica():
        worker = threading.Thread(target=other_thread)
        worker.start()
        worker.join()
        seen["here"] = PrimaryReplicaRouter().db_for_read(Branch)
    assert seen == {"other": "default", "here": REPLICA_DB_ALIAS}


def test_block_is_reset_after_an_error(replica):
    with pytest.raises(RuntimeError), use_replica():
        raise RuntimeError("report failed")
    assert PrimaryReplicaRouter().db_for_read(Branch) == "default"


def test_migrations_only_on_default():
    router = PrimaryReplicaRouter()
    assert router.allow_migrate("default", "pos") is True
    assert router.allow_migrate(REPLICA_DB_ALIAS, "pos") is False


def test_without_a_replica_use_replica_changes_nothing(monkeypatch, branch):
    monkeypatch.delitem(connections.settings, REPLICA_DB_ALIAS)
    assert not replica_configured()
    with use_replica():
        assert PrimaryReplicaRouter().db_for_read(Branch) == "default"
        assert Branch.objects.filter(code="MAIN").exists()


def test_testcase_transaction_does_not_count(replica):
    """Every test here runs inside Django's TestCase atomic blocks; they must not pin reads to default."""
    from django.db import connection

    assert connection.in_atomic_block
    with use_replica():
        assert Branch.objects.filter(code="REPL").exists()
