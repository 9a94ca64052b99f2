"""Every rule of the staff services: who may add, change, deactivate, reset and set PINs for whom."""

from datetime import timedelta

import pytest
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone

from core.roles import Role
from pos.people import services
from pos.people.audit import AuditAction
from pos.people.models import AuditLog, User
from pos.people.services import PinError, StaffError
from pos.tests.factories import DEFAULT_PIN, BranchFactory, UserFactory

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "Mauzo-mazuri-2024"


def _create(actor, **overrides):
    data = {
        "phone_number": "0799 123 456",
        "full_name": "  Neema Cashier ",
        "role": Role.EMPLOYEE,
        "branch": actor.branch,
        "password": GOOD_PASSWORD,
        "email": "",
    }
    data.update(overrides)
    return services.staff_create(actor=actor, **data)


def _update(actor, person, **overrides):
    data = {
        "full_name": person.full_name,
        "role": person.role,
        "branch": person.branch,
        "email": person.email,
        "phone_number": person.phone_number,
    }
    data.update(overrides)
    return services.staff_update(actor=actor, user=person, **data)


# ---------------------------------------------------------------------------- create
def test_a_manager_adds_a_cashier_who_can_log_in(manager):
    person = _create(manager)
    assert person.phone_number == "+254799123456"
    assert person.full_name == "Neema Cashier"
    assert person.role == Role.EMPLOYEE and not person.is_superuser
    assert person.email is None
    assert person.check_password(GOOD_PASSWORD)
    row = AuditLog.objects.get(action=AuditAction.STAFF_CREATED)
    assert row.user == manager and row.object_id == str(person.pk)
    assert row.after_data["role"] == Role.EMPLOYEE and row.after_data["phone_number"] == "+254799123456"


def test_an_owner_may_create_an_owner(owner):
    person = _create(owner, role=Role.OWNER, email="Second@Owner.KE")
    assert person.role == Role.OWNER and person.is_superuser
    assert person.email == "second@owner.ke"


def test_a_manager_cannot_create_an_owner(manager):
    with pytest.raises(StaffError, match="Only an owner can make someone an owner") as exc:
        _create(manager, role=Role.OWNER)
    assert exc.value.field == "role"
    assert not User.objects.filter(phone_number="+254799123456").exists()
    assert not AuditLog.objects.exists()


def test_an_employee_cannot_add_anyone(employee):
    with pytest.raises(StaffError, match="You may not manage staff"):
        _create(employee)


def test_a_made_up_role_is_refused(owner):
    with pytest.raises(StaffError, match="Choose a role"):
        _create(owner, role="GOD")


def test_a_manager_adds_only_to_their_own_branch(manager, other_branch):
    with pytest.raises(StaffError, match="your own branch") as exc:
        _create(manager, branch=other_branch)
    assert exc.value.field == "branch"


def test_an_owner_adds_to_any_open_branch_but_not_a_closed_one(owner, other_branch):
    assert _create(owner, branch=other_branch).branch == other_branch
    closed = BranchFactory(name="Closed", code="SHUT", is_active=False)
    with pytest.raises(StaffError, match="open branch"):
        _create(owner, branch=closed, phone_number="0799 000 222")


def test_a_duplicate_number_is_refused_however_it_is_typed(manager, employee):
    with pytest.raises(StaffError, match="Someone already has this number") as exc:
        _create(manager, phone_number=employee.phone_number.replace("+254", "0"))
    assert exc.value.field == "phone_number"


def test_a_duplicate_email_is_refused(owner, manager):
    manager.email = "mark@shop.co.ke"
    manager.save()
    with pytest.raises(StaffError, match="already uses this e-mail") as exc:
        _create(owner, email="MARK@shop.co.ke")
    assert exc.value.field == "email"


def test_a_weak_password_is_refused(manager):
    with pytest.raises(StaffError) as exc:
        _create(manager, password="12345678")
    assert exc.value.field == "password"
    assert not User.objects.filter(phone_number="+254799123456").exists()


def test_a_malformed_number_is_refused(manager):
    with pytest.raises(ValidationError):
        _create(manager, phone_number="12345")


def test_a_blank_name_is_refused(manager):
    with pytest.raises(ValidationError) as exc:
        _create(manager, full_name="   ")
    assert "full_name" in exc.value.message_dict


