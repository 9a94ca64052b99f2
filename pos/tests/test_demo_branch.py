"""The demo shop's branches: the receipt prints "name · address", so an address must not repeat the name."""

import pytest

from pos.people.demo import seed_people
from pos.people.models import DEFAULT_BRANCH_CODE, Branch

pytestmark = pytest.mark.django_db


def _assert_no_repetition():
    for branch in Branch.objects.all():
        assert branch.address, branch.code
        assert branch.name.lower() not in branch.address.lower(), (branch.name, branch.address)


def test_demo_branch_addresses_do_not_repeat_their_names(branch):
    seed_people(log=lambda *a, **k: None)
    _assert_no_repetition()
    assert Branch.objects.get(code=DEFAULT_BRANCH_CODE).name == "City Centre"


def test_a_demo_seeded_before_the_fix_is_corrected_and_a_real_shop_is_left_alone(branch):
    Branch.objects.filter(pk=branch.pk).update(name="Kimathi Street", address="Kimathi Street, Nairobi CBD")
    Branch.objects.create(code="WSTL", name="Westlands", address="Woodvale Grove, Westlands")
    seed_people(log=lambda *a, **k: None)
    _assert_no_repetition()
    Branch.objects.filter(pk=branch.pk).update(name="Duka la Mama", address="Biashara Street")
    seed_people(log=lambda *a, **k: None)
    branch.refresh_from_db()
    assert (branch.name, branch.address) == ("Duka la Mama", "Biashara Street")  # a shop's own names stay
