"""Risk pages under /risk/: risk lists, scenarios and runs, nowcast (docs/endpoints.md)."""

from django.urls import include, path
from django.views.generic import RedirectView

app_name = "risk"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="risk:item_list"), name="index"),
    path("", include("gulian.risk.urls_lists")),
    path("scenarios/", include("gulian.risk.urls_scenarios")),
    path("nowcast/", include("gulian.risk.urls_nowcast")),
]
