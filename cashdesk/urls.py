"""URLs of the `cashdesk:` namespace, mounted at /cash/.

The M-Pesa callback routes carry MPESA_CALLBACK_SECRET in their path and must never contain
"mpesa", "safaricom", "query" or "sql" (Safaricom refuses such URLs): they live under /cash/hooks/.
"""

from django.urls import path

from . import views

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
]
