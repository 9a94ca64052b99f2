"""URLs of the `till:` namespace (mounted at /till/)."""

from django.urls import path

from pos.till import views

app_name = "till"

urlpatterns = [
    path("", views.index, name="index"),
    path("search/", views.search, name="search"),
    path("scan/", views.scan, name="scan"),
    path("favourites/", views.favourites, name="favourites"),
    path("category/<int:pk>/", views.category, name="category"),
    path("add/<int:pk>/", views.add, name="add"),
    path("line/<int:pk>/", views.line_edit, name="line_edit"),
    path("line/<int:pk>/quantity/", views.line_quantity, name="line_quantity"),
    path("line/<int:pk>/discount/", views.line_discount, name="line_discount"),
    path("line/<int:pk>/price/", views.line_price, name="line_price"),
    path("line/<int:pk>/remove/", views.line_remove, name="line_remove"),
    path("discount/", views.cart_discount, name="cart_discount"),
    path("note/", views.note, name="note"),
    path("void/", views.void, name="void"),
    path("customer/", views.customer, name="customer"),
    path("customer/lookup/", views.customer_lookup, name="customer_lookup"),
    path("customer/new/", views.customer_new, name="customer_new"),
    path("hold/", views.hold, name="hold"),
    path("held/", views.held, name="held"),
    path("held/<int:pk>/resume/", views.resume, name="resume"),
    path("pay/", views.pay, name="pay"),
    path("pay/summary/", views.pay_summary, name="pay_summary"),
    path("pay/session/", views.cash_session_open, name="session_open"),
    path("checkout/", views.checkout, name="checkout"),
]
