"""URLs of the `sales:` namespace (mounted at /sales/)."""

from django.urls import path

from pos.till import sales_views as views

app_name = "sales"

urlpatterns = [
    path("", views.sale_index, name="list"),
    path("find/", views.sale_find_view, name="find"),
    path("<int:pk>/", views.sale_detail, name="detail"),
    path("<int:pk>/receipt/", views.receipt, name="receipt"),
    path("<int:pk>/receipt.pdf", views.receipt_pdf_view, name="receipt_pdf"),
    path("<int:pk>/receipt/email/", views.receipt_email, name="receipt_email"),
    path("<int:pk>/reprint/", views.reprint, name="reprint"),
    path("<int:pk>/return/", views.sale_return, name="return"),
    path("<int:pk>/void/", views.sale_void, name="void"),
    path("credit-notes/<int:pk>.pdf", views.credit_note, name="credit_note"),
]
