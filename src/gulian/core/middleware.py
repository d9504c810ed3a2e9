"""Region switcher: narrows what a user looks at to a region inside their own scope."""

from __future__ import annotations

from gulian.core.models import Region

SESSION_KEY = "gulian_view_region"


def current_view_prefix(request) -> str:
    """The prefix the user chose to look at (never wider than their scope)."""
    return getattr(request, "view_prefix", "") or ""


class ScopeMiddleware:
    """Reads the chosen region from the session and checks it lies within the user's scope."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        """Set ``request.view_region`` and ``request.view_prefix`` for the view."""
        request.view_region = None
        request.view_prefix = ""
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            own = user.scope_prefix
            request.view_prefix = own
            code = request.session.get(SESSION_KEY)
            if code:
                region = Region.objects.filter(code=code).first()
                if region and region.prefix.startswith(own):
                    request.view_region, request.view_prefix = region, region.prefix
                else:
                    request.session.pop(SESSION_KEY, None)
            if request.view_region is None and user.region_id:
                request.view_region = user.region
        return self.get_response(request)
