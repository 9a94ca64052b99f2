"""eTIMS reports: VAT per band split into what KRA has signed and what still waits, and the
reconciliation of sales against KRA's signatures (gaps, mismatches, credit notes beyond their invoice)."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Exists, OuterRef, Sum

from cashdesk.etims.models import EtimsDevice, EtimsSignature, EtimsSubmission, SubmissionKind, SubmissionStatus
from core.money import ZERO, money
from core.ops.db_router import use_replica
from inventory.models import TaxClass
from pos.sales.models import Sale, SaleLine, SaleReturnLine, SaleStatus
from reports.selectors import Period


def vat_signed_unsigned(*, period: Period) -> list[dict]:
    """Per band: sales less credit notes (VAT included) and their VAT, signed by KRA or not (yet)."""
    sale_signed = Exists(EtimsSignature.objects.filter(sale_id=OuterRef("sale_id"), receipt_type="S"))
    return_signed = Exists(EtimsSignature.objects.filter(sale_return_id=OuterRef("sale_return_id")))
    rows: dict[str, dict] = {}

    def bucket(band: str) -> dict:
        return rows.setdefault(band, {"tax_class": band, "label": dict(TaxClass.choices).get(band, band),
                                      "signed_gross": ZERO, "signed_vat": ZERO, "unsigned_gross": ZERO,
                                      "unsigned_vat": ZERO})

    with use_replica():
        sold = (SaleLine.objects.filter(period.between("sale__completed_at"), period.branches("sale__branch_id"),
                                        sale__status=SaleStatus.COMPLETED)
                .annotate(signed=sale_signed).values("tax_class", "signed")
                .annotate(gross=Sum("line_total"), vat=Sum("tax_amount")))
        for row in sold:
            side = "signed" if row["signed"] else "unsigned"
            target = bucket(row["tax_class"])
            target[f"{side}_gross"] += money(row["gross"] or ZERO)
            target[f"{side}_vat"] += money(row["vat"] or ZERO)
        returned = (SaleReturnLine.objects.filter(period.between("sale_return__created_at"),
                                                  period.branches("sale_return__branch_id"))
                    .annotate(signed=return_signed).values("sale_line__tax_class", "signed")
                    .annotate(gross=Sum("amount"), vat=Sum("tax_amount")))
        for row in returned:
            side = "signed" if row["signed"] else "unsigned"
            target = bucket(row["sale_line__tax_class"])
            target[f"{side}_gross"] -= money(row["gross"] or ZERO)
            target[f"{side}_vat"] -= money(row["vat"] or ZERO)
    return [rows[band] for band in sorted(rows)]


def reconciliation(*, period: Period) -> list[dict]:
    """What does not match between our sales and KRA's signatures, worst first."""
    problems: list[dict] = []

    def add(kind: str, document: str, when, amount: Decimal | None, detail: str) -> None:
        problems.append({"kind": kind, "document": document, "when": when, "amount": amount, "detail": detail})

    with use_replica():
        devices = EtimsDevice.objects.exclude(environment="off")
        if period.branch_ids is not None:
            devices = devices.filter(branch_id__in=period.branch_ids)
        device_branches = {d.branch_id: d for d in devices}
        # Sales with no signature: not queued at all (eTIMS was on), or still waiting, refused, in doubt.
        sales = (Sale.objects.filter(period.between("completed_at"), branch_id__in=list(device_branches),
                                     status__in=[SaleStatus.COMPLETED, SaleStatus.VOIDED])
                 .annotate(signed=Exists(EtimsSignature.objects.filter(sale_id=OuterRef("pk"), receipt_type="S")))
                 .filter(signed=False).order_by("completed_at"))
        submissions = {s.sale_id: s for s in EtimsSubmission.objects.filter(
            kind=SubmissionKind.SALE, sale__in=sales)}
        for sale in sales:
            device = device_branches[sale.branch_id]
            submission = submissions.get(sale.pk)
            if submission is None:
                if device.created_at <= sale.completed_at:
                    add("Sale with no signature", sale.number, sale.completed_at, sale.total,
                        "Never queued for eTIMS.")
                continue
            add("Sale with no signature", sale.number, sale.completed_at, sale.total,
                f"{submission.get_status_display()}. {submission.waiting_reason or submission.result_msg}".strip())
        # Signatures with no sale behind them: numbers KRA accepted that we hold no signature for, and
        # signatures whose amount is not the sale's.
        for device in devices:
            held = set(EtimsSignature.objects.filter(tin=device.tin, bhf_id=device.bhf_id,
                                                     environment=device.environment)
                       .values_list("invc_no", flat=True))
            for number in sorted(set(range(1, device.last_invc_no + 1)) - held):
                add("Signature with no sale", f"{device.sdc_id}/{number}", None, None,
                    f"KRA accepted invoice {number} of {device.branch} but no sale or credit note holds it.")
        mismatched = (EtimsSignature.objects.filter(receipt_type="S", sale__completed_at__gte=period.start_at,
                                                    sale__completed_at__lt=period.end_before)
                      .select_related("sale"))
        for signature in mismatched:
            if signature.total != signature.sale.total:
                add("Signature with no sale", f"{signature.sdc_id}/{signature.invc_no}", signature.sale.completed_at,
                    signature.total, f"Signed KES {signature.total} but sale {signature.sale.number} is "
                                     f"KES {signature.sale.total}.")
        # Credit notes beyond their original: signed credit totals above the sale's, or held back for it.
        credited = (EtimsSignature.objects.filter(receipt_type="R").values("sale_id")
                    .annotate(credited=Sum("total")))
        for row in credited:
            sale = Sale.objects.filter(pk=row["sale_id"], completed_at__gte=period.start_at,
                                       completed_at__lt=period.end_before).first()
            if sale is not None and row["credited"] > sale.total:
                add("Credit notes beyond the original", sale.number, sale.completed_at, row["credited"],
                    f"Credited KES {row['credited']} of a KES {sale.total} invoice.")
        for held_back in EtimsSubmission.objects.filter(kind=SubmissionKind.CREDIT_NOTE,
                                                        status=SubmissionStatus.QUEUED,
                                                        waiting_reason__contains="exceed").select_related("sale"):
            add("Credit notes beyond the original", held_back.sale.number, held_back.occurred_at, None,
                held_back.waiting_reason)
    return problems
