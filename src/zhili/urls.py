from django.contrib import admin
from django.urls import include, path, re_path
from django.views.i18n import JavaScriptCatalog

from zhili.api import api
from zhili.core import views as core_views
from zhili.core.plugins import registry

# Each app mounts its own pages (`urls` on its AppConfig, see core.plugins).
urlpatterns = [path(mount.prefix, include(mount.module)) for mount in registry().urls] + [
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

