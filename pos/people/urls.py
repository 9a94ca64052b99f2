from django.urls import path

from pos.people import views

app_name = "pos"

urlpatterns = [
    path("staff/", views.staff_index, name="staff_list"),
    path("staff/new/", views.staff_create, name="staff_create"),
    path("staff/<int:pk>/", views.staff_edit, name="staff_edit"),
    path("staff/<int:pk>/password/", views.staff_reset_password, name="staff_password"),
    path("staff/<int:pk>/pin/", views.staff_set_pin, name="staff_pin"),
    path("staff/<int:pk>/active/", views.staff_toggle_active, name="staff_active"),
    path("me/pin/", views.my_pin, name="my_pin"),
    path("settings/", views.shop_settings_edit, name="settings"),
    path("audit/", views.audit_log, name="audit_log"),
]
