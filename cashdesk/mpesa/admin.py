"""Admin of the M-Pesa records: read-only, for inspection."""


from django.contrib import admin

from cashdesk.admin import ReadOnlyAdmin
from cashdesk.mpesa.models import C2BPayment, MpesaInbox, StkRequest


@admin.register(StkRequest)
class StkRequestAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "sale", "phone", "amount", "status", "result_code", "receipt_number", "answered_by")
    list_filter = ("status", "answered_by")
    search_fields = ("checkout_request_id", "merchant_request_id", "receipt_number", "phone")


@admin.register(MpesaInbox)
class MpesaInboxAdmin(ReadOnlyAdmin):
    """Everything posted to the callback URLs, as received: malformed and unknown bodies too."""

    list_display = ("received_at", "kind", "outcome", "checkout_request_id", "trans_id", "detail", "remote_addr")
    list_filter = ("kind", "outcome")
    search_fields = ("checkout_request_id", "trans_id", "raw_body")
    date_hierarchy = "received_at"


@admin.register(C2BPayment)
class C2BPaymentAdmin(ReadOnlyAdmin):
    list_display = ("trans_time", "trans_id", "amount", "shortcode", "bill_ref_number", "msisdn", "status", "payment")
    list_filter = ("status", "shortcode")
    search_fields = ("trans_id", "bill_ref_number", "msisdn", "customer_name")
