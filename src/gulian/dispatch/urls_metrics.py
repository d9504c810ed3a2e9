"""Dispatch metrics pages (namespace dispatch): overview, held-back list and export, anomalies, power import."""

from django.urls import path

from gulian.dispatch import views_metrics, views_power

urlpatterns: list = [
    path("overview/", views_metrics.overview, name="overview"),
    path("held-back/", views_metrics.held_back, name="held_back"),
    path("held-back/export/", views_metrics.held_back_export, name="held_back_export"),
    path("anomalies/", views_metrics.anomalies, name="anomalies"),
    path("power/import/", views_power.power_import, name="power_import"),
    path("power/import/errors/", views_power.power_import_errors, name="power_import_errors"),
    path("power/template/<str:kind>/", views_power.power_template, name="power_template"),
]
