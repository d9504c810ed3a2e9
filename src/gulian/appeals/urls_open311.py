"""Open311 GeoReport v2 under /open311/v2/ (docs/api.md and docs/endpoints.md list every route)."""

from django.urls import re_path

from gulian.appeals import views_open311 as v

app_name = "open311"

FMT = r"\.(?P<fmt>json|xml)$"

urlpatterns = [
    re_path(r"^services" + FMT, v.service_list, name="services"),
    re_path(r"^services/(?P<code>[\w-]+)" + FMT, v.service_definition, name="service_definition"),
    re_path(r"^requests" + FMT, v.requests_view, name="requests"),
    re_path(r"^requests/(?P<request_id>[\w-]+)" + FMT, v.request_detail, name="request_detail"),
    re_path(r"^tokens/(?P<token>[\w-]+)" + FMT, v.token_lookup, name="token"),
]
