"""The audit log: insert-only, read-only in the admin, searchable on its own page."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.test import RequestFactory, override_settings
from django.urls import reverse
from django.utils import timezone

from pos.people.audit import AuditAction, audit_record
from pos.people.models import AuditLog
from pos.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def entry(owner):
    return audit_record(action=AuditAction.PRICE_OVERRIDE, user=owner, model_name="pos.SaleLine", object_id=7,
                        reason="damaged box", before={"price": "120.00"}, after={"price": "100.00"})


# ---------------------------------------------------------------------------- insert-only
@override_settings(TRUSTED_PROXY_COUNT=2)  # nginx behind a load balancer
def test_audit_record_fills_every_field(owner, manager):
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR="41.90.1.2, 10.0.0.1", REMOTE_ADDR="10.0.0.1")
    row = audit_record(action=AuditAction.SALE_VOID, user=owner, authorised_by=manager, instance=manager,
                       reason="wrong item", before={"a": 1}, after={"a": 2}, request=request)
    row.refresh_from_db()
    assert row.action == "sale_void" and row.model_name == "pos.User" and row.object_id == str(manager.pk)
    assert row.user == owner and row.authorised_by == manager and row.branch_id == owner.branch_id
    assert row.reason == "wrong item" and row.before_data == {"a": 1} and row.after_data == {"a": 2}
    assert row.ip_address == "41.90.1.2"
    assert abs(row.created_at - timezone.now()) < timedelta(seconds=5)


def test_saving_an_existing_entry_raises(entry):
    entry.reason = "changed my mind"
    with pytest.raises(PermissionError):
        entry.save()
    entry.refresh_from_db()
    assert entry.reason == "damaged box"


def test_deleting_an_entry_raises(entry):
    with pytest.raises(PermissionError):
        entry.delete()
    assert AuditLog.objects.filter(pk=entry.pk).exists()


def test_queryset_update_and_delete_raise(entry):
    with pytest.raises(PermissionError):
        AuditLog.objects.filter(pk=entry.pk).update(reason="rewritten")
    with pytest.raises(PermissionError):
        AuditLog.objects.all().delete()
    with pytest.raises(PermissionError):
        AuditLog.objects.update(reason="rewritten")
    entry.reason = "rewritten"
    with pytest.raises(PermissionError), transaction.atomic():  # bulk_update breaks its transaction
        AuditLog.objects.bulk_update([entry], ["reason"])
    assert AuditLog.objects.get(pk=entry.pk).reason == "damaged box"


# ---------------------------------------------------------------------------- admin
def test_owner_views_the_admin_changelist_searchable_and_filterable(owner_client, entry, manager):
    url = reverse("admin:pos_auditlog_changelist")
    response = owner_client.get(url)
    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1
    found = owner_client.get(url, {"q": "damaged"})
    assert [row.pk for row in found.context["cl"].result_list] == [entry.pk]
    none = owner_client.get(url, {"q": "nothing-like-this"})
    assert none.context["cl"].result_count == 0
    filtered = owner_client.get(url, {"action__exact": "price_override"})
    assert [row.pk for row in filtered.context["cl"].result_list] == [entry.pk]
    assert owner_client.get(url, {"action__exact": "login"}).context["cl"].result_count >= 1  # force_login
    html = response.content.decode()
    assert "Add audit log" not in html
    assert "delete_selected" not in html  # no bulk delete action offered


def test_owner_cannot_add_change_or_delete_in_the_admin(owner_client, entry):
    assert owner_client.get(reverse("admin:pos_auditlog_add")).status_code == 403
    change_url = reverse("admin:pos_auditlog_change", args=[entry.pk])
    page = owner_client.get(change_url)
    assert page.status_code == 200  # viewing is allowed, read-only
    html = page.content.decode()
    assert 'name="_save"' not in html and "damaged box" in html
    assert owner_client.post(change_url, {"reason": "rewritten"}).status_code == 403
    assert owner_client.get(reverse("admin:pos_auditlog_delete", args=[entry.pk])).status_code == 403
    assert owner_client.post(reverse("admin:pos_auditlog_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    bulk = owner_client.post(
        reverse("admin:pos_auditlog_changelist"), {"action": "delete_selected", "_selected_action": [entry.pk]}
    )
    assert bulk.status_code in (200, 302)
    entry.refresh_from_db()
    assert entry.reason == "damaged box"


def test_employees_have_no_admin(employee_client):
    # 403, not the admin's login page (which sent a logged-in person round in a loop through the shop's login)
    assert employee_client.get(reverse("admin:pos_auditlog_changelist")).status_code == 403


# ---------------------------------------------------------------------------- the Audit log page
def _rows(response):
    return [row.record for row in response.context["table"].page.object_list]


def test_audit_page_full_and_htmx_fragment(manager_client, entry):
    page = manager_client.get(reverse("pos:audit_log"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "<html" in html and "price override" in html and "damaged box" in html
    fragment = manager_client.get(reverse("pos:audit_log"), {"q": "damaged"}, **HTMX)
    fhtml = fragment.content.decode()
    assert fhtml.lstrip().startswith('<div id="audit-table"') and "<html" not in fhtml
    assert [row.pk for row in _rows(fragment)] == [entry.pk]


def test_audit_page_filters(owner_client, owner, manager, entry):
    login_rows = AuditLog.objects.filter(action=AuditAction.LOGIN)
    assert login_rows.exists()
    url = reverse("pos:audit_log")
    assert {row.action for row in _rows(owner_client.get(url, {"action": "login"}))} == {"login"}
    assert [r.pk for r in _rows(owner_client.get(url, {"q": "damaged"}))] == [entry.pk]
    by_name = _rows(owner_client.get(url, {"q": "Olive"}))
    assert entry in by_name and all(row.user_id == owner.pk for row in by_name)
    who = _rows(owner_client.get(url, {"user": manager.pk}))
    assert who == []
    mine = _rows(owner_client.get(url, {"user": owner.pk}))
    assert entry in mine and all(row.user_id == owner.pk for row in mine)
    today = timezone.localdate()
    assert entry in _rows(owner_client.get(url, {"start": today.isoformat(), "end": today.isoformat()}))
    assert _rows(owner_client.get(url, {"start": (today + timedelta(days=1)).isoformat()})) == []
    assert _rows(owner_client.get(url, {"end": (today - timedelta(days=1)).isoformat()})) == []


def test_audit_search_by_phone_number_finds_failed_logins(owner_client, client, employee):
    client.post(reverse("account_login"), {"login": employee.phone_number, "password": "wrong-one-1"})
    phone_local = "0" + employee.phone_number[4:]
    rows = _rows(owner_client.get(reverse("pos:audit_log"), {"q": phone_local}))
    assert [row.action for row in rows] == ["login_failed"]


def test_audit_page_bad_date_is_a_form_error_not_a_crash(owner_client, entry):
    response = owner_client.get(reverse("pos:audit_log"), {"start": "yesterday-ish"})
    assert response.status_code == 200
    assert "Enter a valid date." in response.content.decode()


def test_a_manager_sees_only_their_branchs_entries(manager_client, other_branch, entry):
    elsewhere = UserFactory(branch=other_branch, full_name="Westlands Person")
    far = audit_record(action=AuditAction.REFUND, user=elsewhere, reason="westlands refund")
    rows = _rows(manager_client.get(reverse("pos:audit_log")))
    assert entry in rows and far not in rows
    form = manager_client.get(reverse("pos:audit_log")).context["filter"].form
    assert elsewhere not in form.fields["user"].queryset


def test_the_page_names_the_person_a_staff_entry_is_about(owner_client, owner, employee):
    audit_record(action=AuditAction.PIN_SET, user=owner, instance=employee)
    html = owner_client.get(reverse("pos:audit_log"), {"action": "pin_set"}).content.decode()
    assert "Staff: Esther Cashier" in html


def test_audit_page_query_count_does_not_grow(owner_client, owner, django_assert_max_num_queries):
    people = [UserFactory(branch=owner.branch) for _ in range(10)]
    for person in people:
        for action in (AuditAction.PIN_SET, AuditAction.PASSWORD_RESET, AuditAction.STAFF_UPDATED):
            audit_record(action=action, user=owner, authorised_by=person, instance=person, before={"x": 1})
    with django_assert_max_num_queries(10):  # 9 + the notification bell's unread count (reports)
        response = owner_client.get(reverse("pos:audit_log"))
    assert len(_rows(response)) == 31
