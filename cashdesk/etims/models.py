"""eTIMS records: each branch's OSCU device, KRA's code lists and item classifications, registered
items, the outbox of submissions per device, and the signatures KRA returned.

The rules (numbering, locking, retries) are in `services.py`; this module holds what the database can
guarantee: one device per branch, one submission per document, one number per sequence and device.
"""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q

from cashdesk.etims.config import ENVIRONMENT_CHOICES, OFF
from core.models import TimeStampedModel
from core.money import MoneyField


class EtimsDevice(TimeStampedModel):
    """One branch's OSCU device at KRA, its encrypted key, its counters and the state of its queue.

    Counters (`last_invc_no`, `last_sar_no`, `last_pchs_no`) hold the last number KRA *accepted*: they
    move only on acceptance, under this row's lock. `sending` is the one submission in flight (with a
    lease, so a worker that died mid-call is noticed); `paused_until` is the circuit breaker;
    `stopped_reason` a permanent stop (KRA refused the device itself) that a human must clear.
    """

    branch = models.OneToOneField("pos.Branch", on_delete=models.PROTECT, related_name="etims_device")
    environment = models.CharField(max_length=10, choices=ENVIRONMENT_CHOICES, default=OFF)
    tin = models.CharField("KRA PIN (tin)", max_length=11, blank=True)
    bhf_id = models.CharField("eTIMS branch id (bhfId)", max_length=2, blank=True)
    serial_number = models.CharField("device serial number (dvcSrlNo)", max_length=100, blank=True)
    # From KRA's initialisation reply
    sdc_id = models.CharField("SCU ID (sdcId)", max_length=40, blank=True)
    mrc_no = models.CharField(max_length=40, blank=True)
    dvc_id = models.CharField(max_length=40, blank=True)
    taxpayer_name = models.CharField(max_length=120, blank=True)
    kra_branch_name = models.CharField(max_length=120, blank=True)
    cmc_key_encrypted = models.TextField(blank=True, editable=False)
    initialised_at = models.DateTimeField(null=True, blank=True)
    # Counters: the last number KRA accepted in each sequence.
    last_invc_no = models.PositiveIntegerField(default=0)
    last_sar_no = models.PositiveIntegerField(default=0)
    last_pchs_no = models.PositiveIntegerField(default=0)
    # The queue
    sending = models.ForeignKey(
        "cashdesk.EtimsSubmission", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.CharField(max_length=32, blank=True)
    failure_streak = models.PositiveIntegerField(default=0)
    paused_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=255, blank=True)
    last_contact_at = models.DateTimeField(null=True, blank=True, help_text="Last time KRA answered at all.")
    stopped_reason = models.CharField(max_length=255, blank=True)
    stock_cursor = models.PositiveBigIntegerField(default=0, help_text="Last stock movement fed to eTIMS.")

    class Meta:
        ordering = ["branch__name"]
        verbose_name = "eTIMS device"
        constraints = [
            models.CheckConstraint(condition=Q(environment__in=[c[0] for c in ENVIRONMENT_CHOICES]),
                                   name="etimsdevice_environment_valid"),
        ]

    def __str__(self) -> str:
        return f"eTIMS {self.tin or '?'}/{self.bhf_id or '?'} ({self.get_environment_display()})"

    @property
    def is_active(self) -> bool:
        return self.environment != OFF

    @property
    def is_initialised(self) -> bool:
        return bool(self.cmc_key_encrypted and self.initialised_at)


class EtimsCode(models.Model):
    """One entry of KRA's code lists (`selectCodeList`), keyed on the class number, never its name."""

    cd_cls = models.CharField(max_length=2)
    cd_cls_name = models.CharField(max_length=60, blank=True)
    cd = models.CharField(max_length=5)
    name = models.CharField(max_length=200)
    description = models.CharField(max_length=400, blank=True)
    user_dfn_cd1 = models.CharField(max_length=20, blank=True, help_text="For class 04: the tax rate.")
    sort_order = models.IntegerField(default=0)
    in_use = models.BooleanField(default=True)

    class Meta:
        ordering = ["cd_cls", "sort_order", "cd"]
        constraints = [models.UniqueConstraint(fields=["cd_cls", "cd"], name="etimscode_unique")]

    def __str__(self) -> str:
        return f"{self.cd_cls}/{self.cd} {self.name}"


