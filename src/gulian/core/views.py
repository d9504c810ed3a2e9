"""Account pages: home, login, self-registration, approvals, API tokens, region switcher."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gulian.core import accounts
from gulian.core.forms import RegistrationForm, RejectForm, TokenForm
from gulian.core.middleware import SESSION_KEY
from gulian.core.models import ApiToken, Region, User
from gulian.core.regionview import chain_q, enterprise_q, narrowed_prefix
from gulian.core.services import OutOfScope, get_scoped


class LoginView(auth_views.LoginView):
    template_name = "core/login.html"
    redirect_authenticated_user = True


def usable_required(view):
    """Signed in and approved; an account awaiting approval is sent to the home page, which says so."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_usable:
            return redirect("home")
        return view(request, *args, **kwargs)

    return wrapper


def apply_form_errors(form, error: ValidationError) -> None:
    """Put a service's ValidationError on the form's fields (unknown fields go to the form as a whole)."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def save_or_form_errors(form, service, *args, **kwargs):
    """Call a service; its result, or None with the scope or validation failure put on the form.

    The services write in one transaction, so a refused write leaves nothing half-done.
    """
    try:
        return service(*args, **kwargs)
    except OutOfScope as e:
        form.add_error(None, str(e))
    except ValidationError as e:
        apply_form_errors(form, e)
    return None


@login_required
def home(request):
    user = request.user
    if not user.is_usable:
        return render(request, "core/awaiting.html", {})
    from gulian.registry.models import Chain, Enterprise, SupplyLink

    prefix = narrowed_prefix(request)
    links = SupplyLink.objects.restrict(user, "view")
    if prefix:
        links = links.filter(enterprise_q(prefix, "customer__") | enterprise_q(prefix, "supplier__"))
    counts = {
        "chains": Chain.objects.restrict(user, "view").filter(chain_q(prefix)).count(),
        "enterprises": Enterprise.objects.restrict(user, "view").filter(enterprise_q(prefix)).count(),
        "links": links.count(),
    }
    context = {
        "counts": counts,
        "pending_count": accounts.pending_approvals(user).count(),  # no query for roles that do not approve
        "own_enterprise": user.enterprise if user.enterprise_id else None,
    }
    return render(request, "core/home.html", context)


def register(request):
    form = RegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            accounts.register_enterprise_user(
                uscc=d["uscc"],
                enterprise_name=d["enterprise_name"],
                contact_name=d["contact_name"],
                phone=d["phone"],
                email=d["email"],
                username=d["username"],
                password=d["password1"],
                region_code=d.get("region") or None,
            )
        except ValidationError as e:
            if hasattr(e, "error_dict") and "password" in e.error_dict:
                e.error_dict["password1"] = e.error_dict.pop("password")
            apply_form_errors(form, e)
        else:
            return render(request, "core/registered.html", {"username": d["username"]})
    return render(request, "core/register.html", {"form": form})


@usable_required
def approvals(request):
    pending = accounts.pending_approvals(request.user)
    if pending.query.is_empty():
        raise Http404("未找到 / not found")
    return render(request, "core/approvals.html", {"pending": pending[:500], "reject_form": RejectForm()})


def _pending_user(request, pk: int) -> User:
    pending = accounts.pending_approvals(request.user)
    if pending.query.is_empty():
        raise Http404("未找到 / not found")
    return get_scoped(pending, request.user, "approve", pk=pk)


@require_POST
@usable_required
def approve(request, pk: int):
    target = _pending_user(request, pk)
    if request.POST.get("decision") == "reject":
        form = RejectForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("请填写驳回理由 / give a reason"))
            return redirect("approvals")
        try:
            accounts.reject_user(request.user, target, form.cleaned_data["reason"])
        except OutOfScope:
            raise Http404("未找到 / not found")
        messages.success(request, _("已驳回 %(name)s") % {"name": target.username})
        return redirect("approvals")
    try:
        accounts.approve_user(request.user, target)
    except OutOfScope:
        raise Http404("未找到 / not found")
    messages.success(request, _("已通过 %(name)s 的注册") % {"name": target.username})
    return redirect("approvals")


@usable_required
def tokens(request):
    form = TokenForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        try:
            token, new_key = accounts.issue_token(request.user, form.cleaned_data["name"])
        except ValidationError as e:
            apply_form_errors(form, e)
        else:
            form = TokenForm()
    context = {"form": form, "tokens": accounts.own_tokens(request.user), "new_key": new_key}
    response = render(request, "core/tokens.html", context)
    if new_key:
        response["Cache-Control"] = "no-store"  # the key is shown once: keep it out of caches
    return response


@require_POST
@usable_required
def token_revoke(request, pk: int):
    token = get_scoped(ApiToken.objects.filter(user=request.user), request.user, "change", pk=pk)
    accounts.revoke_token(request.user, token)
    messages.success(request, _("令牌已吊销"))
    return redirect("tokens")


@require_POST
@usable_required
def switch_region(request):
    code = (request.POST.get("region") or "").strip()
    user = request.user
    if not code or (user.region_id and code == user.region_id):
        request.session.pop(SESSION_KEY, None)
    else:
        region = Region.objects.filter(code=code).first()
        if region is None or not region.prefix.startswith(user.scope_prefix):
            raise Http404("未找到 / not found")
        request.session[SESSION_KEY] = region.code
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        target = "/"
    return HttpResponseRedirect(target)
