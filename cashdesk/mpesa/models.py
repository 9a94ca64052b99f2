"""M-Pesa records: STK pushes, the callback inbox and C2B (till/paybill) payments."""



from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.models import TimeStampedModel
from core.money import MoneyField


# ---------------------------------------------------------------------------- M-Pesa
class StkStatus(models.TextChoices):
    QUEUED = "QUEUED", "Sending to M-Pesa"
    SENT = "SENT", "Waiting for the customer's PIN"
    PAID = "PAID", "Paid"
    CANCELLED = "CANCELLED", "Cancelled by the customer"
    TIMED_OUT = "TIMED_OUT", "Timed out"
    FAILED = "FAILED", "Failed"
    MISMATCH = "MISMATCH", "Paid a different amount (needs a manager)"
    CONFIRMING = "CONFIRMING", "Received, confirming with M-Pesa"
    UNVERIFIED = "UNVERIFIED", "M-Pesa did not confirm it (needs a manager)"
    OVERPAID = "OVERPAID", "Paid after the sale was settled (overpayment)"


STK_WAITING = (StkStatus.QUEUED, StkStatus.SENT)
# What a manager must decide on (the "M-Pesa to check" list).
STK_TO_CHECK = (StkStatus.MISMATCH, StkStatus.UNVERIFIED, StkStatus.OVERPAID)


class StkRequest(TimeStampedModel):
    """One STK push ("Lipa na M-Pesa" prompt on the customer's phone) for part or all of a sale."""

    sale = models.ForeignKey("pos.Sale", on_delete=models.PROTECT, related_name="stk_requests")
    payment = models.OneToOneField("cashdesk.Payment", on_delete=models.PROTECT, related_name="stk_request")
    branch = models.ForeignKey("pos.Branch", on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey("pos.User", on_delete=models.PROTECT, related_name="+")
    phone = models.CharField(max_length=12, help_text="2547XXXXXXXX / 2541XXXXXXXX, as M-Pesa wants it.")
    amount = MoneyField(help_text="Whole shillings asked for.")
    # The rest of a split (e.g. the cash part), used to complete the sale once M-Pesa confirms.
    other_tenders = models.JSONField(default=list, blank=True, encoder=DjangoJSONEncoder)
    status = models.CharField(max_length=10, choices=StkStatus.choices, default=StkStatus.QUEUED)
    merchant_request_id = models.CharField(max_length=64, blank=True)
    checkout_request_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    result_code = models.CharField(max_length=20, blank=True)
    result_desc = models.CharField(max_length=255, blank=True)
    message = models.CharField(max_length=255, blank=True, help_text="What happened, in plain words.")
    receipt_number = models.CharField(max_length=20, blank=True)
    paid_amount = MoneyField(null=True, blank=True)
    paid_phone = models.CharField(max_length=16, blank=True)
    transaction_date = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.CharField(max_length=10, blank=True, help_text="callback or query")
    query_count = models.PositiveSmallIntegerField(default=0)
    last_queried_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey("pos.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=255, blank=True)
    # A success callback waiting for Daraja to confirm it: given up (to the managers' list) after this.
    confirm_by = models.DateTimeField(null=True, blank=True)
    callback_from = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "STK push request"
        permissions = [("manage_mpesa", "Can resolve M-Pesa mismatches and set aside incoming payments")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="stkrequest_amount_positive"),
            models.CheckConstraint(condition=Q(status__in=StkStatus.values), name="stkrequest_status_valid"),
            models.CheckConstraint(
                condition=~Q(status=StkStatus.SENT) | Q(checkout_request_id__isnull=False),
                name="stkrequest_sent_has_checkout_id",
            ),
        ]
        indexes = [models.Index(fields=["status", "sent_at"], name="stkrequest_status_sent_idx")]

    def __str__(self) -> str:
        return f"STK KES {self.amount} for {self.sale} ({self.get_status_display().lower()})"

    @property
    def is_waiting(self) -> bool:
        return self.status in STK_WAITING

    @property
    def is_pending(self) -> bool:
        """The till keeps asking: the customer has not answered, or M-Pesa is confirming their payment."""
        return self.status in STK_WAITING or self.status == StkStatus.CONFIRMING


class InboxKind(models.TextChoices):
    STK_CALLBACK = "STK_CALLBACK", "STK callback"
    C2B_VALIDATION = "C2B_VALIDATION", "C2B validation"
    C2B_CONFIRMATION = "C2B_CONFIRMATION", "C2B confirmation"
    STATUS_RESULT = "STATUS_RESULT", "Transaction Status result"
    BALANCE_RESULT = "BALANCE_RESULT", "Account Balance result"
    RESULT_TIMEOUT = "RESULT_TIMEOUT", "Daraja queue timeout"


class InboxOutcome(models.TextChoices):
    PENDING = "", "Not processed yet"
    APPLIED = "APPLIED", "Applied"
    DUPLICATE = "DUPLICATE", "Repeat (ignored)"
    UNKNOWN = "UNKNOWN", "Unknown request (ignored)"
    MALFORMED = "MALFORMED", "Malformed (ignored)"
    CONFIRMING = "CONFIRMING", "Received, confirming with M-Pesa"
    MISMATCH = "MISMATCH", "Amount differs (flagged)"
    MATCHED = "MATCHED", "Matched to a sale"
    UNMATCHED = "UNMATCHED", "Waiting to be matched"
    OVERPAID = "OVERPAID", "Paid after the sale was settled (flagged)"
    ACCEPTED = "ACCEPTED", "Accepted"
    REJECTED = "REJECTED", "Rejected"


class MpesaInbox(models.Model):
    """Every body Safaricom (or anyone with the secret path) posted to us, kept as received.

    A callback is applied at most once per CheckoutRequestID / TransID: `applied_key` holds
    "stk:<CheckoutRequestID>" or "c2b:<TransID>" on the one copy that was applied, and is unique.
    """

    kind = models.CharField(max_length=16, choices=InboxKind.choices)
    raw_body = models.TextField(blank=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=InboxOutcome.choices, blank=True, default="")
    detail = models.CharField(max_length=255, blank=True)
    checkout_request_id = models.CharField(max_length=64, blank=True, db_index=True)
    trans_id = models.CharField(max_length=20, blank=True, db_index=True)
    applied_key = models.CharField(max_length=90, null=True, blank=True, unique=True, editable=False)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = "M-Pesa inbox entry"
        verbose_name_plural = "M-Pesa inbox"
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=InboxKind.values), name="mpesainbox_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.get_outcome_display().lower()})"


