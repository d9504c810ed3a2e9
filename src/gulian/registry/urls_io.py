"""Import/export URLs of the registry (names: import, import_errors, template, export)."""

from django.urls import path

from gulian.registry import views_io

urlpatterns: list = [
    path("import/", views_io.import_view, name="import"),
    path("import/errors/", views_io.import_errors, name="import_errors"),
    path("template/<str:kind>/", views_io.template_download, name="template"),
    path("export/<str:kind>/", views_io.export_download, name="export"),
]