class EtimsItemClass(models.Model):
    """KRA's item classification (`selectItemClsList`), searched in the product form."""

    code = models.CharField(max_length=10, unique=True)
    name = models.CharField(max_length=200)
    level = models.PositiveSmallIntegerField(default=0)
    tax_type = models.CharField(max_length=5, blank=True, help_text="KRA's expected tax band, when it gives one.")
    major_target = models.BooleanField(default=False)
    in_use = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "eTIMS item classes"
        indexes = [models.Index(fields=["name"], name="etimsitemclass_name_idx")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class EtimsSyncState(models.Model):
    """`lastReqDt` of one list endpoint for one device: the `resultDt` of its last successful call."""

    device = models.ForeignKey(EtimsDevice, on_delete=models.CASCADE, related_name="sync_states")
    endpoint = models.CharField(max_length=40)
    last_req_dt = models.CharField(max_length=14)
    synced_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["device", "endpoint"], name="etimssync_once_per_endpoint")]

    def __str__(self) -> str:
        return f"{self.endpoint} since {self.last_req_dt}"


class EtimsItemSequence(models.Model):
    """The running number of item codes per KRA PIN (`KE2NTNO0000001` …): never reused."""

    tin = models.CharField(max_length=11, unique=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.tin}: {self.last_number}"


class EtimsItem(TimeStampedModel):
    """A product's eTIMS item: its code (built once, never changed) and whether KRA has it as it is now."""

    product = models.OneToOneField("inventory.Product", on_delete=models.PROTECT, related_name="etims_item")
    tin = models.CharField(max_length=11)
    item_code = models.CharField(max_length=20, unique=True)
    registered_payload_hash = models.CharField(max_length=64, blank=True)
    registered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["item_code"]

    def __str__(self) -> str:
        return self.item_code


class SubmissionKind(models.TextChoices):
    SALE = "SALE", "Sale"
    CREDIT_NOTE = "CREDIT_NOTE", "Credit note"
    STOCK_IO = "STOCK_IO", "Stock in/out"
    STOCK_MASTER = "STOCK_MASTER", "Stock on hand"
    PURCHASE = "PURCHASE", "Purchase decision"


class SubmissionStatus(models.TextChoices):
    QUEUED = "QUEUED", "Waiting to be sent"
    SENDING = "SENDING", "Being sent"
    IN_DOUBT = "IN_DOUBT", "Sent, answer lost: checking with KRA"
    SIGNED = "SIGNED", "Accepted by KRA"
    REJECTED = "REJECTED", "Refused by KRA: fix and resend"


OPEN_STATUSES = (SubmissionStatus.QUEUED, SubmissionStatus.SENDING, SubmissionStatus.IN_DOUBT)

# The number sequence of each kind (credit notes share the sales invoice sequence).
SEQUENCE_OF = {
    SubmissionKind.SALE: "invc",
    SubmissionKind.CREDIT_NOTE: "invc",
    SubmissionKind.STOCK_IO: "sar",
    SubmissionKind.PURCHASE: "pchs",
    SubmissionKind.STOCK_MASTER: "",
}


