"""URLs of the `etims:` namespace, mounted at /etims/."""

from django.urls import path

from cashdesk.etims import views

app_name = "etims"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("settings/", views.device_settings, name="settings"),
    path("devices/<int:pk>/resume/", views.device_resume, name="resume"),
    path("submissions/<int:pk>/retry/", views.submission_retry, name="retry"),
    path("classifications/", views.classification_search, name="classification_search"),
    path("pin/", views.pin_check, name="pin_check"),
    path("purchases/", views.purchases, name="purchases"),
    path("purchases/<int:pk>/decide/", views.purchase_decide, name="purchase_decide"),
]
