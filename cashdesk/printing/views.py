"""Pages of the counter's printer: open the drawer with no sale, retry a receipt that did not print.

Both answer on the cash desk (`cashdesk:index`), where the printer's failed jobs are listed.
"""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from cashdesk.printing.forms import DrawerOpenForm
from cashdesk.printing.models import PrintJob
from cashdesk.printing.services import drawer_open as drawer_open_service
from cashdesk.printing.services import print_job_retry as print_job_retry_service
from core.errors import DomainError
from core.permissions import require_perm
from core.roles import Perm


@require_perm(Perm.PAY_IN_OUT)
@require_POST
def drawer_open(request):
    form = DrawerOpenForm(request.POST)
    form.is_valid()
    try:
        drawer_open_service(user=request.user, reason=form.cleaned_data.get("reason", ""), request=request)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "The drawer is opening. It is in the audit log.")
    return redirect("cashdesk:index")


@require_perm(Perm.USE_OWN_CASH_SESSION)
@require_POST
def print_job_retry(request, pk: int):
    visible = PrintJob.objects.all()
    if not request.user.has_perm(Perm.ALL_BRANCHES):
        visible = visible.filter(printer__branch_id=request.user.branch_id)
    job = get_object_or_404(visible, pk=pk)
    try:
        print_job_retry_service(job=job, user=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Sent to the printer again.")
    return redirect("cashdesk:index")
