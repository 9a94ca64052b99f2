"""eTIMS writes: devices and their keys, code lists, items, the outbox and its worker, purchases.

The outbox (docs/etims.md, "The outbox"): the cash desk queues a submission inside the sale's or
refund's own transaction (one row, no network), and a Huey task works the device's queue after the
commit. The worker takes one document at a time under the device row's lock:

1. *claim* (short transaction, device row locked): nothing else in flight; pick the oldest document
   that is ready; give it the next number (`last_… + 1`, the counters hold KRA's last *accepted*
   number); freeze its payload; mark it SENDING with a lease. Committed before anything is sent, so
   a crash mid-call leaves a document with its number bound, never a lost one.
2. *send* (no transaction open: a slow KRA never holds a lock the tills need).
3. *record* (device row locked again; only the lease holder may record): accepted → the counter moves
   to that number and the signature is stored; refused → the number is released and the reason shown;
   no answer → the document is IN_DOUBT with its number and nothing else is sent for the device until
   KRA has been asked (`selectInvoiceDetails`) or the identical payload resent (`994` = it had landed).

So the number advances only on acceptance, never twice, never with a gap, whatever the tills do.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation

import structlog
from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction

from cashdesk.etims import clock, tasks
from cashdesk.etims.amounts import BANDS, band_fields, line_amounts, round2, to_json_numbers
from cashdesk.etims.client import DEVICE_CODES, DUPLICATE, OscuClient, OscuReply, OscuTransportError
from cashdesk.etims.config import OFF, get_config
from cashdesk.etims.models import (
    SEQUENCE_OF,
    EtimsCode,
    EtimsDevice,
    EtimsItem,
    EtimsItemClass,
    EtimsItemSequence,
    EtimsPurchase,
    EtimsSignature,
    EtimsSubmission,
    EtimsSyncState,
    PurchaseDecision,
    SubmissionKind,
    SubmissionStatus,
)
from core.errors import DomainError
from core.money import ZERO
from inventory.catalogue_services import tax_rates_update
from inventory.models import MovementKind, Product, StockMovement
from pos.people.models import Branch, User
from pos.people.selectors import shop_settings
from pos.sales.models import PaymentStatus, Sale, SaleReturn

log = structlog.get_logger("cashdesk.etims")

FIRST_LAST_REQ_DT = "20180101000000"
DEVICE_CACHE_SECONDS = 60
LEASE_MARGIN = timedelta(seconds=30)
BACKOFF_FIRST_SECONDS = 5
SCAN_LIMIT = 50  # queued documents looked at per claim for one that is ready


class EtimsError(DomainError):
    """Anything eTIMS refuses or cannot do, in words a manager can act on."""


# ---------------------------------------------------------------------------- the device and its key
def _fernet() -> Fernet:
    return Fernet(settings.ETIMS_KEY.encode())


def cmc_key_encrypt(key: str) -> str:
    return _fernet().encrypt(key.encode()).decode()


def cmc_key_of(device: EtimsDevice) -> str:
    """The device's cmcKey in clear, for the headers only (never logged, never shown)."""
    if not device.cmc_key_encrypted:
        return ""
    try:
        return _fernet().decrypt(device.cmc_key_encrypted.encode()).decode()
    except InvalidToken:
        raise EtimsError(
            "The stored cmcKey cannot be decrypted: ETIMS_KEY changed. Restore it (docs/etims.md)."
        ) from None


def device_client(device: EtimsDevice, *, http=None) -> OscuClient:
    config = get_config()
    return OscuClient(
        base_url=config.base_url(device.environment),
        tin=device.tin,
        bhf_id=device.bhf_id,
        cmc_key=cmc_key_of(device),
        config=config,
        http=http,
    )


def active_device(*, branch_id: int) -> EtimsDevice | None:
    """The branch's device when eTIMS is on for it."""
    device = EtimsDevice.objects.filter(branch_id=branch_id).exclude(environment=OFF).first()
    return device


def _device_cache_key(branch_id: int) -> str:
    return f"etims:active-device:{branch_id}"


def active_device_id(*, branch_id: int) -> int | None:
    """The id of the branch's device when eTIMS is on, cached (every checkout asks; it rarely changes).
    Saving a device clears it; other processes see a change within DEVICE_CACHE_SECONDS at worst."""
    key = _device_cache_key(branch_id)
    device_id = cache.get(key)
    if device_id is None:
        device_id = (EtimsDevice.objects.filter(branch_id=branch_id).exclude(environment=OFF)
                     .values_list("pk", flat=True).first() or 0)
        cache.set(key, device_id, DEVICE_CACHE_SECONDS)
    return device_id or None


@transaction.atomic
def etims_device_save(*, branch: Branch, environment: str, tin: str, bhf_id: str, serial_number: str,
                      user: User) -> EtimsDevice:
    """Set a branch's device (the settings page). A device KRA has initialised keeps its PIN and branch id:
    its key and counters belong to them."""
    tin = (tin or "").strip().upper()
    bhf_id = (bhf_id or "").strip()
    serial_number = (serial_number or "").strip()
    if environment not in dict(EtimsDevice._meta.get_field("environment").choices):
        raise EtimsError("Choose an environment.", field="environment")
    if environment != OFF:
        if len(tin) != 11 or not (tin[0].isalpha() and tin[1:10].isdigit() and tin[10].isalpha()):
            raise EtimsError("A KRA PIN is a letter, nine digits and a letter, e.g. P051234567X.", field="tin")
        if len(bhf_id) != 2 or not bhf_id.isdigit():
            raise EtimsError("The eTIMS branch id is the 2 digits KRA gave this device (00, 01…).", field="bhf_id")
        if not serial_number:
            raise EtimsError("Enter the device serial number registered with KRA.", field="serial_number")
    device, _ = EtimsDevice.objects.select_for_update().get_or_create(branch=branch)
    if device.is_initialised and (tin != device.tin or bhf_id != device.bhf_id):
        raise EtimsError(
            "This device is initialised for another PIN or branch id; its key and numbers belong to them.",
            field="tin",
        )
    if environment != OFF and EtimsDevice.objects.filter(tin=tin, bhf_id=bhf_id).exclude(pk=device.pk).exists():
        raise EtimsError("Another branch already uses this PIN and branch id.", field="bhf_id")
    device.environment, device.tin, device.bhf_id, device.serial_number = environment, tin, bhf_id, serial_number
    device.save()
    transaction.on_commit(lambda: cache.delete(_device_cache_key(branch.pk)))
    log.info("etims_device_saved", branch=branch.code, environment=environment, user=user.pk)
    return device


