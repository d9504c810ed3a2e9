"""URL patterns (included by appeals/urls.py): the enterprise's pages and the appeal page every role uses."""

from django.urls import path

from gulian.appeals import views_detail, views_enterprise

urlpatterns: list = [
    path("mine/", views_enterprise.my_appeals, name="my_appeals"),
    path("new/", views_enterprise.appeal_create, name="appeal_create"),
    path("suggest/", views_enterprise.suggest, name="suggest"),
    path("<int:pk>/", views_detail.appeal_detail, name="appeal_detail"),
    path("<int:pk>/<str:action>/", views_detail.appeal_action, name="appeal_action"),
    path("attachments/<int:pk>/", views_detail.attachment, name="attachment"),
]
