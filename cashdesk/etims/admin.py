"""Admin of the eTIMS records: read-only, for inspection (devices are set on /etims/settings/, documents
move only through the queue). The device's encrypted key is never shown."""

from django.contrib import admin

from cashdesk.admin import ReadOnlyAdmin
from cashdesk.etims.models import (
    EtimsCode,
    EtimsDevice,
    EtimsItem,
    EtimsItemClass,
    EtimsPurchase,
    EtimsSignature,
    EtimsSubmission,
)


@admin.register(EtimsDevice)
class EtimsDeviceAdmin(ReadOnlyAdmin):
    list_display = ("branch", "environment", "tin", "bhf_id", "sdc_id", "last_invc_no", "paused_until",
                    "stopped_reason")
    exclude = ("cmc_key_encrypted", "lease_token")


@admin.register(EtimsSubmission)
class EtimsSubmissionAdmin(ReadOnlyAdmin):
    list_display = ("id", "device", "kind", "status", "number", "sale", "occurred_at", "attempts", "result_cd",
                    "waiting_reason")
    list_filter = ("status", "kind", "device")
    search_fields = ("document_key", "sale__number", "result_msg")


@admin.register(EtimsSignature)
class EtimsSignatureAdmin(ReadOnlyAdmin):
    list_display = ("invc_no", "receipt_type", "sale", "sdc_id", "cur_rcpt_no", "tot_rcpt_no", "sdc_datetime",
                    "total", "reconciled")
    search_fields = ("sale__number", "rcpt_sign")


@admin.register(EtimsItem)
class EtimsItemAdmin(ReadOnlyAdmin):
    list_display = ("item_code", "product", "registered_at", "last_error")
    search_fields = ("item_code", "product__name")


@admin.register(EtimsCode)
class EtimsCodeAdmin(ReadOnlyAdmin):
    list_display = ("cd_cls", "cd", "name", "user_dfn_cd1", "in_use")
    list_filter = ("cd_cls",)


@admin.register(EtimsItemClass)
class EtimsItemClassAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "tax_type", "in_use")
    search_fields = ("code", "name")


@admin.register(EtimsPurchase)
class EtimsPurchaseAdmin(ReadOnlyAdmin):
    list_display = ("supplier_name", "supplier_tin", "supplier_invc_no", "total", "decision", "decided_by")
    list_filter = ("decision",)