class EtimsSubmission(TimeStampedModel):
    """One document in a device's outbox, sent in FIFO order, one at a time.

    `number` (invcNo, sarNo or the purchase number) is NULL until the send that uses it; it stays
    bound while the outcome is unknown (IN_DOUBT) and goes back to NULL when KRA refuses the document.
    `payload` is frozen at the first send, so a resend after a lost answer is byte-for-byte the same.
    `document_key` makes queueing idempotent: one submission per sale, credit note or stock batch.
    """

    device = models.ForeignKey(EtimsDevice, on_delete=models.PROTECT, related_name="submissions")
    kind = models.CharField(max_length=12, choices=SubmissionKind.choices)
    status = models.CharField(max_length=10, choices=SubmissionStatus.choices, default=SubmissionStatus.QUEUED)
    document_key = models.CharField(max_length=60, unique=True)
    sale = models.ForeignKey("pos.Sale", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    sale_return = models.ForeignKey(
        "pos.SaleReturn", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    original = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="credit_notes",
        help_text="For a credit note: the sale's submission.",
    )
    product = models.ForeignKey("inventory.Product", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    purchase_import = models.ForeignKey(
        "cashdesk.EtimsPurchase", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sequence = models.CharField(max_length=4, blank=True)
    number = models.PositiveIntegerField(null=True, blank=True)
    reason_code = models.CharField(max_length=5, blank=True, help_text="Credit-note reason (rfdRsnCd).")
    document = models.JSONField(default=dict, encoder=DjangoJSONEncoder,
                                help_text="What to send, before the number (stock lines, credit lines).")
    payload = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    occurred_at = models.DateTimeField(help_text="When the sale or movement happened (its own date on KRA).")
    attempts = models.PositiveIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    result_cd = models.CharField(max_length=5, blank=True)
    result_msg = models.CharField(max_length=400, blank=True)
    waiting_reason = models.CharField(max_length=255, blank=True, help_text="Why it cannot be sent yet.")
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["device", "sequence", "number"], name="etimssubmission_number_once"),
            models.CheckConstraint(condition=Q(kind__in=SubmissionKind.values), name="etimssubmission_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=SubmissionStatus.values),
                                   name="etimssubmission_status_valid"),
            # A refused document gives its number back; a document in doubt or accepted keeps it.
            models.CheckConstraint(
                condition=~Q(status__in=[SubmissionStatus.REJECTED, SubmissionStatus.QUEUED])
                | Q(number__isnull=True),
                name="etimssubmission_number_only_when_used",
            ),
        ]
        indexes = [
            models.Index(fields=["device", "status", "id"], name="etimssubmission_queue_idx"),
            models.Index(fields=["sale"], name="etimssubmission_sale_idx"),
        ]

    def __str__(self) -> str:
        number = f" #{self.number}" if self.number else ""
        return f"{self.get_kind_display()}{number} ({self.get_status_display().lower()})"


class EtimsSignature(models.Model):
    """What KRA returned for an accepted sale or credit note: printed as the receipt's SCU block."""

    submission = models.OneToOneField(EtimsSubmission, on_delete=models.PROTECT, related_name="signature")
    sale = models.ForeignKey("pos.Sale", on_delete=models.PROTECT, related_name="etims_signatures")
    sale_return = models.OneToOneField(
        "pos.SaleReturn", null=True, blank=True, on_delete=models.PROTECT, related_name="etims_signature"
    )
    receipt_type = models.CharField(max_length=1, help_text="S sale, R credit note.")
    environment = models.CharField(max_length=10)
    tin = models.CharField(max_length=11)
    bhf_id = models.CharField(max_length=2)
    sdc_id = models.CharField(max_length=40)
    mrc_no = models.CharField(max_length=40, blank=True)
    invc_no = models.PositiveIntegerField()
    org_invc_no = models.PositiveIntegerField(default=0)
    cur_rcpt_no = models.PositiveIntegerField(null=True, blank=True)
    tot_rcpt_no = models.PositiveIntegerField(null=True, blank=True)
    intrl_data = models.CharField(max_length=200, blank=True)
    rcpt_sign = models.CharField(max_length=200, blank=True)
    sdc_datetime = models.DateTimeField(null=True, blank=True)
    total = MoneyField(help_text="totAmt as sent.")
    tax_total = MoneyField(help_text="totTaxAmt as sent.")
    reconciled = models.BooleanField(
        default=False, help_text="Accepted on a resend with 994: KRA had it; the signature may be missing."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tin", "bhf_id", "environment", "invc_no"], name="etimssignature_invc_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sdc_id}/{self.invc_no}"


class PurchaseDecision(models.TextChoices):
    NEW = "NEW", "To decide"
    ACCEPTED = "ACCEPTED", "Accepted"
    REJECTED = "REJECTED", "Rejected"


class EtimsPurchase(TimeStampedModel):
    """A sale a supplier declared to KRA as made to us (`selectTrnsPurchaseSalesList`), for a manager
    to accept (matched to our purchase order) or reject; the decision goes back by `insertTrnsPurchase`."""

    device = models.ForeignKey(EtimsDevice, on_delete=models.PROTECT, related_name="purchases")
    supplier_tin = models.CharField(max_length=11)
    supplier_name = models.CharField(max_length=120, blank=True)
    supplier_bhf_id = models.CharField(max_length=2, blank=True)
    supplier_invc_no = models.PositiveIntegerField()
    supplier_sdc_id = models.CharField(max_length=40, blank=True)
    sales_date = models.DateField(null=True, blank=True)
    total = MoneyField()
    tax_total = MoneyField()
    data = models.JSONField(encoder=DjangoJSONEncoder)
    decision = models.CharField(max_length=8, choices=PurchaseDecision.choices, default=PurchaseDecision.NEW)
    purchase = models.ForeignKey(
        "inventory.Purchase", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey("pos.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["device", "supplier_tin", "supplier_invc_no"], name="etimspurchase_once"),
            models.CheckConstraint(
                condition=Q(decision__in=PurchaseDecision.values), name="etimspurchase_decision_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.supplier_name or self.supplier_tin} #{self.supplier_invc_no}"


__all__ = [
    "EtimsCode",
    "EtimsDevice",
    "EtimsItem",
    "EtimsItemClass",
    "EtimsItemSequence",
    "EtimsPurchase",
    "EtimsSignature",
    "EtimsSubmission",
    "EtimsSyncState",
]
