"""eTIMS pages: the owner's device settings, the manager's queue (depth, oldest unsigned, failures,
resend), purchases suppliers declared to KRA, and two small searches (classifications, buyer PINs)."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from cashdesk.etims import selectors, services
from cashdesk.etims.config import get_config
from cashdesk.etims.forms import DeviceForm, PurchaseDecisionForm
from cashdesk.etims.models import EtimsDevice, EtimsPurchase, EtimsSubmission
from core.branches import for_viewer
from core.errors import DomainError
from core.forms import add_domain_error
from core.htmx import render_partial
from core.permissions import require_perm
from core.roles import Perm
from pos.people.selectors import branches_visible_to


def _device_visible(request, pk: int) -> EtimsDevice:
    qs = EtimsDevice.objects.select_related("branch")
    qs = for_viewer(qs, request.user)
    return get_object_or_404(qs, pk=pk)


@require_perm(Perm.VIEW_ETIMS_QUEUE)
def queue(request):
    """Each branch's queue: what waits, since when, and why; resend refused documents, resume a stop."""
    devices = selectors.devices_visible_to(viewer=request.user)
    rows = [
        {
            "summary": selectors.queue_summary(device=device),
            "problems": selectors.queue_problems(device=device),
            "waiting": selectors.queue_waiting(device=device, limit=20),
            "signed": selectors.recent_signed(device=device, limit=10),
        }
        for device in devices
    ]
    return render_partial(request, "cashdesk/etims/queue.html", "queue", {"rows": rows})


@require_perm(Perm.VIEW_ETIMS_QUEUE)
@require_POST
def device_resume(request, pk: int):
    device = _device_visible(request, pk)
    services.etims_device_resume(device=device, user=request.user)
    messages.success(request, f"{device.branch}: eTIMS queue resumed; sending now.")
    return redirect("etims:queue")


@require_perm(Perm.VIEW_ETIMS_QUEUE)
@require_POST
def submission_retry(request, pk: int):
    qs = EtimsSubmission.objects.select_related("device")
    qs = for_viewer(qs, request.user, field="device__branch")
    submission = get_object_or_404(qs, pk=pk)
    try:
        services.etims_submission_retry(submission=submission, user=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{submission} queued again.")
    return redirect("etims:queue")


@require_perm(Perm.MANAGE_ETIMS)
@require_http_methods(["GET", "POST"])
def device_settings(request):
    """Per branch: environment, PIN, branch id, serial; initialise with KRA; sync the code lists."""
    branches = list(branches_visible_to(request.user))
    branch_id = request.POST.get("branch") or request.GET.get("branch") or (branches[0].pk if branches else None)
    branch = next((b for b in branches if str(b.pk) == str(branch_id)), None)
    if branch is None:
        raise Http404("No such branch.")
    device = EtimsDevice.objects.filter(branch=branch).first()
    config = get_config()
    initial = {"environment": device.environment if device else config.environment,
               "tin": device.tin if device else config.tin,
               "bhf_id": device.bhf_id if device else config.bhf_id,
               "serial_number": device.serial_number if device else config.device_serial}
    form = DeviceForm(request.POST or None, initial=initial)
    action = request.POST.get("action", "save")
    if request.method == "POST":
        try:
            if action == "save":
                if form.is_valid():
                    services.etims_device_save(branch=branch, user=request.user, **form.cleaned_data)
                    messages.success(request, f"eTIMS settings of {branch} saved.")
                    return redirect(f"{request.path}?branch={branch.pk}")
            elif device is None:
                messages.error(request, "Save the settings first.")
            elif action == "initialise":
                device = services.etims_device_initialise(device=device)
                messages.success(request, f"Initialised with KRA: SCU ID {device.sdc_id}.")
                return redirect(f"{request.path}?branch={branch.pk}")
            elif action == "sync":
                changed = services.etims_codes_sync(device=device)
                count = services.etims_item_classes_sync(device=device)
                messages.success(request, f"Code lists synced (tax bands changed: {', '.join(changed) or 'none'}); "
                                          f"{count} item classifications received.")
                return redirect(f"{request.path}?branch={branch.pk}")
        except DomainError as exc:
            if action == "save" and exc.field in form.fields:
                add_domain_error(form, exc)
            else:
                messages.error(request, exc.message)
    context = {"form": form, "branch": branch, "branches": branches, "device": device, "config": config}
    return render(request, "cashdesk/etims/settings.html", context)


@require_perm(Perm.MANAGE_CATALOGUE)
def classification_search(request):
    """The product form's suggestions: <option>s for its datalist."""
    query = request.GET.get("kra_item_code") or request.GET.get("q") or ""
    return render(request, "cashdesk/etims/classification_options.html",
                  {"classes": selectors.classification_search(query=query)})


@require_perm(Perm.USE_TILL)
def pin_check(request):
    """Checks a buyer's KRA PIN with KRA (`selectCustomer`) when eTIMS is on; says so when it cannot."""
    pin = (request.GET.get("kra_pin") or "").strip().upper()
    result, error = None, ""
    if pin:
        try:
            result = services.etims_customer_check(branch_id=request.user.branch_id, pin=pin)
        except DomainError as exc:
            error = exc.message
    return render(request, "cashdesk/etims/pin_check.html", {"pin": pin, "result": result, "error": error})


@require_perm(Perm.VIEW_ETIMS_QUEUE)
def purchases(request):
    context = {"to_decide": selectors.purchases_to_decide(viewer=request.user),
               "decided": selectors.purchases_decided(viewer=request.user)}
    return render(request, "cashdesk/etims/purchases.html", context)


@require_perm(Perm.VIEW_ETIMS_QUEUE, Perm.MANAGE_PURCHASES)
@require_http_methods(["GET", "POST"])
def purchase_decide(request, pk: int):
    qs = EtimsPurchase.objects.select_related("device__branch")
    qs = for_viewer(qs, request.user, field="device__branch")
    imported = get_object_or_404(qs, pk=pk)
    form = PurchaseDecisionForm(request.POST or None, branch_id=imported.device.branch_id)
    if request.method == "POST" and form.is_valid():
        try:
            services.etims_purchase_decide(
                purchase_import=imported, accept=form.cleaned_data["decision"] == "accept", user=request.user,
                purchase=form.cleaned_data["purchase"], note=form.cleaned_data["note"],
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, "Decision recorded; KRA hears it through the eTIMS queue.")
            return redirect("etims:purchases")
    return render(request, "cashdesk/etims/purchase_decide.html", {"imported": imported, "form": form})


