"""Account pages. docs/endpoints.md lists every name."""

from django.contrib.auth import views as auth_views
from django.urls import path

from gulian.core import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("register/", views.register, name="register"),
    path("approvals/", views.approvals, name="approvals"),
    path("approvals/<int:pk>/", views.approve, name="approve"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("region/", views.switch_region, name="switch_region"),
]
