"""The JSON API under /api/: JWT auth, each app's router, the OpenAPI schema (see docs/api.md).

Each app keeps its endpoints in its own module with a `router` (a DRF `SimpleRouter`: one DefaultRouter
would add its own root per app) and, where needed, `urlpatterns`: `pos/people/api.py` (people, clients),
`pos/till/sales_api.py` (sales, returns),
`inventory/api.py` (catalogue, purchases, stock), `cashdesk/api.py` (sessions, payments, M-Pesa, money),
`reports/api.py` (reports). They are listed below, one line each.
"""

from importlib import import_module

from django.urls import include, path

API_MODULES = [
    "pos.people.api",
    "pos.till.sales_api",
    "pos.till.customers_api",
    "inventory.api",
    "cashdesk.api",
    "cashdesk.mpesa.api",
    "reports.api",
]

urlpatterns: list = []
for _name in API_MODULES:
    _module = import_module(_name)
    if hasattr(_module, "urlpatterns"):
        urlpatterns.append(path("", include(_module.urlpatterns)))
    if hasattr(_module, "router"):
        urlpatterns.append(path("", include(_module.router.urls)))
