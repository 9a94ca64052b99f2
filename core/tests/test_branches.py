"""What a member of staff may see: owners every branch, everyone else their own."""

import pytest

from core.branches import for_viewer, may_use_branch
from core.roles import Role
from inventory.models import Transfer
from pos.people.models import Branch, User
from pos.tests.factories import BranchFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def westlands():
    return BranchFactory(name="Westlands", code="WSTL")


def test_owners_see_every_branch_and_others_their_own(branch, westlands):
    owner = UserFactory(role=Role.OWNER, branch=branch)
    manager = UserFactory(role=Role.MANAGER, branch=westlands)
    people = User.objects.filter(pk__in=[owner.pk, manager.pk])
    assert set(for_viewer(people, owner)) == {owner, manager}
    assert list(for_viewer(people, manager)) == [manager]
    assert list(for_viewer(Branch.objects.all(), manager, field="pk")) == [westlands]
    assert may_use_branch(owner, westlands.pk) and may_use_branch(manager, westlands.pk)
    assert not may_use_branch(manager, branch.pk)


def test_a_row_with_several_branches_is_seen_from_either_end(branch, westlands):
    manager = UserFactory(role=Role.MANAGER, branch=westlands)
    stranger = BranchFactory(name="Kisumu", code="KSM")
    outgoing = Transfer.objects.create(from_branch=westlands, to_branch=branch, created_by=manager)
    incoming = Transfer.objects.create(from_branch=branch, to_branch=westlands, created_by=manager)
    elsewhere = Transfer.objects.create(from_branch=branch, to_branch=stranger, created_by=manager)
    seen = set(for_viewer(Transfer.objects.all(), manager, field=("from_branch", "to_branch")))
    assert seen == {outgoing, incoming}
    assert elsewhere not in seen


def test_unassigned_rows_are_kept_only_when_asked(branch, westlands):
    from decimal import Decimal

    from django.utils import timezone

    from cashdesk.mpesa.models import C2BPayment

    manager = UserFactory(role=Role.MANAGER, branch=westlands)

    def incoming(code, at):
        return C2BPayment.objects.create(trans_id=code, transaction_type="Pay Bill", trans_time=timezone.now(),
                                         amount=Decimal("100.00"), shortcode="600000", branch=at)

    mine, unknown = incoming("SAB0000001", westlands), incoming("SAB0000002", None)
    theirs = incoming("SAB0000003", branch)
    qs = C2BPayment.objects.all()
    assert list(for_viewer(qs, manager)) == [mine]
    assert set(for_viewer(qs, manager, unassigned=True)) == {mine, unknown}
    assert theirs not in for_viewer(qs, manager, unassigned=True)