class C2BStatus(models.TextChoices):
    CONFIRMING = "CONFIRMING", "Received, confirming with M-Pesa"
    UNVERIFIED = "UNVERIFIED", "M-Pesa did not confirm it (needs a manager)"
    UNMATCHED = "UNMATCHED", "Not matched yet"
    MATCHED = "MATCHED", "Paid a sale"
    STK = "STK", "Same as an STK payment"
    RECEIPT = "RECEIPT", "Paid a customer's account"
    IGNORED = "IGNORED", "Set aside by a manager"


class C2BPayment(TimeStampedModel):
    """A payment the customer made to a till or paybill from their phone (C2B confirmation)."""

    trans_id = models.CharField("M-Pesa code", max_length=20, unique=True)
    transaction_type = models.CharField(max_length=40)
    trans_time = models.DateTimeField()
    amount = MoneyField()
    shortcode = models.CharField(max_length=7)
    bill_ref_number = models.CharField("account number", max_length=40, blank=True)
    msisdn = models.CharField("phone (as M-Pesa sent it)", max_length=64, blank=True)
    phone = models.CharField(max_length=16, blank=True, help_text="+2547… when M-Pesa sent a real number.")
    customer_name = models.CharField(max_length=150, blank=True)
    branch = models.ForeignKey("pos.Branch", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=C2BStatus.choices, default=C2BStatus.UNMATCHED)
    payment = models.OneToOneField(
        "cashdesk.Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="c2b_payment"
    )
    matched_by = models.ForeignKey("pos.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    matched_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=255, blank=True)
    inbox = models.ForeignKey(MpesaInbox, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # Checking it with Daraja (Transaction Status) before it pays anything.
    verify_conversation_id = models.CharField(max_length=64, blank=True, db_index=True)
    confirm_by = models.DateTimeField(null=True, blank=True)
    verified_by = models.CharField(max_length=20, blank=True, help_text="transaction status, address or manager")

    class Meta:
        ordering = ["-trans_time", "-id"]
        verbose_name = "incoming M-Pesa payment"
        permissions = [("attach_c2bpayment", "Can attach an incoming M-Pesa payment to a sale")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="c2bpayment_amount_positive"),
            models.CheckConstraint(condition=Q(status__in=C2BStatus.values), name="c2bpayment_status_valid"),
            models.CheckConstraint(
                condition=~Q(status__in=[C2BStatus.MATCHED, C2BStatus.STK]) | Q(payment__isnull=False),
                name="c2bpayment_matched_has_payment",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "trans_time"], name="c2bpayment_status_time_idx"),
            models.Index(fields=["amount"], name="c2bpayment_amount_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.trans_id} KES {self.amount} ({self.get_status_display().lower()})"


class ReconciliationStatus(models.TextChoices):
    WAITING = "WAITING", "Waiting for M-Pesa's answers"
    CLEAN = "CLEAN", "Everything matches"
    DIFFERENCES = "DIFFERENCES", "Differences to check"
    FAILED = "FAILED", "Could not reach M-Pesa"


class MpesaReconciliation(TimeStampedModel):
    """One day's M-Pesa check: what Safaricom's statement (Pull API, or what its callbacks reported) and
    balance say against the payments the shop recorded; the differences are listed for a manager."""

    day = models.DateField(unique=True)
    status = models.CharField(max_length=12, choices=ReconciliationStatus.choices, default=ReconciliationStatus.WAITING)
    source = models.CharField(max_length=12, blank=True, help_text="pull (Safaricom's statement) or callbacks")
    statement_count = models.PositiveIntegerField(default=0)
    statement_total = MoneyField(default=0)
    recorded_count = models.PositiveIntegerField(default=0)
    recorded_total = MoneyField(default=0)
    balance = MoneyField(null=True, blank=True, help_text="The shortcode's working account balance.")
    balance_at = models.DateTimeField(null=True, blank=True)
    balance_conversation_id = models.CharField(max_length=64, blank=True, db_index=True)
    differences = models.JSONField(default=list, blank=True, encoder=DjangoJSONEncoder)
    detail = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-day"]
        verbose_name = "M-Pesa reconciliation"
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ReconciliationStatus.values), name="mpesareconciliation_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"M-Pesa {self.day}: {self.get_status_display().lower()}"
