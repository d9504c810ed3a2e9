"""Registry web pages (joined with urls_io under app_name "registry"). docs/endpoints.md lists every name."""

from django.urls import path

from gulian.registry import views

urlpatterns: list = [
    path("enterprises/", views.enterprise_list, name="enterprise_list"),
    path("enterprises/new/", views.enterprise_create, name="enterprise_create"),
    path("enterprises/<int:pk>/", views.enterprise_detail, name="enterprise_detail"),
    path("enterprises/<int:pk>/edit/", views.enterprise_edit, name="enterprise_edit"),
    path("chains/", views.chain_list, name="chain_list"),
    path("chains/new/", views.chain_create, name="chain_create"),
    path("chains/<int:pk>/", views.chain_detail, name="chain_detail"),
    path("chains/<int:pk>/edit/", views.chain_edit, name="chain_edit"),
    path("chains/<int:pk>/segments/new/", views.segment_create, name="segment_create"),
    path("chains/<int:pk>/members/add/", views.membership_add, name="membership_add"),
    path("segments/<int:pk>/edit/", views.segment_edit, name="segment_edit"),
    path("memberships/<int:pk>/remove/", views.membership_remove, name="membership_remove"),
    path("links/", views.link_list, name="link_list"),
    path("links/new/", views.link_create, name="link_create"),
    path("links/<int:pk>/edit/", views.link_edit, name="link_edit"),
    path("links/<int:pk>/delete/", views.link_delete, name="link_delete"),
]
