"""URLs of the `reports:` namespace."""

from django.urls import path

from . import views

app_name = "reports"

urlpatterns: list = [
    path("", views.dashboard, name="dashboard"),
    path("all/", views.report_index, name="index"),
    path("exports/", views.export_list, name="export_list"),
    path("exports/<uuid:token>/", views.export_detail, name="export_detail"),
    path("exports/<uuid:token>/download/", views.export_download, name="export_download"),
    path("view/<slug:slug>/", views.report_page, name="report"),
    path("view/<slug:slug>/csv/", views.report_csv, name="report_csv"),
    path("view/<slug:slug>/pdf/", views.report_pdf, name="report_pdf"),
    path("view/<slug:slug>/export/", views.export_start, name="export_start"),
]