def etims_device_initialise(*, device: EtimsDevice, http=None) -> EtimsDevice:
    """`selectInitOsdcInfo`, once: store sdcId and the cmcKey (encrypted). A refusal changes nothing:
    `902` (already installed) keeps the stored key; `901`/`903` say the device is not registered."""
    if not device.is_active:
        raise EtimsError("Turn eTIMS on for this branch first.")
    if not (device.tin and device.bhf_id and device.serial_number):
        raise EtimsError("Set the KRA PIN, branch id and serial number first.")
    with device_client(device, http=http) as client:
        try:
            reply = client.select_init_osdc_info(dvc_srl_no=device.serial_number)
        except OscuTransportError as exc:
            raise EtimsError(f"KRA could not be reached: {exc.message} Nothing was changed.") from exc
    if reply.result_cd == "902":
        raise EtimsError("KRA says this device is already installed (902). The stored key is kept; "
                         "if it was lost, KRA must issue a new one.", code="already_installed")
    if not reply.ok:
        raise EtimsError(f"KRA refused the initialisation: {reply.message}. Check the PIN, branch id and serial.",
                         code=f"kra_{reply.result_cd}")
    info = (reply.data or {}).get("info") or {}
    key = str(info.get("cmcKey") or "")
    if not key or not info.get("sdcId"):
        raise EtimsError("KRA's answer had no cmcKey or sdcId. Nothing was changed.")
    with transaction.atomic():
        device = EtimsDevice.objects.select_for_update().get(pk=device.pk)
        device.cmc_key_encrypted = cmc_key_encrypt(key)
        device.sdc_id = str(info.get("sdcId") or "")
        device.mrc_no = str(info.get("mrcNo") or "")
        device.dvc_id = str(info.get("dvcId") or "")
        device.taxpayer_name = str(info.get("taxprNm") or "")[:120]
        device.kra_branch_name = str(info.get("bhfNm") or "")[:120]
        device.initialised_at = clock.now()
        device.stopped_reason = ""
        if not device.stock_cursor:  # stock moves from now on go to KRA; earlier history is not replayed
            last = StockMovement.objects.filter(branch_id=device.branch_id).order_by("-id").values_list("id", flat=True)
            device.stock_cursor = last.first() or 0
        device.save()
        transaction.on_commit(lambda: cache.delete(_device_cache_key(device.branch_id)))
    return device


@transaction.atomic
def etims_device_resume(*, device: EtimsDevice, user: User) -> EtimsDevice:
    """A manager clears a stop or a back-off: the queue is tried again at once."""
    device = EtimsDevice.objects.select_for_update().get(pk=device.pk)
    device.stopped_reason = ""
    device.paused_until = None
    device.failure_streak = 0
    device.save(update_fields=["stopped_reason", "paused_until", "failure_streak", "updated_at"])
    transaction.on_commit(lambda: _enqueue_work(device.pk))
    return device


# ---------------------------------------------------------------------------- code lists and classes
def _last_req_dt(device: EtimsDevice, endpoint: str) -> str:
    state = EtimsSyncState.objects.filter(device=device, endpoint=endpoint).first()
    value = state.last_req_dt if state else FIRST_LAST_REQ_DT
    days = get_config().last_req_days
    if days:
        floor = clock.kra_datetime(clock.now() - timedelta(days=days))
        value = max(value, floor)
    return value


def _remember_last_req_dt(device: EtimsDevice, endpoint: str, reply: OscuReply) -> None:
    value = reply.result_dt if len(reply.result_dt or "") == 14 else clock.kra_datetime(clock.now())
    EtimsSyncState.objects.update_or_create(
        device=device, endpoint=endpoint, defaults={"last_req_dt": value, "synced_at": clock.now()}
    )


def _read(device: EtimsDevice, endpoint: str, body: dict, *, http=None) -> OscuReply:
    with device_client(device, http=http) as client:
        try:
            reply = client.call(endpoint, body)
        except OscuTransportError as exc:
            raise EtimsError(f"KRA could not be reached: {exc.message}", code="unreachable") from exc
    if not (reply.ok or reply.empty):
        raise EtimsError(f"KRA refused {endpoint}: {reply.message}", code=f"kra_{reply.result_cd}")
    return reply


def etims_codes_sync(*, device: EtimsDevice, http=None) -> list[str]:
    """`selectCodeList` since the last sync; the tax bands' rates become the rates the till prices with.
    Returns the bands whose rate changed."""
    reply = _read(device, "selectCodeList", {"lastReqDt": _last_req_dt(device, "selectCodeList")}, http=http)
    changed: list[str] = []
    with transaction.atomic():
        rates: dict[str, Decimal] = {}
        for cls in ((reply.data or {}).get("clsList") or []) if reply.ok else []:
            cd_cls = str(cls.get("cdCls") or "").strip()
            if not cd_cls:
                continue
            for row in cls.get("dtlList") or []:
                cd = str(row.get("cd") or "").strip()
                if not cd:
                    continue
                in_use = str(row.get("useYn") or "Y").upper() == "Y"
                EtimsCode.objects.update_or_create(
                    cd_cls=cd_cls, cd=cd,
                    defaults={
                        "cd_cls_name": str(cls.get("cdClsNm") or "")[:60],
                        "name": str(row.get("cdNm") or cd)[:200],
                        "description": str(row.get("cdDesc") or "")[:400],
                        "user_dfn_cd1": str(row.get("userDfnCd1") or "")[:20],
                        "sort_order": int(row.get("srtOrd") or 0),
                        "in_use": in_use,
                    },
                )
                if cd_cls == "04" and in_use and row.get("userDfnCd1") not in (None, ""):
                    try:
                        rates[cd] = Decimal(str(row["userDfnCd1"]).strip())
                    except InvalidOperation:
                        log.warning("etims code list: tax band %s has rate %r", cd, row["userDfnCd1"])
        if rates:
            changed = tax_rates_update(rates=rates, source="KRA code list")
        _remember_last_req_dt(device, "selectCodeList", reply)
    return changed


def etims_item_classes_sync(*, device: EtimsDevice, http=None) -> int:
    reply = _read(device, "selectItemClsList", {"lastReqDt": _last_req_dt(device, "selectItemClsList")}, http=http)
    count = 0
    with transaction.atomic():
        for row in ((reply.data or {}).get("itemClsList") or []) if reply.ok else []:
            code = str(row.get("itemClsCd") or "").strip()
            if not code:
                continue
            EtimsItemClass.objects.update_or_create(
                code=code,
                defaults={
                    "name": str(row.get("itemClsNm") or "")[:200],
                    "level": int(row.get("itemClsLvl") or 0),
                    "tax_type": str(row.get("taxTyCd") or "")[:5],
                    "major_target": str(row.get("mjrTgYn") or "N").upper() == "Y",
                    "in_use": str(row.get("useYn") or "Y").upper() == "Y",
                },
            )
            count += 1
        _remember_last_req_dt(device, "selectItemClsList", reply)
    return count


