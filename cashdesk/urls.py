"""URLs of the `cashdesk:` namespace, mounted at /cash/.

The M-Pesa callback routes carry MPESA_CALLBACK_SECRET in their path and must never contain
"mpesa", "safaricom", "query" or "sql" (Safaricom refuses such URLs): they live under /cash/hooks/.
"""

from django.urls import path

from cashdesk import money_views, views
from cashdesk.mpesa import views as mpesa_views
from cashdesk.printing import views as printing_views

app_name = "cashdesk"

urlpatterns = [
    path("", views.index, name="index"),
    path("session/open/", views.session_open, name="session_open"),
    path("session/close/", views.session_close, name="session_close"),
    path("session/movement/", views.movement_create, name="movement_create"),
    path("sessions/", views.session_list, name="session_list"),
    path("sessions/<int:pk>/", views.session_report, name="session_report"),
    path("sessions/<int:pk>/report.pdf", views.session_report_pdf, name="session_report_pdf"),
    path("sessions/<int:pk>/force-close/", views.session_force_close, name="session_force_close"),
    # the counter's printer and the cash drawer behind it
    path("drawer/open/", printing_views.drawer_open, name="drawer_open"),
    path("printing/<int:pk>/retry/", printing_views.print_job_retry, name="print_job_retry"),
    path("printing/sale/<int:sale_id>/", printing_views.print_status, name="print_status"),
    # M-Pesa on the pay panel
    path("sale/<int:sale_id>/mpesa/", mpesa_views.mpesa_panel, name="mpesa_panel"),
    path("sale/<int:sale_id>/mpesa/push/", mpesa_views.mpesa_stk_start, name="mpesa_stk_start"),
    path("sale/<int:sale_id>/mpesa/code/", mpesa_views.mpesa_code_attach, name="mpesa_code_attach"),
    path("mpesa/<int:pk>/", mpesa_views.mpesa_status, name="mpesa_status"),
    path("mpesa/<int:pk>/stop/", mpesa_views.mpesa_stop, name="mpesa_stop"),
    path("mpesa/<int:pk>/resolve/", mpesa_views.mpesa_resolve, name="mpesa_resolve"),
    path("mpesa/flagged/", mpesa_views.mpesa_flagged, name="mpesa_flagged"),
    path("mpesa/incoming/<int:pk>/confirm/", mpesa_views.c2b_confirm, name="c2b_confirm"),
    path("mpesa/reconciliation/", mpesa_views.mpesa_reconciliation, name="mpesa_reconciliation"),
    path("mpesa/incoming/", mpesa_views.c2b_list, name="c2b_list"),
    path("mpesa/incoming/<int:pk>/attach/", mpesa_views.c2b_attach, name="c2b_attach"),
    path("mpesa/incoming/<int:pk>/set-aside/", mpesa_views.c2b_set_aside, name="c2b_set_aside"),
    # money in and out beyond sales
    path("receipts/", money_views.receipt_list, name="receipt_list"),
    path("receipts/new/", money_views.receipt_create, name="receipt_create"),
    path("receipts/new/customer-sales/", money_views.receipt_customer_sales, name="receipt_customer_sales"),
    path("receipts/<int:pk>/", money_views.receipt_detail, name="receipt_detail"),
    path("receipts/<int:pk>/receipt.pdf", money_views.receipt_pdf, name="receipt_pdf"),
    path("suppliers/payments/", money_views.supplier_payment_list, name="supplier_payment_list"),
    path("suppliers/payments/new/", money_views.supplier_payment_create, name="supplier_payment_create"),
    path("expenses/", money_views.expense_list, name="expense_list"),
    path("expenses/new/", money_views.expense_create, name="expense_create"),
    path("expenses/categories/", money_views.expense_category_create, name="expense_category_create"),
    path("expenses/<int:pk>/attachment/", money_views.expense_attachment, name="expense_attachment"),
    # What Safaricom posts to: a secret in the path, and no "mpesa"/"safaricom"/"query"/"sql" in it.
    path("hooks/<str:secret>/stk/", mpesa_views.stk_callback, name="stk_callback"),
    path("hooks/<str:secret>/c2b/validate/", mpesa_views.c2b_validation, name="c2b_validation"),
    path("hooks/<str:secret>/c2b/confirm/", mpesa_views.c2b_confirmation, name="c2b_confirmation"),
    # Daraja's answers to Transaction Status and Account Balance requests, and their queue timeouts.
    path("hooks/<str:secret>/result/", mpesa_views.status_result, name="mpesa_status_result"),
    path("hooks/<str:secret>/result/timeout/", mpesa_views.result_timeout, name="mpesa_result_timeout"),
]
