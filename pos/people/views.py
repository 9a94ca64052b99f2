"""HTML views for the start page, staff, the till PIN, shop settings and the audit log."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect
from django_tables2 import RequestConfig

from core.branches import for_viewer
from core.forms import add_domain_error
from core.htmx import render_partial
from core.permissions import require_login, require_perm
from core.phone import format_phone_local
from core.roles import Perm, Role
from pos.people import services
from pos.people.filters import AuditLogFilter
from pos.people.forms import (
    DeactivateForm,
    PasswordResetByManagerForm,
    PinForm,
    ShopSettingsForm,
    StaffCreateForm,
    StaffForm,
)
from pos.people.models import User
from pos.people.selectors import audit_log_list, shop_settings, staff_list
from pos.people.tables import AuditLogTable, StaffTable


@require_login
def home(request):
    """The start page: what this person can open today, largest first."""
    return render(request, "pos/home.html", {})


# ---------------------------------------------------------------------------- staff
@require_perm(Perm.VIEW_STAFF)
def staff_index(request):
    query = request.GET.get("q", "").strip()
    role = request.GET.get("role", "")
    active = request.GET.get("active", "yes")
    qs = staff_list(viewer=request.user, query=query, role=role, active=active)
    table = StaffTable(qs, order_by=request.GET.get("sort"))
    RequestConfig(request, paginate={"per_page": 25}).configure(table)
    context = {"table": table, "query": query, "role": role, "active": active, "roles": Role.choices}
    return render_partial(request, "pos/staff_list.html", "staff-table", context)


@require_perm(Perm.MANAGE_STAFF)
@require_http_methods(["GET", "POST"])
def staff_create(request):
    form = StaffCreateForm(request.POST or None, actor=request.user, initial={"branch": request.user.branch_id})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.staff_create(
                actor=request.user,
                phone_number=data["phone_number"],
                full_name=data["full_name"],
                role=data["role"],
                branch=data["branch"],
                email=data["email"],
                password=data["password1"],
                request=request,
            )
        except services.StaffError as exc:
            add_domain_error(form, exc)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"{user.full_name} can now log in with {user.phone_number}.")
            return redirect("pos:staff_edit", pk=user.pk)
    return render(request, "pos/staff_form.html", {"form": form, "creating": True})


def _staff_target(request, pk: int) -> User:
    qs = User.objects.select_related("branch")
    qs = for_viewer(qs, request.user)
    return get_object_or_404(qs, pk=pk)


@require_perm(Perm.MANAGE_STAFF)
@require_http_methods(["GET", "POST"])
def staff_edit(request, pk: int):
    """A person's page. A manager sees an owner read-only; the service refuses a change anyway."""
    person = _staff_target(request, pk)
    may_edit = person.role != Role.OWNER or request.user.has_perm(Perm.MANAGE_OWNERS)
    initial = {
        "full_name": person.full_name,
        "phone_number": format_phone_local(person.phone_number),
        "email": person.email or "",
        "role": person.role,
        "branch": person.branch_id,
    }
    form = StaffForm(request.POST or None, actor=request.user, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.staff_update(
                    actor=request.user,
                    user=person,
                    full_name=data["full_name"],
                    role=data["role"],
                    branch=data["branch"],
                    email=data["email"],
                    phone_number=data["phone_number"],
                    request=request,
                )
            except services.StaffError as exc:
                add_domain_error(form, exc)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, f"Saved {data['full_name']}.")
                return redirect("pos:staff_edit", pk=person.pk)
        elif not may_edit:
            # The role list of a manager has no "Owner"; say why the change cannot be made.
            form.add_error(None, "Only an owner can change an owner's account.")
    context = {
        "form": form,
        "person": person,
        "may_edit": may_edit,
        "password_form": PasswordResetByManagerForm(),
        "pin_form": PinForm(),
        "deactivate_form": DeactivateForm(),
    }
    return render(request, "pos/staff_form.html", context)


@require_perm(Perm.MANAGE_STAFF)
@require_POST
def staff_reset_password(request, pk: int):
    person = _staff_target(request, pk)
    form = PasswordResetByManagerForm(request.POST)
    if form.is_valid():
        try:
            services.staff_reset_password(
                actor=request.user, user=person, password=form.cleaned_data["password1"], request=request
            )
        except services.StaffError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"New password set for {person.full_name}. Tell them in person.")
            return redirect("pos:staff_edit", pk=person.pk)
    return _error_redirect(request, form, person)


@require_perm(Perm.MANAGE_STAFF)
@require_POST
def staff_set_pin(request, pk: int):
    person = _staff_target(request, pk)
    form = PinForm(request.POST)
    if form.is_valid():
        try:
            services.staff_set_pin(actor=request.user, user=person, pin=form.cleaned_data["pin"], request=request)
        except services.StaffError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, f"Till PIN set for {person.full_name}.")
            return redirect("pos:staff_edit", pk=person.pk)
    return _error_redirect(request, form, person)


@require_perm(Perm.MANAGE_STAFF)
@require_POST
def staff_toggle_active(request, pk: int):
    person = _staff_target(request, pk)
    form = DeactivateForm(request.POST)
    form.is_valid()
    try:
        services.staff_set_active(
            actor=request.user,
            user=person,
            active=not person.is_active,
            reason=form.cleaned_data.get("reason", ""),
            request=request,
        )
    except services.StaffError as exc:
        messages.error(request, exc.message)
    else:
        state = "reactivated" if not person.is_active else "deactivated"
        messages.success(request, f"{person.full_name} {state}.")
    if request.htmx:
        return HttpResponseClientRedirect(request.htmx.current_url or "/")
    return redirect("pos:staff_edit", pk=person.pk)


def _error_redirect(request, form, person):
    for field_errors in form.errors.values():
        for error in field_errors:
            messages.error(request, error)
    return redirect("pos:staff_edit", pk=person.pk)


# ---------------------------------------------------------------------------- my account
@require_login
@require_http_methods(["GET", "POST"])
def my_pin(request):
    form = PinForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.staff_set_pin(actor=request.user, user=request.user, pin=form.cleaned_data["pin"], request=request)
        except services.StaffError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, "Your till PIN is set.")
            return redirect("home")
    return render(request, "pos/my_pin.html", {"form": form})


# ---------------------------------------------------------------------------- settings
@require_perm(Perm.CHANGE_SHOP_SETTINGS)
@require_http_methods(["GET", "POST"])
def shop_settings_edit(request):
    current = shop_settings()
    form = ShopSettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        changed = {name: form.cleaned_data[name] for name in form.changed_data}
        if changed:
            try:
                services.shop_settings_update(actor=request.user, data=changed, request=request)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, "Settings saved.")
                return redirect("pos:settings")
        else:
            messages.info(request, "Nothing changed.")
            return redirect("pos:settings")
    return render(request, "pos/settings.html", {"form": form})


# ---------------------------------------------------------------------------- audit log
@require_perm(Perm.VIEW_AUDIT_LOG)
def audit_log(request):
    """The audit log, newest first, for the viewer's branch (owners: every branch)."""
    f = AuditLogFilter(request.GET or None, queryset=audit_log_list(viewer=request.user), request=request)
    qs = f.qs if f.is_bound and f.is_valid() else f.queryset
    table = AuditLogTable(qs)
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    table.name_people_on_page()
    return render_partial(request, "pos/audit_log.html", "audit-table", {"filter": f, "table": table})