# ---------------------------------------------------------------------------- update and roles
def test_a_role_change_is_its_own_audit_row(owner, employee):
    _update(owner, employee, role=Role.MANAGER)
    employee.refresh_from_db()
    assert employee.role == Role.MANAGER
    row = AuditLog.objects.get(action=AuditAction.ROLE_CHANGED)
    assert row.user == owner and row.object_id == str(employee.pk)
    assert row.before_data == {"role": Role.EMPLOYEE} and row.after_data == {"role": Role.MANAGER}
    assert AuditLog.objects.filter(action=AuditAction.STAFF_UPDATED).count() == 1


def test_a_change_without_a_role_change_is_one_row(owner, employee):
    _update(owner, employee, full_name="Esther W. Cashier", phone_number="0722 111 333")
    employee.refresh_from_db()
    assert employee.full_name == "Esther W. Cashier" and employee.phone_number == "+254722111333"
    assert not AuditLog.objects.filter(action=AuditAction.ROLE_CHANGED).exists()
    row = AuditLog.objects.get(action=AuditAction.STAFF_UPDATED)
    assert row.before_data["phone_number"] != row.after_data["phone_number"]


def test_saving_without_changes_records_nothing(owner, employee):
    _update(owner, employee)
    assert not AuditLog.objects.exists()


def test_promoting_to_owner_makes_a_superuser_and_demoting_undoes_it(owner, manager):
    _update(owner, manager, role=Role.OWNER)
    manager.refresh_from_db()
    assert manager.is_superuser and manager.is_owner
    _update(owner, manager, role=Role.EMPLOYEE)
    manager.refresh_from_db()
    assert not manager.is_superuser and manager.role == Role.EMPLOYEE


def test_a_manager_cannot_make_someone_an_owner(manager, employee):
    with pytest.raises(StaffError, match="Only an owner can make someone an owner"):
        _update(manager, employee, role=Role.OWNER)
    employee.refresh_from_db()
    assert employee.role == Role.EMPLOYEE


def test_a_manager_cannot_edit_an_owner_at_all(manager, owner):
    with pytest.raises(StaffError, match="Only an owner can change an owner's account"):
        _update(manager, owner, full_name="Renamed")
    with pytest.raises(StaffError, match="Only an owner can change an owner's account"):
        _update(manager, owner, role=Role.MANAGER)
    owner.refresh_from_db()
    assert owner.full_name == "Olive Owner" and owner.role == Role.OWNER


def test_a_manager_may_promote_an_employee_to_manager(manager, employee):
    _update(manager, employee, role=Role.MANAGER)
    employee.refresh_from_db()
    assert employee.role == Role.MANAGER


def test_a_manager_cannot_touch_another_branchs_staff(manager, other_branch):
    elsewhere = UserFactory(branch=other_branch)
    with pytest.raises(StaffError, match="another branch"):
        _update(manager, elsewhere, full_name="Renamed")
    with pytest.raises(StaffError, match="another branch"):
        services.staff_set_active(actor=manager, user=elsewhere, active=False)
    with pytest.raises(StaffError, match="another branch"):
        services.staff_reset_password(actor=manager, user=elsewhere, password=GOOD_PASSWORD)
    with pytest.raises(StaffError, match="another branch"):
        services.staff_set_pin(actor=manager, user=elsewhere, pin="4826")


def test_a_manager_cannot_move_someone_to_another_branch(manager, employee, other_branch):
    with pytest.raises(StaffError, match="your own branch"):
        _update(manager, employee, branch=other_branch)


def test_an_owner_moves_people_between_branches(owner, employee, other_branch):
    _update(owner, employee, branch=other_branch)
    employee.refresh_from_db()
    assert employee.branch == other_branch


def test_the_last_active_owner_cannot_be_demoted(owner, branch):
    # The only active owner (an inactive owner account does not count)…
    UserFactory(role=Role.OWNER, branch=branch, is_active=False)
    with pytest.raises(StaffError, match="at least one active owner") as exc:
        _update(owner, owner, role=Role.MANAGER)
    assert exc.value.field == "role"
    owner.refresh_from_db()
    assert owner.role == Role.OWNER
    # …while with a second active owner, one owner may demote the other.
    second = UserFactory(role=Role.OWNER, branch=branch)
    _update(second, owner, role=Role.MANAGER)
    owner.refresh_from_db()
    assert owner.role == Role.MANAGER and not owner.is_superuser