def etims_customer_check(*, branch_id: int, pin: str, http=None) -> dict:
    """`selectCustomer`: KRA's name and status for a buyer's PIN. EtimsError when KRA does not know it;
    `{"checked": False}` when eTIMS is off or KRA cannot be reached (the sale goes on; the PIN is kept)."""
    pin = (pin or "").strip().upper()
    device = active_device(branch_id=branch_id)
    if device is None or not device.is_initialised:
        return {"checked": False, "pin": pin}
    with device_client(device, http=http) as client:
        try:
            reply = client.select_customer(pin=pin)
        except OscuTransportError:
            return {"checked": False, "pin": pin}
    if reply.empty:
        raise EtimsError(f"KRA does not know the PIN {pin}.", field="kra_pin")
    if not reply.ok:
        return {"checked": False, "pin": pin}
    rows = (reply.data or {}).get("custList") or []
    row = rows[0] if rows else {}
    return {"checked": True, "pin": pin, "name": str(row.get("taxprNm") or ""),
            "active": str(row.get("taxprSttsCd") or "A") == "A"}


# ---------------------------------------------------------------------------- items
UNIT_CODES = {"kg": "KG", "g": "GRM", "l": "LTR", "ltr": "LTR", "m": "MTR", "pk": "PA", "box": "BX", "dz": "DZ"}


def quantity_unit_code(product: Product) -> str:
    """KRA's quantity unit for our unit (2+ characters: the gateway refused 1-character units in item codes)."""
    return UNIT_CODES.get((product.unit.code or "").lower(), "NO")


def item_class_of(product: Product) -> str:
    """The product's KRA classification, or its category's default."""
    return (product.kra_item_code or product.category.kra_item_code or "").strip()


def item_problem(product: Product) -> str:
    """Why the product cannot be registered with KRA, or ""."""
    if not item_class_of(product):
        return f"{product.name} has no KRA item classification (set it on the product or its category)."
    if not product.name.strip():
        return "A product has no name."
    return ""


def _item_type(product: Product) -> str:
    return "2" if product.track_stock else "3"


@transaction.atomic
def etims_item_for(*, product: Product, tin: str) -> EtimsItem:
    """The product's eTIMS item, its code made once from the documented pattern and the PIN's sequence:
    origin (2) + type (1) + packaging (2) + quantity unit (2) + running number (7)."""
    existing = EtimsItem.objects.filter(product=product).first()
    if existing:
        return existing
    # Lock first, insert only when missing (as the sale numbers do): a create that loses the race
    # then waits for the winner's row instead of holding a shared lock and asking for an exclusive one.
    sequence = EtimsItemSequence.objects.select_for_update().filter(tin=tin).first()
    if sequence is None:
        try:
            with transaction.atomic():
                EtimsItemSequence.objects.create(tin=tin)
        except IntegrityError:
            pass  # another registration made it first
        sequence = EtimsItemSequence.objects.select_for_update().get(tin=tin)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    prefix = f"{get_config().origin_country}{_item_type(product)}NT{quantity_unit_code(product)}"
    code = f"{prefix}{sequence.last_number:07d}"
    return EtimsItem.objects.create(product=product, tin=tin, item_code=code)


def item_payload(*, product: Product, item: EtimsItem, user_name: str = "AsiriaPOS") -> dict:
    config = get_config()
    body = {
        "itemCd": item.item_code,
        "itemClsCd": item_class_of(product),
        "itemTyCd": _item_type(product),
        "itemNm": product.name[:200],
        "itemStdNm": None,
        "orgnNatCd": config.origin_country,
        "pkgUnitCd": "NT",
        "qtyUnitCd": quantity_unit_code(product),
        "taxTyCd": product.tax_class,
        "btchNo": None,
        "bcd": product.barcode or None,
        "dftPrc": product.selling_price,
        "grpPrcL1": None, "grpPrcL2": None, "grpPrcL3": None, "grpPrcL4": None, "grpPrcL5": None,
        "addInfo": None,
        "sftyQty": None,
        "isrcAplcbYn": "N",
        "useYn": "Y" if product.is_active else "N",
        **_audit("system", user_name),
    }
    return to_json_numbers(body)


def _audit(user_id: str, name: str) -> dict:
    return {"regrId": str(user_id)[:20], "regrNm": name[:60], "modrId": str(user_id)[:20], "modrNm": name[:60]}


