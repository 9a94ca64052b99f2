"""Root URLs. Each app mounts its own `urls.py` (HTML) and `api.py` router (JSON under /api/)."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from pos import views as pos_views

from config.api_docs import urlpatterns as api_doc_urls
from config.health import healthz
from config.metrics import metrics_view

urlpatterns = [
    path("", pos_views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("accounts/", include("allauth.urls")),
    path("people/", include("pos.urls")),
    path("till/", include("pos.till_urls")),
    path("sales/", include("pos.sales_urls")),
    path("customers/", include("pos.customer_urls")),
    path("stock/", include("inventory.urls")),
    path("cash/", include("cashdesk.urls")),
    path("reports/", include("reports.urls")),
    path("api/", include("config.api_urls")),
    *api_doc_urls,  # /api/schema/, /swagger/, /redoc/
    # The admin's own login form knows nothing of phone numbers: log in through allauth.
    path("admin/login/", RedirectView.as_view(pattern_name="account_login", query_string=True)),
    path("admin/", admin.site.urls),
]

handler403 = "config.errors.permission_denied"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
