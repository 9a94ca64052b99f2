"""ESC/POS for the counter: the receipt as a thermal printer's bytes, the drawer kick, and sending them
to a network printer (raw TCP, port 9100).

The bytes are composed with python-escpos's in-memory printer and sent by our own socket code, so a
printer that is off, does not answer or answers garbage becomes one `PrinterError` with a message a
cashier understands, after a bounded wait.
"""

import socket
from datetime import datetime

from django.conf import settings
from django.utils import timezone
from escpos.printer import Dummy

from inventory.models import tax_label

# DLE EOT 1: "send your printer status" — answered at once by an ESC/POS printer, even mid-job.
STATUS_REQUEST = b"\x10\x04\x01"
# The status byte always has bit 1 and bit 4 set and bits 0 and 7 clear; bit 3 set means offline
# (cover open, paper out, or an error).
_STATUS_FIXED_MASK, _STATUS_FIXED_BITS, _STATUS_OFFLINE = 0x93, 0x12, 0x08
DRAWER_PIN = 2  # the drawer's connector pin; almost every drawer is wired to pin 2


class PrinterError(Exception):
    """The printer could not be reached or did not take the job; `message` is for the cashier."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _money(value) -> str:
    return f"{value:,.2f}"


def _both(left: str, right: str, columns: int) -> str:
    """`left` and `right` on one line, the right flush to the edge; a long left wraps above."""
    left, right = str(left), str(right)
    room = columns - len(right) - 1
    if len(left) <= room:
        return left + " " * (columns - len(left) - len(right)) + right
    return left[:columns] + "\n" + right.rjust(columns)


def _when(value) -> str:
    if not isinstance(value, datetime):
        return ""
    return timezone.localtime(value).strftime("%d/%m/%Y %H:%M")


def receipt_bytes(context: dict, *, columns: int, open_drawer: bool = False) -> bytes:
    """The receipt of `pos.sales.receipts.receipt_context` (the same content as the page and the PDF)
    as ESC/POS: a copy is marked COPY, the KRA block and its QR code (printed by the printer itself,
    GS ( k) follow the payments; the paper is cut, and the drawer kicked when asked."""
    sale, shop, branch = context["sale"], context["shop"], context["branch"]
    rule = "-" * columns
    p = Dummy()
    p.set(align="center", bold=True, double_height=True, double_width=False)
    p.textln(shop.shop_name)
    p.set(align="center")
    p.textln(branch.name + (f", {branch.address}" if branch.address else ""))
    phone = branch.phone_number or shop.phone_number
    if phone:
        p.textln(f"Tel {phone}")
    if shop.kra_pin:
        p.textln(f"KRA PIN {shop.kra_pin}")
    if context.get("copy"):
        p.set(align="center", bold=True, invert=True)
        p.textln(" *** COPY - NOT THE ORIGINAL *** ")
        p.set(align="center")
    if sale.status == "VOIDED":
        p.set(align="center", bold=True)
        p.textln(f"*** VOIDED {_when(sale.voided_at)} ***")
        p.set(align="center")
    p.set(align="center", bold=True)
    p.textln("SALES RECEIPT")
    p.set(align="left")
    p.textln(_both("Receipt no.", sale.number or "", columns))
    p.textln(_both("Date", _when(sale.completed_at), columns))
    p.textln(_both("Cashier", sale.cashier.full_name, columns))
    if sale.customer_id:
        p.textln(_both("Customer", sale.customer.name, columns))
        if sale.customer.kra_pin:
            p.textln(_both("Customer PIN", sale.customer.kra_pin, columns))
    p.textln(rule)
    for line in context["lines"]:
        p.textln(f"{line.product_name} {line.tax_class}"[:columns])
        quantity = f"{line.quantity.normalize():f}"
        p.textln(_both(f"  {quantity} x {_money(line.unit_price)}", _money(line.gross_amount), columns))
        if line.discount_amount:
            p.textln(_both("  discount", f"-{_money(line.discount_amount)}", columns))
    p.textln(rule)
    p.textln(_both("Subtotal", _money(sale.subtotal), columns))
    if sale.line_discount_total:
        p.textln(_both("Line discounts", f"-{_money(sale.line_discount_total)}", columns))
    if sale.cart_discount:
        p.textln(_both("Discount on sale", f"-{_money(sale.cart_discount)}", columns))
    p.set(align="left", bold=True, double_height=True)
    p.textln(_both("TOTAL KES", _money(sale.total), columns))
    p.set(align="left")
    p.textln(rule)
    p.textln(_both("VAT class   Taxable", "VAT", columns))
    for row in context["vat"]:
        label = tax_label(str(row["tax_class"]), row["rate"])
        p.textln(_both(f"{label[:11]:<11} {_money(row['taxable'])}", _money(row["tax"]), columns))
    p.textln(_both("Total VAT", _money(sale.tax_total), columns))
    p.textln(rule)
    for payment in context["payments"]:
        name = payment.get_method_display()
        if payment.reference and payment.method != "CASH":
            name = f"{name} {payment.reference}"
        p.textln(_both(name, _money(payment.amount), columns))
    p.textln(_both("Change", _money(sale.change_given), columns))
    if context.get("pay_reference"):
        p.textln(f"To pay by M-Pesa: account number {context['pay_reference']}")
    if sale.note:
        p.textln(f"Note: {sale.note}")
    fiscal = context.get("fiscal") or {}
    if fiscal:
        p.textln(rule)
        p.set(align="center", bold=True)
        p.textln(fiscal["title"])
        p.set(align="left")
        for label, value in fiscal.get("rows") or []:
            p.textln(_both(label, value, columns))
        if fiscal.get("notice"):
            p.textln(fiscal["notice"])
    p.set(align="center")
    p.ln()
    p.qr(fiscal.get("qr_url") or sale.number or f"SALE-{sale.pk}", native=True, size=5 if columns > 32 else 4)
    p.textln(sale.number or "")
    if shop.receipt_footer:
        p.textln(shop.receipt_footer)
    p.textln("Prices include VAT. Keep this receipt for returns.")
    p.set(align="left")
    p.cut()
    if open_drawer:
        p.cashdraw(DRAWER_PIN)
    return p.output


def drawer_kick_bytes() -> bytes:
    """ESC p: the pulse that opens the cash drawer plugged into the printer."""
    p = Dummy()
    p.cashdraw(DRAWER_PIN)
    return p.output


def printer_send(*, host: str, port: int, payload: bytes, timeout: float | None = None) -> None:
    """Send `payload` to the printer at `host:port`, after asking it for its status (DLE EOT 1) so a
    printer that is offline, or something that is not a printer, is told apart from a printed job."""
    timeout = settings.RECEIPT_PRINTER_TIMEOUT if timeout is None else timeout
    where = f"{host}:{port}"
    try:
        with socket.create_connection((host, port), timeout=timeout) as connection:
            connection.settimeout(timeout)
            if settings.RECEIPT_PRINTER_CHECK_STATUS:
                connection.sendall(STATUS_REQUEST)
                status = connection.recv(1)
                if not status:
                    raise PrinterError(f"The printer at {where} hung up without answering. Check it and retry.")
                byte = status[0]
                if byte & _STATUS_FIXED_MASK != _STATUS_FIXED_BITS:
                    raise PrinterError(
                        f"Something answered at {where}, but not like a receipt printer. "
                        "Check the printer's address in the branch's settings."
                    )
                if byte & _STATUS_OFFLINE:
                    raise PrinterError("The printer is offline: close its cover, check the paper, then retry.")
            connection.sendall(payload)
    except PrinterError:
        raise
    except TimeoutError:
        raise PrinterError(f"The printer at {where} did not answer in time. Is it on and connected? Then retry.") \
            from None
    except ConnectionRefusedError:
        raise PrinterError(f"The printer at {where} refused the connection: is it switched on? Then retry.") \
            from None
    except OSError as exc:
        raise PrinterError(f"Cannot reach the printer at {where} ({exc.strerror or exc}). Check it and retry.") \
            from None
