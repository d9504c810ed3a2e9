"""Risk pages under /risk/: risk lists, scenarios and runs, nowcast (docs/endpoints.md)."""

from django.urls import include, path

app_name = "risk"

urlpatterns = [
    path("", include("gulian.risk.urls_lists")),
    path("scenarios/", include("gulian.risk.urls_scenarios")),
    path("nowcast/", include("gulian.risk.urls_nowcast")),
]
