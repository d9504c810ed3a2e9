"""Risk URLs (nowcast): the 断链预警 page and its 'add to the risk list' action (docs/endpoints.md)."""

from django.urls import path

from gulian.risk import views_nowcast

urlpatterns: list = [
    path("", views_nowcast.nowcast_page, name="nowcast"),
    path("items/", views_nowcast.nowcast_create_items, name="nowcast_create_items"),
]
