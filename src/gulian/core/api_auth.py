"""API authentication: the browser session (with CSRF) or ``Authorization: Bearer <token>``."""

from __future__ import annotations

from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from gulian.core.models import ApiToken


class TokenAuth(HttpBearer):
    """Bearer token issued on the 'API 令牌' page or by ``gulian token create``."""

    def authenticate(self, request, token: str):
        """The token's user when the key is known, unexpired and the user usable; else None."""
        t = (
            ApiToken.objects.select_related("user", "user__region")
            .filter(digest=ApiToken.hash_key(token))
            .first()
        )
        if t is None or (t.expires_at and t.expires_at < timezone.now()) or not t.user.is_usable:
            return None
        ApiToken.objects.filter(pk=t.pk).update(last_used_at=timezone.now())
        request.user = t.user
        return t.user


class UsableSessionAuth(SessionAuth):
    """The browser session (CSRF checked by ninja), for an active and approved user only."""

    def authenticate(self, request, key):
        """The signed-in user if usable; None makes ninja answer 401."""
        return request.user if getattr(request.user, "is_usable", False) else None


def auth_methods():
    """Token first (no CSRF), then the session cookie (ninja enforces CSRF for it)."""
    return [TokenAuth(), UsableSessionAuth()]
