"""URLs of the `inventory:` namespace, mounted at /stock/."""

from django.urls import path

from inventory import purchase_views, views

app_name = "inventory"

urlpatterns = [
    # catalogue
    path("", views.product_list, name="product_list"),
    path("products/new/", views.product_create, name="product_create"),
    path("products/low_stock/", views.low_stock, name="low_stock"),
    path("products/out_of_stock/", views.out_of_stock, name="out_of_stock"),
    path("products/lookup/", views.product_lookup, name="product_lookup"),
    path("products/export.csv", views.product_export, name="product_export"),
    path("products/import/", views.import_upload, name="import_upload"),
    path("products/import/template.csv", views.import_template, name="import_template"),
    path("products/import/<int:pk>/", views.import_detail, name="import_detail"),
    path("products/import/<int:pk>/confirm/", views.import_confirm, name="import_confirm"),
    path("products/<int:pk>/", views.product_detail, name="product_detail"),
    path("products/<int:pk>/edit/", views.product_edit, name="product_edit"),
    path("products/<int:pk>/active/", views.product_toggle_active, name="product_active"),
    path("products/<int:pk>/delete/", views.product_delete, name="product_delete"),
    path("categories/", views.category_list, name="category_list"),
    path("categories/new/", views.category_create, name="category_create"),
    path("categories/<int:pk>/edit/", views.category_edit, name="category_edit"),
    path("units/new/", views.unit_create, name="unit_create"),
    path("units/<int:pk>/edit/", views.unit_edit, name="unit_edit"),
    # the ledger and alerts
    path("movements/", views.movement_index, name="movement_list"),
    path("alerts/", views.alert_list, name="alert_list"),
    # adjustments
    path("adjustments/", views.adjustment_index, name="adjustment_list"),
    path("adjustments/new/", views.adjustment_request, name="adjustment_request"),
    path("adjustments/approvals/", views.approvals, name="approvals"),
    path("adjustments/approvals/bulk/", views.approvals_bulk, name="approvals_bulk"),
    path("adjustments/<int:pk>/", views.adjustment_detail, name="adjustment_detail"),
    path("adjustments/<int:pk>/approve/", views.adjustment_approve, name="adjustment_approve"),
    path("adjustments/<int:pk>/reject/", views.adjustment_reject, name="adjustment_reject"),
    # stock counts
    path("counts/", views.count_index, name="count_list"),
    path("counts/new/", views.count_start, name="count_start"),
    path("counts/<int:pk>/", views.count_detail, name="count_detail"),
    path("counts/<int:pk>/scan/", views.count_scan, name="count_scan"),
    path("counts/<int:pk>/lines/<int:line_pk>/", views.count_line_save, name="count_line"),
    path("counts/<int:pk>/post/", views.count_post, name="count_post"),
    path("counts/<int:pk>/cancel/", views.count_cancel, name="count_cancel"),
    # suppliers and purchases
    path("suppliers/", purchase_views.supplier_list, name="supplier_list"),
    path("suppliers/new/", purchase_views.supplier_create, name="supplier_create"),
    path("suppliers/<int:pk>/", purchase_views.supplier_detail, name="supplier_detail"),
    path("suppliers/<int:pk>/edit/", purchase_views.supplier_edit, name="supplier_edit"),
    path("purchases/", purchase_views.purchase_index, name="purchase_list"),
    path("purchases/new/", purchase_views.purchase_create, name="purchase_create"),
    path("purchases/reorder/", purchase_views.reorder, name="reorder"),
    path("purchases/<int:pk>/", purchase_views.purchase_detail, name="purchase_detail"),
    path("purchases/<int:pk>/edit/", purchase_views.purchase_edit, name="purchase_edit"),
    path("purchases/<int:pk>/lines/", purchase_views.purchase_line_add, name="purchase_line_add"),
    path(
        "purchases/<int:pk>/lines/<int:line_pk>/remove/",
        purchase_views.purchase_line_remove,
        name="purchase_line_remove",
    ),
    path("purchases/<int:pk>/order/", purchase_views.purchase_order, name="purchase_order"),
    path("purchases/<int:pk>/receive/", purchase_views.purchase_receive, name="purchase_receive"),
    path("purchases/<int:pk>/cancel/", purchase_views.purchase_cancel, name="purchase_cancel"),
    path("purchases/<int:pk>/close/", purchase_views.purchase_close, name="purchase_close"),
    path("purchases/<int:pk>/pdf/", purchase_views.purchase_pdf, name="purchase_pdf"),
    # transfers
    path("transfers/", purchase_views.transfer_index, name="transfer_list"),
    path("transfers/new/", purchase_views.transfer_create, name="transfer_create"),
    path("transfers/<int:pk>/", purchase_views.transfer_detail, name="transfer_detail"),
    path("transfers/<int:pk>/lines/", purchase_views.transfer_line_add, name="transfer_line_add"),
    path(
        "transfers/<int:pk>/lines/<int:line_pk>/remove/",
        purchase_views.transfer_line_remove,
        name="transfer_line_remove",
    ),
    path("transfers/<int:pk>/dispatch/", purchase_views.transfer_dispatch, name="transfer_dispatch"),
    path("transfers/<int:pk>/receive/", purchase_views.transfer_receive, name="transfer_receive"),
    path("transfers/<int:pk>/cancel/", purchase_views.transfer_cancel, name="transfer_cancel"),
]
