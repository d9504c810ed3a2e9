"""URL map. Every endpoint is listed in docs/endpoints.md (a test checks it)."""

from django.urls import include, path
from django.views.i18n import set_language

from gulian.api import api

urlpatterns = [
    path("", include("gulian.core.urls")),
    path("registry/", include("gulian.registry.urls")),
    path("dispatch/", include("gulian.dispatch.urls")),
    path("risk/", include("gulian.risk.urls")),
    path("appeals/", include("gulian.appeals.urls")),
    path("open311/v2/", include("gulian.appeals.urls_open311")),
    path("api/", api.urls),
    path("i18n/setlang/", set_language, name="set_language"),
]
