"""The in-app inbox (included by appeals/urls.py, namespace ``appeals``; docs/endpoints.md)."""

from django.urls import path

from gulian.appeals import views_notifications as views

urlpatterns = [
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/<int:pk>/read/", views.notification_read, name="notification_read"),
    path("notifications/read-all/", views.notifications_read_all, name="notifications_read_all"),
]
