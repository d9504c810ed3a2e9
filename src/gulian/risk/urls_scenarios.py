"""Risk URLs (scenarios): define scenarios, run them in the background, see the results (docs/endpoints.md)."""

from django.urls import path

from gulian.risk import views_scenarios as views

urlpatterns: list = [
    path("", views.scenario_list, name="scenario_list"),
    path("new/", views.scenario_create, name="scenario_create"),
    path("<int:pk>/", views.scenario_detail, name="scenario_detail"),
    path("<int:pk>/run/", views.scenario_run, name="scenario_run"),
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("runs/<int:pk>/status/", views.run_status, name="run_status"),
    path("runs/<int:pk>/items/", views.run_create_items, name="run_create_items"),
]