def test_a_stale_owner_cannot_demote_the_last_owner(owner, branch):
    """Two owners demote each other at the same moment: the second request still holds an "owner"
    user object, but the locked rows say it is a manager now, so the last owner stays."""
    second = UserFactory(role=Role.OWNER, branch=branch)
    stale_second = User.objects.get(pk=second.pk)
    _update(owner, second, role=Role.MANAGER)
    with pytest.raises(StaffError, match="at least one active owner"):
        _update(stale_second, owner, role=Role.MANAGER)
    owner.refresh_from_db()
    assert owner.role == Role.OWNER and owner.is_active


def test_nobody_changes_their_own_role(owner, manager):
    UserFactory(role=Role.OWNER, branch=owner.branch)  # not the last owner, still refused
    with pytest.raises(StaffError, match="change your own role"):
        _update(owner, owner, role=Role.MANAGER)
    with pytest.raises(StaffError, match="change your own role"):
        _update(manager, manager, role=Role.EMPLOYEE)


def test_a_manager_may_fix_their_own_name(manager):
    _update(manager, manager, full_name="Mark M. Manager")
    manager.refresh_from_db()
    assert manager.full_name == "Mark M. Manager"


def test_a_duplicate_number_on_update_is_refused(owner, employee, manager):
    with pytest.raises(StaffError, match="Someone already has this number"):
        _update(owner, employee, phone_number=manager.phone_number)


# ---------------------------------------------------------------------------- deactivate
def test_deactivate_and_reactivate_are_audited_with_the_reason(manager, employee):
    services.staff_set_active(actor=manager, user=employee, active=False, reason=" left the shop ")
    employee.refresh_from_db()
    assert not employee.is_active
    row = AuditLog.objects.get(action=AuditAction.STAFF_DEACTIVATED)
    assert row.reason == "left the shop" and row.before_data == {"is_active": True}
    services.staff_set_active(actor=manager, user=employee, active=True)
    employee.refresh_from_db()
    assert employee.is_active
    assert AuditLog.objects.filter(action=AuditAction.STAFF_REACTIVATED).count() == 1


def test_deactivating_twice_changes_nothing(manager, employee):
    services.staff_set_active(actor=manager, user=employee, active=False)
    services.staff_set_active(actor=manager, user=employee, active=False)
    assert AuditLog.objects.filter(action=AuditAction.STAFF_DEACTIVATED).count() == 1


def test_an_inactive_actor_manages_nobody(owner, employee, branch):
    gone = UserFactory(role=Role.OWNER, branch=branch, is_active=False)
    with pytest.raises(StaffError, match="You may not manage staff"):
        _update(gone, employee, full_name="Renamed")


def test_nobody_deactivates_themselves(owner, manager):
    UserFactory(role=Role.OWNER, branch=owner.branch)
    for person in (owner, manager):
        with pytest.raises(StaffError, match="cannot deactivate yourself"):
            services.staff_set_active(actor=person, user=person, active=False)
        person.refresh_from_db()
        assert person.is_active


def test_the_last_active_owner_cannot_be_deactivated(owner, branch):
    with pytest.raises(StaffError, match="at least one active owner"):
        services.staff_set_active(actor=owner, user=owner, active=False)
    second = UserFactory(role=Role.OWNER, branch=branch)
    stale_second = User.objects.get(pk=second.pk)
    services.staff_set_active(actor=owner, user=second, active=False)  # fine: `owner` remains
    with pytest.raises(StaffError, match="at least one active owner"):
        services.staff_set_active(actor=stale_second, user=owner, active=False)
    owner.refresh_from_db()
    assert owner.is_active


def test_a_manager_cannot_deactivate_an_owner(manager, owner):
    with pytest.raises(StaffError, match="Only an owner can change an owner's account"):
        services.staff_set_active(actor=manager, user=owner, active=False)


# ---------------------------------------------------------------------------- passwords
def test_reset_password_is_audited_and_ends_old_password(manager, employee):
    services.staff_reset_password(actor=manager, user=employee, password=GOOD_PASSWORD)
    employee.refresh_from_db()
    assert employee.check_password(GOOD_PASSWORD)
    row = AuditLog.objects.get(action=AuditAction.PASSWORD_RESET)
    assert row.user == manager and row.object_id == str(employee.pk)
    assert GOOD_PASSWORD not in str(row.after_data) + str(row.before_data)


def test_reset_password_refuses_weak_passwords_and_owners_for_managers(manager, employee, owner):
    with pytest.raises(StaffError) as exc:
        services.staff_reset_password(actor=manager, user=employee, password="password")
    assert exc.value.field == "password"
    with pytest.raises(StaffError, match="Only an owner"):
        services.staff_reset_password(actor=manager, user=owner, password=GOOD_PASSWORD)
    owner.refresh_from_db()
    assert not owner.check_password(GOOD_PASSWORD)


