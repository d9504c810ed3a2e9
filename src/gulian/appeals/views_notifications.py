"""The in-app inbox (站内通知): a user's notifications, newest first; mark one or all read."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from gulian.appeals import notify
from gulian.appeals.models import Notification
from gulian.core.services import get_scoped
from gulian.core.views import usable_required

PAGE_SIZE = 50


@usable_required
@require_GET
def notifications(request):
    """The user's notifications, newest first; ``?unread=1`` shows the unread ones only."""
    qs = Notification.objects.restrict(request.user, "view").select_related("appeal")
    unread_only = request.GET.get("unread") == "1"
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    page = Paginator(qs.order_by("-created_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"n": n, "url": notify.appeal_path(n.appeal) if n.appeal_id else ""} for n in page]
    context = {"page": page, "rows": rows, "unread_only": unread_only, "unread": notify.unread_count(request.user)}
    return render(request, "appeals/notifications.html", context)


def _back(request):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect("appeals:notifications")


@usable_required
@require_POST
def notification_read(request, pk: int):
    """Mark one of the user's notifications read, then go to ``next`` (e.g. the appeal) or back to the inbox."""
    n = get_scoped(Notification.objects, request.user, "view", pk=pk)
    notify.mark_read(request.user, n.pk)
    return _back(request)


@usable_required
@require_POST
def notifications_read_all(request):
    """Mark all of the user's notifications read."""
    count = notify.mark_all_read(request.user)
    messages.success(request, _("已将 %(n)d 条通知标为已读 / %(n)d notifications marked read") % {"n": count})
    return _back(request)
