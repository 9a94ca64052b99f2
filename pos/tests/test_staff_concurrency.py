"""Two owners demoting each other at the same moment on MariaDB: the row locks keep one owner."""

import threading

import pytest
from django.db import connection

from core.roles import Role
from pos.people import services
from pos.people.models import User
from pos.people.services import StaffError
from pos.tests.factories import UserFactory


@pytest.mark.mysql_only
@pytest.mark.django_db(transaction=True)  # the `branch` fixture re-creates the migration-made branch
def test_two_owners_demoting_each_other_at_once_leave_one_owner(branch):
    first = UserFactory(role=Role.OWNER, branch=branch, full_name="First Owner")
    second = UserFactory(role=Role.OWNER, branch=branch, full_name="Second Owner")
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def demote(actor_pk: int, target_pk: int, key: str) -> None:
        try:
            actor = User.objects.get(pk=actor_pk)  # both still owners when the requests start
            target = User.objects.get(pk=target_pk)
            barrier.wait(timeout=10)
            services.staff_update(
                actor=actor, user=target, full_name=target.full_name, role=Role.MANAGER,
                branch=target.branch, email=target.email, phone_number=target.phone_number,
            )
            outcomes[key] = "demoted"
        except StaffError as exc:
            outcomes[key] = exc.message
        except Exception as exc:  # a deadlock or anything else: show it in the failure
            outcomes[key] = repr(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=demote, args=(first.pk, second.pk, "first demotes second")),
        threading.Thread(target=demote, args=(second.pk, first.pk, "second demotes first")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes.values()) == ["The shop must keep at least one active owner.", "demoted"]
    assert User.objects.filter(role=Role.OWNER, is_active=True).count() == 1
