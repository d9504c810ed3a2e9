"""Risk URLs (lists): the four lists and the overseas-dependence list, items, export (docs/endpoints.md)."""

from django.urls import path

from gulian.risk import views_lists as views

urlpatterns: list = [
    path("items/", views.item_list, name="item_list"),
    path("items/new/", views.item_create, name="item_create"),
    path("items/export/", views.item_export, name="item_export"),
    path("items/<int:pk>/", views.item_detail, name="item_detail"),
    path("items/<int:pk>/edit/", views.item_edit, name="item_edit"),
]
