"""eTIMS reads: devices, the queue as a manager sees it, signatures of sales, classifications."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Min, Q

from cashdesk.etims import clock
from cashdesk.etims.config import OFF, get_config
from cashdesk.etims.models import (
    OPEN_STATUSES,
    EtimsDevice,
    EtimsItemClass,
    EtimsPurchase,
    EtimsSignature,
    EtimsSubmission,
    PurchaseDecision,
    SubmissionStatus,
)
from core.branches import for_viewer


def active_devices() -> list[EtimsDevice]:
    return list(EtimsDevice.objects.exclude(environment=OFF).select_related("branch").order_by("pk"))


def devices_visible_to(*, viewer) -> list[EtimsDevice]:
    devices = EtimsDevice.objects.select_related("branch").order_by("branch__name")
    devices = for_viewer(devices, viewer)
    return list(devices)


@dataclass(frozen=True)
class QueueSummary:
    device: EtimsDevice
    depth: int
    oldest_unsigned_at: object
    in_doubt: int
    refused: int
    waiting: int

    @property
    def oldest_unsigned_age(self) -> timedelta | None:
        return clock.now() - self.oldest_unsigned_at if self.oldest_unsigned_at else None

    @property
    def oldest_age_text(self) -> str:
        age = self.oldest_unsigned_age
        if age is None:
            return "—"
        minutes = int(age.total_seconds() // 60)
        if minutes < 1:
            return f"{int(age.total_seconds())} s"
        return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"

    @property
    def state(self) -> str:
        """What a manager needs to know first, in words."""
        device = self.device
        if not device.is_active:
            return "eTIMS is off for this branch."
        if not device.is_initialised:
            return "Not initialised with KRA yet."
        if device.stopped_reason:
            return f"Stopped: {device.stopped_reason}"
        if device.paused_until and device.paused_until > clock.now():
            again = device.paused_until.astimezone(clock.NAIROBI)
            return (f"KRA is not answering ({device.last_error or 'no answer'}); trying again at {again:%H:%M:%S}. "
                    "The till keeps selling.")
        late = get_config().late_submission_hours
        age = self.oldest_unsigned_age
        if late and age and age.total_seconds() > late * 3600:
            return f"Sales older than {late} h are still unsigned: check the connection to KRA."
        if self.depth:
            return "Sending."
        return "Up to date."


def queue_summary(*, device: EtimsDevice) -> QueueSummary:
    figures = EtimsSubmission.objects.filter(device=device).aggregate(
        depth=Count("id", filter=Q(status__in=OPEN_STATUSES)),
        oldest=Min("occurred_at", filter=Q(status__in=OPEN_STATUSES) | Q(status=SubmissionStatus.REJECTED)),
        in_doubt=Count("id", filter=Q(status=SubmissionStatus.IN_DOUBT)),
        refused=Count("id", filter=Q(status=SubmissionStatus.REJECTED)),
        waiting=Count("id", filter=Q(status=SubmissionStatus.QUEUED) & ~Q(waiting_reason="")),
    )
    return QueueSummary(device, figures["depth"], figures["oldest"], figures["in_doubt"], figures["refused"],
                        figures["waiting"])


def queue_problems(*, device: EtimsDevice, limit: int = 100) -> list[EtimsSubmission]:
    """Documents a manager should look at: refused, in doubt, or waiting for a reason."""
    return list(
        EtimsSubmission.objects.filter(device=device)
        .filter(Q(status__in=[SubmissionStatus.REJECTED, SubmissionStatus.IN_DOUBT])
                | (Q(status=SubmissionStatus.QUEUED) & ~Q(waiting_reason="")))
        .select_related("sale", "sale_return", "product")
        .order_by("id")[:limit]
    )


def queue_waiting(*, device: EtimsDevice, limit: int = 50) -> list[EtimsSubmission]:
    return list(EtimsSubmission.objects.filter(device=device, status__in=OPEN_STATUSES)
                .select_related("sale", "sale_return").order_by("id")[:limit])


def recent_signed(*, device: EtimsDevice, limit: int = 20) -> list[EtimsSubmission]:
    return list(EtimsSubmission.objects.filter(device=device, status=SubmissionStatus.SIGNED)
                .select_related("sale", "sale_return").order_by("-accepted_at", "-id")[:limit])


def sale_signature(*, sale_id: int) -> EtimsSignature | None:
    return EtimsSignature.objects.filter(sale_id=sale_id, receipt_type="S").first()


def sale_submission(*, sale_id: int) -> EtimsSubmission | None:
    return EtimsSubmission.objects.filter(document_key=f"S:{sale_id}").select_related("device").first()


def credit_note_submission(*, key: str) -> EtimsSubmission | None:
    return EtimsSubmission.objects.filter(document_key=key).select_related("device", "original").first()


def classification_search(*, query: str, limit: int = 20) -> list[EtimsItemClass]:
    query = (query or "").strip()
    if not query:
        return []
    found = EtimsItemClass.objects.filter(in_use=True)
    found = found.filter(code__startswith=query) if query.isdigit() else found.filter(name__icontains=query)
    return list(found.order_by("code")[:limit])


def purchases_to_decide(*, viewer) -> list[EtimsPurchase]:
    found = EtimsPurchase.objects.filter(decision=PurchaseDecision.NEW).select_related("device__branch")
    found = for_viewer(found, viewer, field="device__branch")
    return list(found.order_by("created_at"))


def purchases_decided(*, viewer, limit: int = 30) -> list[EtimsPurchase]:
    found = EtimsPurchase.objects.exclude(decision=PurchaseDecision.NEW).select_related("purchase", "decided_by")
    found = for_viewer(found, viewer, field="device__branch")
    return list(found.order_by("-decided_at")[:limit])


