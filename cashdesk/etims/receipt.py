"""The eTIMS block of receipts and credit notes (KRA's "SCU information"), for the page, the PDF and
thermal printers alike.

`scu_lines(signature)` gives the block as plain printable lines (label, value): the ESC/POS printer
prints those, the HTML receipt prints the same rows through `receipt_extension`, which
`CashdeskConfig.ready()` registers with `pos.sales.receipts`. Until KRA has signed, the slip says
clearly that it is not yet a tax invoice.
"""

from __future__ import annotations

from cashdesk.etims import clock
from cashdesk.etims.config import PRODUCTION, get_config
from cashdesk.etims.models import EtimsSignature, SubmissionStatus
from cashdesk.etims.selectors import credit_note_submission, sale_signature, sale_submission

NOT_YET = "NOT YET A TAX INVOICE — waiting for KRA eTIMS signature"


def groups_of_four(text: str) -> str:
    """"Q7KX2M4TRB9W" → "Q7KX-2M4T-RB9W" (how receipts print internal data and signatures)."""
    text = (text or "").strip()
    return "-".join(text[i:i + 4] for i in range(0, len(text), 4))


def qr_url(signature: EtimsSignature) -> str:
    """KRA's receipt-check URL: the environment's base, then tin + bhfId + rcptSign with no separators."""
    return f"{get_config().qr_base_url(signature.environment)}{signature.tin}{signature.bhf_id}{signature.rcpt_sign}"


def cu_invoice_number(signature: EtimsSignature, *, number: int | None = None) -> str:
    suffix = number if number is not None else (
        signature.cur_rcpt_no if get_config().cu_invoice_suffix == "curRcptNo" and signature.cur_rcpt_no
        else signature.invc_no)
    return f"{signature.sdc_id}/{suffix}"


def scu_lines(signature: EtimsSignature) -> list[tuple[str, str]]:
    """The SCU block as (label, value) lines, in the order they are printed."""
    when = signature.sdc_datetime.astimezone(clock.NAIROBI).strftime("%d/%m/%Y %H:%M:%S") \
        if signature.sdc_datetime else ""
    kind = "NS" if signature.receipt_type == "S" else "NC"
    lines = [
        ("SCU date/time", when),
        ("SCU ID", signature.sdc_id),
        ("CU invoice no.", cu_invoice_number(signature)),
        ("Invoice no.", str(signature.invc_no)),
    ]
    if signature.cur_rcpt_no is not None:
        lines.append(("Receipt no.", f"{signature.cur_rcpt_no}/{signature.tot_rcpt_no or ''} {kind}"))
    if signature.receipt_type == "R" and signature.org_invc_no:
        lines.append(("Original CU invoice", f"{signature.sdc_id}/{signature.org_invc_no}"))
    if signature.intrl_data:
        lines.append(("Internal data", groups_of_four(signature.intrl_data)))
    if signature.rcpt_sign:
        lines.append(("Receipt signature", groups_of_four(signature.rcpt_sign)))
    if signature.mrc_no:
        lines.append(("MRC no.", signature.mrc_no))
    return lines


def scu_text(signature: EtimsSignature, *, width: int = 42) -> list[str]:
    """The block as fixed-width text lines for a thermal printer (42 columns on 80 mm)."""
    out = ["SCU INFORMATION".center(width)]
    for label, value in scu_lines(signature):
        if len(label) + len(value) + 1 <= width:
            out.append(f"{label}{' ' * (width - len(label) - len(value))}{value}")
        else:
            out.append(label)
            out.extend(value[i:i + width] for i in range(0, len(value), width))
    url = qr_url(signature) if signature.rcpt_sign else ""
    if url:
        out.append("[QR] " + url)
    return out


def _notice(signature: EtimsSignature) -> str:
    if signature.environment != PRODUCTION:
        return f"eTIMS {signature.environment}: a test signature, not valid for tax."
    if signature.reconciled and not signature.rcpt_sign:
        return "Accepted by KRA; signature details to follow."
    return ""


def fiscal_block(*, sale, sale_return=None) -> dict | None:
    """The `fiscal` context of a receipt or credit note, or None when the sale never went to eTIMS."""
    if sale_return is not None:
        submission = credit_note_submission(key=f"R:{sale_return.pk}")
        signature = getattr(submission, "signature", None) if submission else None
    else:
        submission = sale_submission(sale_id=sale.pk)
        signature = sale_signature(sale_id=sale.pk) if submission else None
    if submission is None:
        return None
    if signature is None or submission.status != SubmissionStatus.SIGNED:
        reason = submission.waiting_reason or (
            submission.result_msg if submission.status == SubmissionStatus.REJECTED else "")
        return {"title": NOT_YET, "pending": True, "rows": [],
                "notice": reason or "The signed receipt is ready once KRA answers; ask for it or use the receipt link."}
    title = "SCU INFORMATION" if signature.receipt_type == "S" else "SCU INFORMATION — CREDIT NOTE"
    return {"title": title, "pending": False, "rows": scu_lines(signature), "notice": _notice(signature),
            "qr_url": qr_url(signature) if signature.rcpt_sign else ""}


def receipt_extension(*, sale, sale_return=None) -> dict:
    block = fiscal_block(sale=sale, sale_return=sale_return)
    return {"fiscal": block} if block else {}
