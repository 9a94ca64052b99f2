"""URLs of the `reports:` namespace."""

from django.urls import path

from reports import analytics_views, views
from reports.notifications import views as notification_views

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

# Analytics and notifications (reports/analytics_views.py).
urlpatterns += [
    path("analytics/", analytics_views.analytics_index, name="analytics_index"),
    path("analytics/forecasts/", analytics_views.forecast_list, name="analytics_forecasts"),
    path("analytics/reorder/", analytics_views.reorder, name="analytics_reorder"),
    path("analytics/reorder/draft/", analytics_views.reorder_draft, name="analytics_reorder_draft"),
    path("analytics/trends/", analytics_views.trends, name="analytics_trends"),
    path("analytics/basket/", analytics_views.basket, name="analytics_basket"),
    path("analytics/customers/", analytics_views.customers, name="analytics_customers"),
    path("analytics/anomalies/", analytics_views.anomalies, name="analytics_anomalies"),
    path("notifications/", notification_views.notifications, name="notifications"),
    path("notifications/<int:pk>/read/", notification_views.notification_read, name="notification_read"),
    path("notifications/read-all/", notification_views.notification_read_all, name="notification_read_all"),
    path("notifications/settings/", notification_views.notification_settings, name="notification_settings"),
]
