from django.contrib import admin
from django.urls import include, path, re_path
from django.views.i18n import JavaScriptCatalog

from zhili.api import api
from zhili.core import views as core_views

urlpatterns = [
    path("", include("zhili.core.urls")),
    path("accounts/", include("zhili.accounts.urls")),
    path("geo/", include("zhili.geo.urls")),
    path("registry/", include("zhili.registry.urls")),
    path("audit/", include("zhili.audit.urls")),
    path("bundles/", include("zhili.bundles.urls")),
    path("governance/", include("zhili.governance.urls")),
    path("open311/v2/", include("zhili.governance.open311.urls")),
    path("cap/", include("zhili.warning.cap.urls")),
    path("api/v1/", api.urls),
    re_path(r"^api/", core_views.api_not_found),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("admin/", admin.site.urls),
]

handler400 = "zhili.core.views.bad_request"
handler403 = "zhili.core.views.permission_denied"
handler404 = "zhili.core.views.page_not_found"
handler500 = "zhili.core.views.server_error"

