"""Root URLs. Each app mounts its own `urls.py` (HTML) and `api.py` router (JSON under /api/)."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from config.api_docs import urlpatterns as api_doc_urls
from core.ops.health import healthz
from core.ops.metrics import metrics_view
from pos.people import views as pos_views

urlpatterns = [
    path("", pos_views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("accounts/", include("allauth.urls")),
    path("people/", include("pos.people.urls")),
    path("till/", include("pos.till.urls")),
    path("sales/", include("pos.till.sales_urls")),
    path("customers/", include("pos.till.customers_urls")),
    path("stock/", include("inventory.urls")),
    path("cash/", include("cashdesk.urls")),
    path("etims/", include("cashdesk.etims.urls")),
    path("reports/", include("reports.urls")),
    path("api/", include("config.api_urls")),
    *api_doc_urls,  # /api/schema/, /swagger/, /redoc/
    # The admin's own login form knows nothing of phone numbers: log in through allauth.
    path("admin/login/", RedirectView.as_view(pattern_name="account_login", query_string=True)),
    path("admin/", admin.site.urls),
]

handler403 = "core.ops.error_pages.permission_denied"
handler404 = "core.ops.error_pages.page_not_found"
handler500 = "core.ops.error_pages.server_error"

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
