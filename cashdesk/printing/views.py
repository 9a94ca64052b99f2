"""Pages of the counter's printer: open the drawer with no sale, retry a receipt that did not print, and
the receipt page's "printing… / printed / not printed" line.

The drawer and the failed jobs live on the cash desk (`cashdesk:index`); the status line is asked for
by the receipt page (`sales:receipt`) and polls while the job waits.
"""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from cashdesk.printing.forms import DrawerOpenForm
from cashdesk.printing.models import PrintJob
from cashdesk.printing.selectors import print_job_latest
from cashdesk.printing.services import drawer_open as drawer_open_service
from cashdesk.printing.services import print_job_retry as print_job_retry_service
from core.errors import DomainError
from core.permissions import require_perm
from core.roles import Perm
from pos.sales.selectors import sales_visible_to


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


def _status_response(request, sale, *, error: str = ""):
    context = {"sale": sale, "job": print_job_latest(sale_id=sale.pk), "retry_error": error}
    template = "cashdesk/print_status.html#status" if request.htmx else "cashdesk/print_status.html"
    return render(request, template, context)


@require_perm(Perm.VIEW_SALES)
@require_GET
def print_status(request, sale_id: int):
    sale = get_object_or_404(sales_visible_to(user=request.user), pk=sale_id)
    return _status_response(request, sale)


@require_perm(Perm.USE_OWN_CASH_SESSION)
@require_POST
def print_job_retry(request, pk: int):
    visible = PrintJob.objects.select_related("sale")
    if not request.user.has_perm(Perm.ALL_BRANCHES):
        visible = visible.filter(printer__branch_id=request.user.branch_id)
    job = get_object_or_404(visible, pk=pk)
    error = ""
    try:
        print_job_retry_service(job=job, user=request.user)
    except DomainError as exc:
        error = exc.message
    if request.htmx and job.sale_id:
        return _status_response(request, job.sale, error=error)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, "Sent to the printer again.")
    return redirect("cashdesk:index")
