"""URLs of the `customers:` namespace (mounted at /customers/)."""

from django.urls import path

from pos.till import customers_views as views

app_name = "customers"

urlpatterns = [
    path("", views.customer_index, name="list"),
    path("new/", views.customer_add, name="create"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/edit/", views.customer_edit, name="edit"),
]
