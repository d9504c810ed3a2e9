"""Daily bulletin pages (joined into app_name "dispatch" by urls.py): the printable page and its .xlsx."""

from django.urls import path

from gulian.dispatch import views_bulletin

urlpatterns: list = [
    path("bulletin/", views_bulletin.bulletin_page, name="bulletin"),
    path("bulletin/xlsx/", views_bulletin.bulletin_download, name="bulletin_xlsx"),
]