def _hash(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def etims_item_register(*, device: EtimsDevice, product: Product, force: bool = False, http=None) -> EtimsItem:
    """`saveItem` for one product (again only when what KRA has differs, or `force`)."""
    problem = item_problem(product)
    item = etims_item_for(product=product, tin=device.tin)
    if problem:
        EtimsItem.objects.filter(pk=item.pk).update(last_error=problem[:255])
        raise EtimsError(problem, code="no_classification")
    payload = item_payload(product=product, item=item)
    digest = _hash(payload)
    if item.registered_at and item.registered_payload_hash == digest and not force:
        return item
    with device_client(device, http=http) as client:
        try:
            reply = client.call("saveItem", payload)
        except OscuTransportError as exc:
            raise EtimsError(f"KRA could not be reached: {exc.message}", code="unreachable") from exc
    if not reply.ok:
        EtimsItem.objects.filter(pk=item.pk).update(last_error=reply.message[:255])
        raise EtimsError(f"KRA refused item {item.item_code}: {reply.message}", code=f"kra_{reply.result_cd}")
    EtimsItem.objects.filter(pk=item.pk).update(registered_payload_hash=digest, registered_at=clock.now(),
                                                last_error="")
    item.refresh_from_db()
    return item


# ---------------------------------------------------------------------------- queueing (from the cash desk)
def _enqueue_work(device_id: int) -> None:
    tasks.etims_work_queue(device_id)


def _queue(*, device: EtimsDevice | None = None, device_id: int | None = None, kind: str, key: str, occurred_at,
           **fields) -> EtimsSubmission:
    device_id = device_id or device.pk
    submission, created = EtimsSubmission.objects.get_or_create(
        document_key=key,
        defaults={"device_id": device_id, "kind": kind, "sequence": SEQUENCE_OF[kind], "occurred_at": occurred_at,
                  **fields},
    )
    if created:
        transaction.on_commit(lambda: _enqueue_work(device_id))
    return submission


def etims_sale_queue(*, sale: Sale) -> EtimsSubmission | None:
    """Put a completed sale in its branch's outbox (inside the checkout's transaction; nothing is sent
    until it commits). None when eTIMS is off for the branch (no query then: the answer is cached)."""
    device_id = active_device_id(branch_id=sale.branch_id)
    if device_id is None:
        return None
    return _queue(device_id=device_id, kind=SubmissionKind.SALE, key=f"S:{sale.pk}", occurred_at=sale.completed_at,
                  sale=sale)


def _credit_reason(reason: str) -> str:
    words = (reason or "").lower()
    if "damag" in words:
        return "03"
    if "wrong" in words and "price" in words:
        return "09"
    return "06"  # refund


def etims_credit_note_queue(*, sale_return: SaleReturn) -> EtimsSubmission | None:
    """Queue the credit note of goods brought back. Only a sale sent to eTIMS gets one."""
    original = EtimsSubmission.objects.filter(document_key=f"S:{sale_return.sale_id}").first()
    if original is None:
        return None
    lines = [
        {"sale_line": line.sale_line_id, "qty": str(line.quantity), "amount": str(line.amount)}
        for line in sale_return.lines.all()
    ]
    return _queue(device=original.device, kind=SubmissionKind.CREDIT_NOTE, key=f"R:{sale_return.pk}",
                  occurred_at=sale_return.created_at or clock.now(), sale=sale_return.sale, sale_return=sale_return,
                  original=original, reason_code=_credit_reason(sale_return.reason),
                  document={"lines": lines, "remark": sale_return.reason[:400]})


def etims_void_queue(*, sale: Sale) -> EtimsSubmission | None:
    """Queue the credit note of a voided sale: every line, in full (a void has no earlier returns)."""
    original = EtimsSubmission.objects.filter(document_key=f"S:{sale.pk}").first()
    if original is None:
        return None
    lines = [{"sale_line": line.pk, "qty": str(line.quantity), "amount": str(line.line_total)}
             for line in sale.lines.all()]
    return _queue(device=original.device, kind=SubmissionKind.CREDIT_NOTE, key=f"V:{sale.pk}",
                  occurred_at=sale.voided_at or clock.now(), sale=sale, original=original, reason_code="06",
                  document={"lines": lines, "remark": f"Void: {sale.void_reason}"[:400]})


def credit_note_problem(submission: EtimsSubmission) -> str:
    """Why this credit note would credit more than its invoice (across all its credit notes), or ""."""
    sale = submission.sale
    lines = {line.pk: line for line in sale.lines.all()}
    credited_qty: dict[int, Decimal] = {}
    credited_amount: dict[int, Decimal] = {}
    # The credit notes queued before this one come first; this one may only credit what they left.
    others = EtimsSubmission.objects.filter(original=submission.original, kind=SubmissionKind.CREDIT_NOTE,
                                            id__lt=submission.pk)
    for other in [*others, submission]:
        for row in other.document.get("lines", []):
            pk = int(row["sale_line"])
            credited_qty[pk] = credited_qty.get(pk, Decimal("0")) + Decimal(row["qty"])
            credited_amount[pk] = credited_amount.get(pk, ZERO) + Decimal(row["amount"])
    for pk, qty in credited_qty.items():
        line = lines.get(pk)
        if line is None:
            return "A credited line is not on the original sale."
        if qty > line.quantity or credited_amount[pk] > line.line_total:
            return (f"Credit notes for {line.product_name} would exceed the original invoice "
                    f"({qty} of {line.quantity}, KES {credited_amount[pk]} of {line.line_total}).")
    if sum(credited_amount.values(), ZERO) > sale.total:
        return f"Credit notes would exceed the original invoice total (KES {sale.total})."
    return ""


# ---------------------------------------------------------------------------- payloads
def _tender_code(sale: Sale) -> str:
    """One payment-type code per invoice (docs/etims.md, "Split tender"): the method that paid the most
    (ties: the first in KRA's order), or with ETIMS_SPLIT_TENDER=cash_credit, 03 for cash + credit."""
    codes = {"CASH": "01", "CUSTOMER_CREDIT": "02", "CARD": "05", "MPESA": "06"}
    paid: dict[str, Decimal] = {}
    for payment in sale.payments.all():
        if payment.status in (PaymentStatus.CONFIRMED, PaymentStatus.REFUNDED):
            code = codes.get(payment.method, "07")
            paid[code] = paid.get(code, ZERO) + payment.amount - payment.change_given
    if not paid:
        return "01"
    if get_config().split_tender == "cash_credit" and set(paid) == {"01", "02"}:
        return "03"
    return sorted(paid.items(), key=lambda item: (-item[1], item[0]))[0][0]


def _item_line(seq: int, *, item: EtimsItem, product: Product, name: str, qty: Decimal, prc: Decimal,
               sply: Decimal, dc: Decimal, band: str, rate: Decimal) -> tuple[dict, tuple]:
    config = get_config()
    qty2 = qty.quantize(Decimal("0.01"))
    if qty2 != qty:  # KRA's quantities have 2 decimals: keep prc × qty = splyAmt true
        prc = round2(sply / qty2, config.rounding) if qty2 else prc
    amounts = line_amounts(prc=prc, qty=qty2, sply_amt=sply, dc_amt=dc, rate=rate, basis=config.taxable_basis,
                           rounding=config.rounding)
    line = {
        "itemSeq": seq, "itemCd": item.item_code, "itemClsCd": item_class_of(product), "itemNm": name[:200],
        "bcd": product.barcode or None, "pkgUnitCd": "NT", "pkg": qty2 if qty2 >= 1 else 1,
        "qtyUnitCd": quantity_unit_code(product), "qty": qty2, "prc": prc, "splyAmt": sply, "dcRt": amounts.dc_rt,
        "dcAmt": dc, "isrccCd": None, "isrccNm": None, "isrcRt": None, "isrcAmt": None, "taxTyCd": band,
        "taxblAmt": amounts.taxbl_amt, "taxAmt": amounts.tax_amt, "totAmt": amounts.tot_amt,
    }
    return line, (band, rate, amounts)


def _band_rates() -> dict[str, Decimal]:
    rates = {}
    for code in EtimsCode.objects.filter(cd_cls="04"):
        try:
            rates[code.cd] = Decimal(code.user_dfn_cd1 or "0")
        except InvalidOperation:
            continue
    return rates


def _document_lines(submission: EtimsSubmission) -> list[tuple]:
    """(sale line, quantity, amount) of the document: the whole sale, or the credited part."""
    sale = submission.sale
    if submission.kind == SubmissionKind.SALE:
        return [(line, line.quantity, line.line_total) for line in sale.lines.select_related("product")]
    lines = {line.pk: line for line in sale.lines.select_related("product")}
    return [(lines[int(row["sale_line"])], Decimal(row["qty"]), Decimal(row["amount"]))
            for row in submission.document.get("lines", [])]


def invoice_payload(submission: EtimsSubmission, *, number: int, org_number: int = 0) -> dict:
    """`saveTrnsSalesOsdc` for a sale (S) or credit note (R), amounts per docs/etims.md."""
    config = get_config()
    sale = submission.sale
    shop = shop_settings()
    is_credit = submission.kind == SubmissionKind.CREDIT_NOTE
    items, amounts = [], []
    for seq, (line, qty, amount) in enumerate(_document_lines(submission), start=1):
        item = EtimsItem.objects.get(product_id=line.product_id)
        if qty == line.quantity:
            sply = line.gross_amount
            dc = line.gross_amount - amount
        else:  # part of a line comes back: its share at the price charged, discount in proportion
            sply = round2(line.unit_price * qty, config.rounding)
            dc = max(sply - amount, ZERO)
        row, band = _item_line(seq, item=item, product=line.product, name=line.product_name, qty=qty,
                               prc=line.unit_price, sply=sply, dc=dc, band=line.tax_class, rate=line.tax_rate)
        items.append(row)
        amounts.append(band)
    when = submission.occurred_at
    customer = sale.customer
    cust_tin = (customer.kra_pin or None) if customer else None
    cust_name = (customer.name[:60] if customer else None)
    cashier = sale.cashier
    audit = _audit(cashier.pk, cashier.full_name or str(cashier))
    body = {
        "trdInvcNo": (submission.sale_return.number if submission.sale_return else (
            f"{sale.number}-V" if is_credit else sale.number))[:50],
        "invcNo": number,
        "orgInvcNo": org_number,
        "custTin": cust_tin,
        "custNm": cust_name,
        "salesTyCd": "N",
        "rcptTyCd": "R" if is_credit else "S",
        "pmtTyCd": _tender_code(sale),
        "salesSttsCd": config.credit_note_status if is_credit else "02",
        "cfmDt": clock.kra_datetime(when),
        "salesDt": clock.kra_date(when),
        "stockRlsDt": clock.kra_datetime(when),
        "cnclReqDt": None,
        "cnclDt": None,
        "rfdDt": clock.kra_datetime(when) if is_credit else None,
        "rfdRsnCd": submission.reason_code or None if is_credit else None,
        "totItemCnt": len(items),
        **band_fields(amounts, band_rates=_band_rates(), unused_band_rate=config.unused_band_rate),
        "prchrAcptcYn": config.purchase_accept_flag,
        "remark": (submission.document.get("remark") or None),
        **audit,
        "receipt": {
            "custTin": cust_tin,
            "custMblNo": (customer.phone_number or None) if customer else None,
            "rcptPbctDt": clock.kra_datetime(when),
            "trdeNm": shop.shop_name[:20] if shop.shop_name else None,
            "adrs": (sale.branch.address or shop.address or None),
            "topMsg": None,
            "btmMsg": shop.receipt_footer or None,
            "prchrAcptcYn": config.purchase_accept_flag,
        },
        "itemList": items,
    }
    return to_json_numbers(body)


SAR_TYPES = {
    MovementKind.SALE: ("11", "11"),
    MovementKind.SALE_RETURN: ("03", "03"),
    MovementKind.VOID: ("03", "03"),
    MovementKind.PURCHASE_RECEIPT: ("02", "02"),
    MovementKind.PURCHASE_RETURN: ("12", "12"),
    MovementKind.ADJUSTMENT: ("06", "16"),
    MovementKind.COUNT: ("06", "16"),
    MovementKind.TRANSFER_OUT: ("13", "13"),
    MovementKind.TRANSFER_IN: ("04", "04"),
    MovementKind.OPENING: ("06", "06"),
}


def stock_io_payload(submission: EtimsSubmission, *, number: int) -> dict:
    config = get_config()
    doc = submission.document
    items, amounts = [], []
    for seq, row in enumerate(doc["lines"], start=1):
        product = Product.objects.select_related("unit", "category").get(pk=row["product"])
        item = EtimsItem.objects.get(product=product)
        qty = abs(Decimal(row["qty"]))
        price = product.cost_price if config.stock_valuation == "cost" else product.selling_price
        sply = round2(price * qty, config.rounding)
        line, band = _item_line(seq, item=item, product=product, name=product.name, qty=qty, prc=price, sply=sply,
                                dc=ZERO, band=product.tax_class, rate=product.tax_rate)
        line["totDcAmt"] = line.pop("dcAmt")
        line["itemExprDt"] = None
        for key in ("dcRt", "isrccCd", "isrccNm", "isrcRt", "isrcAmt"):
            line.pop(key)
        items.append(line)
        amounts.append(band)
    totals = band_fields(amounts, band_rates={}, unused_band_rate="zero")
    body = {
        "sarNo": number, "orgSarNo": 0, "regTyCd": "M", "custTin": None, "custNm": None, "custBhfId": None,
        "sarTyCd": doc["sar_type"], "ocrnDt": clock.kra_date(submission.occurred_at), "totItemCnt": len(items),
        "totTaxblAmt": totals["totTaxblAmt"], "totTaxAmt": totals["totTaxAmt"], "totAmt": totals["totAmt"],
        "remark": doc.get("remark") or None, **_audit("system", "AsiriaPOS"), "itemList": items,
    }
    return to_json_numbers(body)


def stock_master_payload(submission: EtimsSubmission) -> dict:
    item = EtimsItem.objects.get(product_id=submission.product_id)
    return to_json_numbers({"itemCd": item.item_code, "rsdQty": Decimal(submission.document["rsd_qty"]),
                            **_audit("system", "AsiriaPOS")})


def purchase_payload(submission: EtimsSubmission, *, number: int) -> dict:
    imported = submission.purchase_import
    data = imported.data
    accepted = submission.document.get("accept", True)
    body = {
        "invcNo": number, "orgInvcNo": 0, "spplrTin": imported.supplier_tin, "spplrBhfId": imported.supplier_bhf_id,
        "spplrNm": imported.supplier_name, "spplrInvcNo": imported.supplier_invc_no, "regTyCd": "A",
        "pchsTyCd": "N", "rcptTyCd": "P", "pmtTyCd": data.get("pmtTyCd") or "01",
        "pchsSttsCd": "02" if accepted else "04", "cfmDt": clock.kra_datetime(submission.occurred_at),
        "pchsDt": clock.kra_date(submission.occurred_at), "wrhsDt": None, "cnclReqDt": None, "cnclDt": None,
        "rfdDt": None, "totItemCnt": len(data.get("itemList") or []),
        **{key: data.get(key, 0) for key in [f"{p}{b}" for p in ("taxblAmt", "taxRt", "taxAmt") for b in BANDS]},
        "totTaxblAmt": data.get("totTaxblAmt", 0), "totTaxAmt": data.get("totTaxAmt", 0),
        "totAmt": data.get("totAmt", 0), "remark": submission.document.get("note") or None,
        **_audit("system", "AsiriaPOS"), "itemList": data.get("itemList") or [],
    }
    return body


# ---------------------------------------------------------------------------- readiness
def _products_of(submission: EtimsSubmission) -> list[Product]:
    if submission.kind in (SubmissionKind.SALE, SubmissionKind.CREDIT_NOTE):
        ids = {line.product_id for line, _, _ in _document_lines(submission)}
    elif submission.kind == SubmissionKind.STOCK_IO:
        ids = {int(row["product"]) for row in submission.document["lines"]}
    elif submission.kind == SubmissionKind.STOCK_MASTER:
        ids = {submission.product_id}
    else:
        ids = set()
    return list(Product.objects.filter(pk__in=ids).select_related("category", "unit").order_by("pk"))


def _not_ready(submission: EtimsSubmission) -> tuple[str, Product | None]:
    """(why it cannot go yet, a product to register first) — ("", None) when it can go now."""
    if submission.kind == SubmissionKind.CREDIT_NOTE:
        original = submission.original
        if original.status != SubmissionStatus.SIGNED:
            return "Waits for the original sale to be signed by KRA.", None
        problem = credit_note_problem(submission)
        if problem:
            return problem, None
    if submission.kind == SubmissionKind.STOCK_IO and submission.document.get("after"):
        after = EtimsSubmission.objects.filter(document_key=submission.document["after"]).first()
        if after is not None and after.status != SubmissionStatus.SIGNED:
            return "Waits for its sale or credit note to be signed by KRA.", None
    if submission.kind == SubmissionKind.STOCK_MASTER:
        io = EtimsSubmission.objects.filter(document_key=submission.document.get("after", "")).first()
        if io is not None and io.status != SubmissionStatus.SIGNED:
            return "Waits for its stock movement to be accepted.", None
    for product in _products_of(submission):
        item = EtimsItem.objects.filter(product=product).first()
        if item is not None and item.registered_at:
            continue
        problem = item_problem(product)
        if problem:
            return problem, None
        return "", product
    return "", None


# ---------------------------------------------------------------------------- the worker
@dataclass(frozen=True)
class Step:
    device_id: int
    token: str
    action: str  # "send" | "resolve" | "register"
    submission_id: int | None = None
    product_id: int | None = None
    endpoint: str = ""
    payload: dict | None = None
    number: int | None = None


def _backoff(streak: int) -> timedelta:
    seconds = min(get_config().backoff_max_seconds, BACKOFF_FIRST_SECONDS * 2 ** max(streak - 1, 0))
    return timedelta(seconds=seconds)


ENDPOINT_OF = {
    SubmissionKind.SALE: "saveTrnsSalesOsdc",
    SubmissionKind.CREDIT_NOTE: "saveTrnsSalesOsdc",
    SubmissionKind.STOCK_IO: "insertStockIO",
    SubmissionKind.STOCK_MASTER: "saveStockMaster",
    SubmissionKind.PURCHASE: "insertTrnsPurchase",
}
COUNTER_OF = {"invc": "last_invc_no", "sar": "last_sar_no", "pchs": "last_pchs_no"}


def _build_payload(submission: EtimsSubmission, number: int | None) -> dict:
    if submission.kind in (SubmissionKind.SALE, SubmissionKind.CREDIT_NOTE):
        org = submission.original.number if submission.kind == SubmissionKind.CREDIT_NOTE else 0
        return invoice_payload(submission, number=number, org_number=org or 0)
    if submission.kind == SubmissionKind.STOCK_IO:
        return stock_io_payload(submission, number=number)
    if submission.kind == SubmissionKind.STOCK_MASTER:
        return stock_master_payload(submission)
    return purchase_payload(submission, number=number)


@transaction.atomic
def outbox_claim(device_id: int) -> Step | None:
    """Take the device's next outbox step under its lease, or None (stopped, busy, nothing waiting)."""
    device = EtimsDevice.objects.select_for_update().get(pk=device_id)
    now = clock.now()
    if not device.is_active or device.stopped_reason or not device.is_initialised:
        return None
    if device.sending_id and device.lease_until and device.lease_until > now:
        return None  # another worker has a call in flight for this device
    if device.sending_id:
        # The worker that claimed it died (or its call outlived the lease): its outcome is unknown.
        EtimsSubmission.objects.filter(pk=device.sending_id, status=SubmissionStatus.SENDING).update(
            status=SubmissionStatus.IN_DOUBT, result_msg="The sending worker stopped mid-call: checking with KRA.")
        device.sending = None
    if device.paused_until and device.paused_until > now:
        device.save(update_fields=["sending", "updated_at"])
        return None
    token = uuid.uuid4().hex
    step: Step | None = None
    doubtful = EtimsSubmission.objects.filter(device=device, status=SubmissionStatus.IN_DOUBT).order_by("id").first()
    if doubtful is not None:
        chosen, action = doubtful, "resolve"
    else:
        chosen, action = None, "send"
        for candidate in EtimsSubmission.objects.filter(device=device, status=SubmissionStatus.QUEUED).order_by(
                "id")[:SCAN_LIMIT]:
            reason, product = _not_ready(candidate)
            if product is not None:
                step = Step(device.pk, token, "register", submission_id=candidate.pk, product_id=product.pk)
                chosen = candidate
                break
            if reason:
                if candidate.waiting_reason != reason[:255]:
                    EtimsSubmission.objects.filter(pk=candidate.pk).update(waiting_reason=reason[:255])
                continue
            chosen = candidate
            break
        if chosen is None:
            device.save(update_fields=["sending", "updated_at"])
            return None
    if step is None:
        counter = COUNTER_OF.get(chosen.sequence)
        number = chosen.number
        if counter and number is None:
            number = getattr(device, counter) + 1
        if chosen.payload is None or chosen.status == SubmissionStatus.QUEUED:
            chosen.payload = _build_payload(chosen, number)
        chosen.number = number
        chosen.status = SubmissionStatus.SENDING
        chosen.waiting_reason = ""
        chosen.attempts += 1
        chosen.last_attempt_at = now
        chosen.save(update_fields=["payload", "number", "status", "waiting_reason", "attempts", "last_attempt_at",
                                   "updated_at"])
        step = Step(device.pk, token, action, submission_id=chosen.pk, endpoint=ENDPOINT_OF[chosen.kind],
                    payload=chosen.payload, number=number)
    device.sending_id = chosen.pk
    device.lease_token = token
    device.lease_until = now + timedelta(seconds=get_config().timeout * 2) + LEASE_MARGIN
    device.save(update_fields=["sending", "lease_token", "lease_until", "updated_at"])
    return step


@dataclass(frozen=True)
class Outcome:
    reply: OscuReply | None = None
    error: OscuTransportError | None = None
    found: dict | None = None  # the signature KRA returned for an invoice we asked about
    resent: bool = False
    register_problem: str = ""


def _signature_from_details(reply: OscuReply) -> dict | None:
    rows = (reply.data or {}).get("salesList") or []
    if not rows:
        return None
    receipt = rows[0].get("receipt") or rows[0]
    return {key: receipt.get(key) for key in ("curRcptNo", "totRcptNo", "intrlData", "rcptSign", "sdcDateTime")}


def outbox_send(step: Step, *, http=None) -> Outcome:
    """Make one claimed step's call to KRA and say how it went (written down by the caller)."""
    device = EtimsDevice.objects.get(pk=step.device_id)
    if step.action == "register":
        product = Product.objects.select_related("category", "unit").get(pk=step.product_id)
        try:
            etims_item_register(device=device, product=product, http=http)
        except EtimsError as exc:
            if exc.code == "unreachable":
                return Outcome(error=OscuTransportError(exc.message, kind="unreachable", sent=False))
            if exc.code.removeprefix("kra_") in DEVICE_CODES:
                return Outcome(reply=OscuReply(exc.code.removeprefix("kra_"), exc.message, ""))
            return Outcome(register_problem=exc.message)
        return Outcome()
    with device_client(device, http=http) as client:
        try:
            if step.action == "resolve" and step.endpoint == "saveTrnsSalesOsdc" and get_config().invoice_lookup:
                details = client.select_invoice_details(invc_no=step.number)
                if details.ok:
                    found = _signature_from_details(details)
                    if found:
                        return Outcome(reply=details, found=found)
                elif details.transient:
                    return Outcome(reply=details)  # KRA could not say: still in doubt, try later
                # 001 (KRA does not have it) or a lookup KRA does not offer: resend the identical payload
            reply = client.call(step.endpoint, step.payload)
            return Outcome(reply=reply, resent=step.action == "resolve")
        except OscuTransportError as exc:
            return Outcome(error=exc)


def _store_signature(device: EtimsDevice, submission: EtimsSubmission, data: dict | None, *,
                     reconciled: bool) -> None:
    if submission.kind not in (SubmissionKind.SALE, SubmissionKind.CREDIT_NOTE):
        return
    data = data or {}
    payload = submission.payload or {}

    def number(value):
        try:
            return int(str(value).strip())
        except (TypeError, ValueError):
            return None

    EtimsSignature.objects.create(
        submission=submission,
        sale=submission.sale,
        sale_return=submission.sale_return,
        receipt_type="R" if submission.kind == SubmissionKind.CREDIT_NOTE else "S",
        environment=device.environment,
        tin=device.tin,
        bhf_id=device.bhf_id,
        sdc_id=device.sdc_id,
        mrc_no=device.mrc_no,
        invc_no=submission.number,
        org_invc_no=payload.get("orgInvcNo") or 0,
        cur_rcpt_no=number(data.get("curRcptNo")),
        tot_rcpt_no=number(data.get("totRcptNo")),
        intrl_data=str(data.get("intrlData") or "")[:200],
        rcpt_sign=str(data.get("rcptSign") or "")[:200],
        sdc_datetime=clock.parse_kra_datetime(data.get("sdcDateTime")),
        total=Decimal(str(payload.get("totAmt", "0"))),
        tax_total=Decimal(str(payload.get("totTaxAmt", "0"))),
        reconciled=reconciled,
    )


def _accept(device: EtimsDevice, submission: EtimsSubmission, data: dict | None, *, reconciled: bool,
            message: str) -> None:
    counter = COUNTER_OF.get(submission.sequence)
    if counter:
        expected = getattr(device, counter) + 1
        if submission.number != expected:  # cannot happen while one worker holds the lease; refuse loudly
            raise RuntimeError(f"eTIMS {counter}: accepted {submission.number}, expected {expected}")
        setattr(device, counter, submission.number)
    submission.status = SubmissionStatus.SIGNED
    submission.accepted_at = clock.now()
    submission.result_msg = message[:400]
    _store_signature(device, submission, data, reconciled=reconciled)


def _release(submission: EtimsSubmission, *, status: str, message: str, code: str = "") -> None:
    submission.status = status
    submission.number = None
    submission.payload = None
    submission.result_cd = code
    submission.result_msg = message[:400]


@transaction.atomic
def _record(step: Step, outcome: Outcome) -> str:
    """Write what happened; returns "done" (go on), "pause" or "stop"."""
    device = EtimsDevice.objects.select_for_update().get(pk=step.device_id)
    if device.lease_token != step.token or device.sending_id != step.submission_id:
        return "stop"  # our lease ran out and another worker took over: its record counts, not ours
    now = clock.now()
    submission = EtimsSubmission.objects.select_for_update().get(pk=step.submission_id)
    device.sending = None
    device.lease_token = ""
    device.lease_until = None
    result = "done"
    fields = ["sending", "lease_token", "lease_until", "updated_at"]
    if step.action == "register":
        if outcome.error is not None:
            result = _trouble(device, outcome.error.message, now)
        elif outcome.reply is not None and outcome.reply.device_problem:
            device.stopped_reason = f"{outcome.reply.message} — check the device settings."[:255]
            fields.append("stopped_reason")
            result = "stop"
        elif outcome.register_problem:
            submission.waiting_reason = outcome.register_problem[:255]
            submission.save(update_fields=["waiting_reason", "updated_at"])
        device.save(update_fields=fields + ["failure_streak", "paused_until", "last_error", "last_contact_at"])
        return result
    reply, error = outcome.reply, outcome.error
    if error is not None or (reply is not None and reply.transient):
        message = error.message if error is not None else reply.message
        if error is not None and not error.sent and submission.status == SubmissionStatus.SENDING \
                and step.action == "send":
            # Never left the machine: the number goes back, the document waits its turn.
            _release(submission, status=SubmissionStatus.QUEUED, message=message)
        else:
            submission.status = SubmissionStatus.IN_DOUBT
            submission.result_cd = reply.result_cd if reply is not None else ""
            submission.result_msg = f"No answer from KRA ({message}); checking before anything else is sent."[:400]
        result = _trouble(device, message, now)
    else:
        device.last_contact_at = now
        device.failure_streak = 0
        device.paused_until = None
        device.last_error = ""
        submission.result_cd = reply.result_cd
        if outcome.found is not None:
            _accept(device, submission, outcome.found, reconciled=False,
                    message="KRA had it already (found after a lost answer).")
        elif reply.ok:
            _accept(device, submission, reply.data if isinstance(reply.data, dict) else None, reconciled=False,
                    message=reply.result_msg or "Accepted")
        elif reply.result_cd == DUPLICATE and (outcome.resent or submission.attempts > 1):
            _accept(device, submission, None, reconciled=True,
                    message="KRA answered 994 to the resend: the first attempt had landed.")
        elif reply.device_problem:
            _release(submission, status=SubmissionStatus.QUEUED, message=reply.message, code=reply.result_cd)
            device.stopped_reason = f"{reply.message} — check the device settings; nothing is sent until then."[:255]
            result = "stop"
        elif reply.result_cd == DUPLICATE:
            submission.status = SubmissionStatus.IN_DOUBT
            submission.result_msg = f"{reply.message}: KRA already has number {submission.number}."[:400]
            device.stopped_reason = (f"KRA already has invoice {submission.number} from this device: the counter is "
                                     "behind KRA's. Check before resuming.")[:255]
            result = "stop"
        else:
            _release(submission, status=SubmissionStatus.REJECTED, message=reply.message, code=reply.result_cd)
    submission.save()
    device.save()
    return result


def _trouble(device: EtimsDevice, message: str, now) -> str:
    device.failure_streak += 1
    device.paused_until = now + _backoff(device.failure_streak)
    device.last_error = message[:255]
    return "pause"


def etims_device_work(*, device_id: int, limit: int = 1000, http=None) -> int:
    """Work the device's queue until it is empty, paused, stopped or another worker has it. Returns how
    many calls were made. Safe to run any number of times at once (Huey, the periodic sweep, a test)."""
    calls = 0
    while calls < limit:
        step = outbox_claim(device_id)
        if step is None:
            break
        outcome = outbox_send(step, http=http)
        calls += 1
        if _record(step, outcome) != "done":
            break
    return calls


# ---------------------------------------------------------------------------- manager actions
@transaction.atomic
def etims_submission_retry(*, submission: EtimsSubmission, user: User) -> EtimsSubmission:
    """Send a refused document again (after the data was fixed): back in the queue, payload rebuilt."""
    submission = EtimsSubmission.objects.select_for_update().get(pk=submission.pk)
    if submission.status != SubmissionStatus.REJECTED:
        raise EtimsError("Only a document KRA refused can be sent again.")
    submission.status = SubmissionStatus.QUEUED
    submission.payload = None
    submission.waiting_reason = ""
    submission.result_msg = f"Sent again by {user.full_name or user}."[:400]
    submission.save()
    transaction.on_commit(lambda: _enqueue_work(submission.device_id))
    return submission


# ---------------------------------------------------------------------------- stock from the ledger
def etims_stock_feed(*, device: EtimsDevice, limit: int = 500) -> int:
    """Turn stock movements past the device's cursor into `insertStockIO` documents (one per cause: a
    sale, a purchase received, an adjustment…) each followed by `saveStockMaster` for its products."""
    made = 0
    with transaction.atomic():
        device = EtimsDevice.objects.select_for_update().get(pk=device.pk)
        movements = list(StockMovement.objects.filter(branch_id=device.branch_id, id__gt=device.stock_cursor)
                         .order_by("id")[:limit])
        if not movements:
            return 0
        groups: dict[tuple, list[StockMovement]] = {}
        for movement in movements:
            sign = "in" if movement.quantity > 0 else "out"
            key = (movement.kind, movement.reference_type_id, movement.reference_id, sign,
                   movement.created_at.date() if not movement.reference_id else None)
            groups.setdefault(key, []).append(movement)
        for (kind, _type, ref_id, sign, _day), rows in groups.items():
            sar_in, sar_out = SAR_TYPES.get(kind, ("06", "16"))
            after = ""
            if kind == MovementKind.SALE and ref_id:
                after = f"S:{ref_id}"
            elif kind == MovementKind.VOID and ref_id:
                after = f"V:{ref_id}"
            if after and not EtimsSubmission.objects.filter(document_key=after).exists():
                after = ""
            key = f"IO:{device.pk}:{rows[0].pk}"
            io = _queue(device=device, kind=SubmissionKind.STOCK_IO, key=key, occurred_at=rows[0].created_at,
                        document={"lines": [{"product": m.product_id, "qty": str(m.quantity)} for m in rows],
                                  "sar_type": sar_in if sign == "in" else sar_out, "after": after,
                                  "remark": (rows[0].reference_label or rows[0].get_kind_display())[:400]})
            for movement in rows:
                _queue(device=device, kind=SubmissionKind.STOCK_MASTER, key=f"SM:{device.pk}:{movement.pk}",
                       occurred_at=movement.created_at, product_id=movement.product_id,
                       document={"rsd_qty": str(movement.balance_after), "after": io.document_key})
            made += 1
        device.stock_cursor = movements[-1].pk
        device.save(update_fields=["stock_cursor", "updated_at"])
    return made


# ---------------------------------------------------------------------------- purchases
def etims_purchases_fetch(*, device: EtimsDevice, http=None) -> int:
    """`selectTrnsPurchaseSalesList`: what suppliers declared they sold us, for a manager to decide."""
    reply = _read(device, "selectTrnsPurchaseSalesList",
                  {"lastReqDt": _last_req_dt(device, "selectTrnsPurchaseSalesList")}, http=http)
    count = 0
    with transaction.atomic():
        for row in ((reply.data or {}).get("saleList") or []) if reply.ok else []:
            try:
                invc_no = int(row.get("spplrInvcNo"))
            except (TypeError, ValueError):
                continue
            sales_dt = clock.parse_kra_datetime(row.get("salesDt"))
            _, created = EtimsPurchase.objects.get_or_create(
                device=device, supplier_tin=str(row.get("spplrTin") or "")[:11], supplier_invc_no=invc_no,
                defaults={
                    "supplier_name": str(row.get("spplrNm") or "")[:120],
                    "supplier_bhf_id": str(row.get("spplrBhfId") or "")[:2],
                    "supplier_sdc_id": str(row.get("spplrSdcId") or "")[:40],
                    "sales_date": sales_dt.date() if sales_dt else None,
                    "total": Decimal(str(row.get("totAmt") or "0")),
                    "tax_total": Decimal(str(row.get("totTaxAmt") or "0")),
                    "data": row,
                },
            )
            count += created
        _remember_last_req_dt(device, "selectTrnsPurchaseSalesList", reply)
    return count


@transaction.atomic
def etims_purchase_decide(*, purchase_import: EtimsPurchase, accept: bool, user: User, purchase=None,
                          note: str = "") -> EtimsPurchase:
    """A manager accepts (against our purchase order) or rejects a declared purchase; KRA hears it by
    `insertTrnsPurchase` through the device's queue."""
    imported = EtimsPurchase.objects.select_for_update().get(pk=purchase_import.pk)
    if imported.decision != PurchaseDecision.NEW:
        raise EtimsError("This purchase was already decided.")
    if accept and purchase is not None and purchase.branch_id != imported.device.branch_id:
        raise EtimsError("That purchase order is for another branch.", field="purchase")
    imported.decision = PurchaseDecision.ACCEPTED if accept else PurchaseDecision.REJECTED
    imported.purchase = purchase if accept else None
    imported.decided_by = user
    imported.decided_at = clock.now()
    imported.note = note[:255]
    imported.save()
    _queue(device=imported.device, kind=SubmissionKind.PURCHASE, key=f"P:{imported.pk}", occurred_at=clock.now(),
           purchase_import=imported, document={"accept": accept, "note": note[:400]})
    return imported