# ---------------------------------------------------------------------------- till PIN
def test_a_pin_is_stored_hashed_and_audited(manager, employee):
    services.staff_set_pin(actor=manager, user=employee, pin="4826")
    employee.refresh_from_db()
    assert employee.till_pin != "4826" and "4826" not in employee.till_pin
    assert check_password("4826", employee.till_pin)
    assert AuditLog.objects.get(action=AuditAction.PIN_SET).object_id == str(employee.pk)


@pytest.mark.parametrize("pin", ["123", "1234567", "12a4", "", "    ", "1111", "1234", "98765", "٣٤٥٦"])
def test_a_pin_must_be_4_to_6_digits_and_not_obvious(manager, employee, pin):
    before = User.objects.get(pk=employee.pk).till_pin
    with pytest.raises(StaffError) as exc:
        services.staff_set_pin(actor=manager, user=employee, pin=pin)
    assert exc.value.field == "pin"
    assert User.objects.get(pk=employee.pk).till_pin == before


@pytest.mark.parametrize("pin", ["4826", "73915", "250913"])
def test_good_pins_of_every_allowed_length(manager, employee, pin):
    services.staff_set_pin(actor=manager, user=employee, pin=pin)
    assert services.staff_verify_pin(user=employee, pin=pin) == employee


def test_anyone_sets_their_own_pin_but_not_someone_elses(employee, manager):
    services.staff_set_pin(actor=employee, user=employee, pin="5937")
    with pytest.raises(StaffError, match="You may not manage staff"):
        services.staff_set_pin(actor=employee, user=manager, pin="5937")


def test_a_manager_cannot_set_an_owners_pin(manager, owner):
    with pytest.raises(StaffError, match="Only an owner"):
        services.staff_set_pin(actor=manager, user=owner, pin="5937")


def test_verify_pin_accepts_the_right_pin_and_clears_failures(manager):
    with pytest.raises(PinError, match="Wrong PIN"):
        services.staff_verify_pin(user=manager, pin="0000")
    assert User.objects.get(pk=manager.pk).pin_failed_attempts == 1
    assert services.staff_verify_pin(user=manager, pin=DEFAULT_PIN) == manager
    assert User.objects.get(pk=manager.pk).pin_failed_attempts == 0


@override_settings(TILL_PIN_MAX_FAILURES=3, TILL_PIN_LOCKOUT_MINUTES=15)
def test_verify_pin_locks_after_too_many_failures(manager):
    for _ in range(2):
        with pytest.raises(PinError, match="Wrong PIN"):
            services.staff_verify_pin(user=manager, pin="9999")
    with pytest.raises(PinError, match="locked") as exc:
        services.staff_verify_pin(user=manager, pin="9999")
    assert exc.value.code == "locked"
    locked = User.objects.get(pk=manager.pk)
    assert locked.pin_locked_until > timezone.now() + timedelta(minutes=14)
    assert AuditLog.objects.get(action=AuditAction.PIN_LOCKED).object_id == str(manager.pk)
    # While locked, even the right PIN is refused, with how long to wait.
    with pytest.raises(PinError, match="Try again in 15 minutes") as exc:
        services.staff_verify_pin(user=manager, pin=DEFAULT_PIN)
    assert exc.value.code == "locked"
    # After the lock-out the right PIN works again.
    User.objects.filter(pk=manager.pk).update(pin_locked_until=timezone.now() - timedelta(seconds=1))
    assert services.staff_verify_pin(user=manager, pin=DEFAULT_PIN) == manager


def test_setting_a_new_pin_lifts_a_lock(owner, manager):
    User.objects.filter(pk=manager.pk).update(
        pin_locked_until=timezone.now() + timedelta(minutes=10), pin_failed_attempts=2
    )
    services.staff_set_pin(actor=owner, user=manager, pin="6048")
    assert services.staff_verify_pin(user=manager, pin="6048") == manager


def test_verify_pin_refuses_inactive_people_and_people_without_a_pin(branch):
    no_pin = UserFactory(branch=branch, till_pin="")
    with pytest.raises(PinError, match="no till PIN"):
        services.staff_verify_pin(user=no_pin, pin="1357")
    gone = UserFactory(branch=branch, is_active=False)
    with pytest.raises(PinError, match="not active"):
        services.staff_verify_pin(user=gone, pin=DEFAULT_PIN)
