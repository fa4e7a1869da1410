"""/open311/v2/: GeoReport v2, each resource in .xml and .json."""

from django.urls import path, re_path

from zhili.governance.open311 import views

app_name = "open311"

FMT = r"\.(?P<fmt>xml|json)$"

urlpatterns = [
    path("", views.root, name="root"),
    re_path(r"^discovery" + FMT, views.discovery, name="discovery"),
    re_path(r"^services" + FMT, views.service_list, name="services"),
    re_path(r"^services/(?P<service_code>[^/]{1,64})" + FMT, views.service_definition,
            name="service"),
    re_path(r"^requests" + FMT, views.requests, name="requests"),
    re_path(r"^requests/(?P<request_id>[^/]{1,64})" + FMT, views.request_detail, name="request"),
    re_path(r"^tokens/(?P<token>[^/]{1,128})" + FMT, views.token_detail, name="token"),
    # Anything else: the spec's 404 in the format the path asks for (XML by default).
    re_path(r"^(?P<path>.*?)(?:\.(?P<fmt>xml|json))?$", views.not_found, name="not_found"),
]
