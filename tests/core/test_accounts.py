"""Accounts: self-registration, approval in scope, lockout, CSRF, password hashing, tokens, region switcher."""

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from stdnum.cn import uscc as stdnum_uscc

from gulian.core import accounts
from gulian.core.middleware import SESSION_KEY
from gulian.core.models import ApiToken, AuditRecord, Role, User
from gulian.core.services import OutOfScope
from gulian.core.uscc import make as make_uscc
from gulian.core.uscc import org_code_check_digit
from gulian.registry.models import Enterprise
from tests.conftest import next_uscc

PASSWORD = "Zhejiang-2020-gulian"


def register(uscc, username="newfirm", **kw):
    fields = {
        "uscc": uscc,
        "enterprise_name": "杭州新注册科技有限公司",
        "contact_name": "王经理",
        "phone": "0571-88886666",
        "email": "wang@example.cn",
        "username": username,
        "password": PASSWORD,
    }
    fields.update(kw)
    return accounts.register_enterprise_user(**fields)


def wrong_org_code(region):
    body = "MA2H7Q3K"
    bad = "0" if org_code_check_digit(body) != "0" else "1"
    partial = f"91{region}{body}{bad}"
    return partial + stdnum_uscc.calc_check_digit(partial)


# ---- registration service ---------------------------------------------------------------------------


def test_registration_creates_unapproved_user_and_enterprise_from_uscc_region(db):
    uscc = next_uscc("330106")
    user = register(uscc)
    assert user.role == Role.ENTERPRISE and user.approved is False and user.is_active
    assert user.check_password(PASSWORD)
    firm = user.enterprise
    assert firm.uscc == uscc and firm.region_id == "330106" and firm.contact_name == "王经理"
    assert not user.is_usable
    # both writes are audited under the self-registration actor, with no password hash in the log
    records = AuditRecord.objects.filter(actor_name="self-registration")
    assert {(r.action, r.model) for r in records} == {
        ("create", "registry.Enterprise"),
        ("register", "core.User"),
    }
    assert "password" not in records.get(action="register").after


def test_registration_binds_the_existing_enterprise(two_cities):
    before = Enterprise.objects.count()
    # full-width and spaced input is compacted before lookup
    spaced = " ".join(two_cities.hz_firm.uscc[i : i + 6] for i in range(0, 18, 6))
    user = register(spaced.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789ABCDEFGHJKLMNPQRTUWXY"}))
    assert user.enterprise == two_cities.hz_firm
    assert Enterprise.objects.count() == before
    assert two_cities.hz_firm.name == "杭州甲公司"  # the claim does not overwrite the record


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("91330106MA2H7Q3K", "length"),
        ("91330106MA2H7Q3KIO", "format"),
        ("checksum", "checksum"),
        ("org", "org_code"),
        ("region", "region"),
    ],
)
def test_registration_names_the_failed_uscc_check(db, value, code):
    if value == "checksum":
        good = next_uscc("330106")
        value = good[:-1] + ("1" if good[-1] != "1" else "2")
    elif value == "org":
        value = wrong_org_code("330106")
    elif value == "region":
        value = make_uscc("990000", "MA2H7Q3K")
    with pytest.raises(ValidationError) as exc:
        register(value)
    error = exc.value.error_dict["uscc"][0]
    assert error.code == f"uscc_{code}"
    assert " / " in error.messages[0]  # Chinese / English
    assert not User.objects.filter(username="newfirm").exists()


def test_former_region_code_needs_a_chosen_region(db):
    uscc = make_uscc("330103", "MA2H7Q3K")  # 下城区 was merged in 2021: valid USCC, not a current region
    with pytest.raises(ValidationError) as exc:
        register(uscc)
    assert "region" in exc.value.error_dict
    user = register(uscc, region_code="330102")
    assert user.enterprise.region_id == "330102"


def test_registration_rejects_taken_username_and_weak_password(two_cities):
    with pytest.raises(ValidationError) as exc:
        register(next_uscc("330106"), username=two_cities.hz.username.upper())
    assert "username" in exc.value.error_dict
    with pytest.raises(ValidationError) as exc:
        register(next_uscc("330106"), password="12345678")
    assert "password" in exc.value.error_dict
    assert not Enterprise.objects.filter(name="杭州新注册科技有限公司").exists()


# ---- approval ---------------------------------------------------------------------------------------


def test_only_officials_of_the_enterprise_region_may_approve(two_cities):
    ns = two_cities
    pending = register(next_uscc("330106"))
    with pytest.raises(OutOfScope):
        accounts.approve_user(ns.nb, pending)
    with pytest.raises(OutOfScope):
        accounts.approve_user(ns.hz_enterprise, pending)
    assert pending in accounts.pending_approvals(ns.liaison_hz)
    assert pending not in accounts.pending_approvals(ns.nb)
    accounts.approve_user(ns.liaison_hz, pending)
    pending.refresh_from_db()
    assert pending.approved and pending.approved_by == ns.liaison_hz and pending.is_usable
    record = AuditRecord.objects.get(action="approve")
    assert record.actor_id == ns.liaison_hz.pk and record.after["approved"] is True
    with pytest.raises(OutOfScope):  # once approved it is no longer pending
        accounts.approve_user(ns.hz, pending)


def test_reject_needs_a_reason_and_deactivates(two_cities):
    ns = two_cities
    pending = register(next_uscc("330110"))
    with pytest.raises(ValidationError):
        accounts.reject_user(ns.hz, pending, "  ")
    accounts.reject_user(ns.hz, pending, "信用代码与企业名称不符")
    pending.refresh_from_db()
    assert not pending.is_active and not pending.approved
    assert AuditRecord.objects.get(action="reject").after["reason"] == "信用代码与企业名称不符"


def test_registration_to_approval_through_the_pages(two_cities):
    ns = two_cities
    uscc = next_uscc("330106")
    page = Client().get(reverse("register"))
    assert page.status_code == 200 and "统一社会信用代码" in page.text
    response = Client().post(
        reverse("register"),
        {
            "uscc": uscc,
            "enterprise_name": "杭州新注册科技有限公司",
            "contact_name": "王经理",
            "phone": "13800000000",
            "email": "wang@example.cn",
            "username": "newfirm",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code == 200 and "注册已提交" in response.text
    newbie = User.objects.get(username="newfirm")
    firm = newbie.enterprise

    # an unapproved account sees nothing: the home page says so and every registry page sends it home
    c = Client()
    c.force_login(newbie)
    home = c.get(reverse("home"))
    assert "等待审核" in home.text and "awaiting approval" in home.text.lower()
    assert firm.name not in home.text
    for url in (reverse("registry:enterprise_list"), reverse("registry:enterprise_detail", args=[firm.pk])):
        assert c.get(url).status_code == 302
    assert c.get(reverse("tokens")).status_code == 302

    # Ningbo's task force neither lists it nor can approve it
    nb = Client()
    nb.force_login(ns.nb)
    assert "newfirm" not in nb.get(reverse("approvals")).text
    assert nb.post(reverse("approve", args=[newbie.pk])).status_code == 404
    newbie.refresh_from_db()
    assert not newbie.approved
    # a Hangzhou enterprise user has no approvals page at all
    ent = Client()
    ent.force_login(ns.hz_enterprise)
    assert ent.get(reverse("approvals")).status_code == 404

    hz = Client()
    hz.force_login(ns.hz)
    listing = hz.get(reverse("approvals"))
    assert "newfirm" in listing.text and uscc in listing.text
    assert hz.post(reverse("approve", args=[newbie.pk]), {"decision": "approve"}).status_code == 302
    newbie.refresh_from_db()
    assert newbie.approved and newbie.approved_by == ns.hz

    detail = c.get(reverse("registry:enterprise_detail", args=[firm.pk]))
    assert detail.status_code == 200 and "杭州新注册科技有限公司" in detail.text
    assert c.get(reverse("registry:enterprise_detail", args=[ns.hz_firm.pk])).status_code == 404


def test_register_page_shows_the_failed_check(db):
    response = Client().post(reverse("register"), {"uscc": wrong_org_code("330106"), "username": "x"})
    assert response.status_code == 200
    assert "组织机构代码校验错误" in response.text


def test_reject_through_the_page(two_cities):
    pending = register(next_uscc("330106"))
    hz = Client()
    hz.force_login(two_cities.hz)
    url = reverse("approve", args=[pending.pk])
    hz.post(url, {"decision": "reject", "reason": ""})
    pending.refresh_from_db()
    assert pending.is_active  # no reason, no rejection
    hz.post(url, {"decision": "reject", "reason": "非本企业人员"})
    pending.refresh_from_db()
    assert not pending.is_active


# ---- login, lockout, CSRF, hashing ---------------------------------------------------------------


def test_login_form_signs_in(two_cities):
    c = Client()
    response = c.post(reverse("login"), {"username": two_cities.hz.username, "password": "pass-word-123"},
                      REMOTE_ADDR="10.0.0.1")  # fmt: skip
    assert response.status_code == 302 and response.url == reverse("home")
    assert "工作台" in c.get(reverse("home")).text


def test_lockout_after_repeated_failed_logins(two_cities):
    username = two_cities.hz.username
    c = Client()
    for _ in range(django_settings.AXES_FAILURE_LIMIT):
        failed = c.post(reverse("login"), {"username": username, "password": "wrong"}, REMOTE_ADDR="10.0.0.9")
        assert failed.status_code in (200, 429)
    locked = c.post(
        reverse("login"), {"username": username, "password": "pass-word-123"}, REMOTE_ADDR="10.0.0.9"
    )
    assert locked.status_code == 429 and "账号已锁定" in locked.text
    assert "_auth_user_id" not in c.session
    # the lock is on the username and address pair: the same person from another address is not locked
    other = Client().post(
        reverse("login"), {"username": username, "password": "pass-word-123"}, REMOTE_ADDR="10.0.0.10"
    )
    assert other.status_code == 302


def test_csrf_is_enforced_on_forms(two_cities):
    c = Client(enforce_csrf_checks=True)
    data = {"username": two_cities.hz.username, "password": "pass-word-123"}
    assert c.post(reverse("login"), data, REMOTE_ADDR="10.0.0.2").status_code == 403
    c.get(reverse("login"))
    token = c.cookies["csrftoken"].value
    assert (
        c.post(reverse("login"), {**data, "csrfmiddlewaretoken": token}, REMOTE_ADDR="10.0.0.2").status_code
        == 302
    )
    edit = reverse("registry:enterprise_edit", args=[two_cities.hz_firm.pk])
    assert c.post(edit, {"name": "改名"}).status_code == 403
    assert c.post(reverse("tokens"), {"name": "x"}).status_code == 403
    assert not ApiToken.objects.exists()


def test_production_password_hasher_is_argon2(settings, db):
    import gulian.settings as production

    assert production.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    settings.PASSWORD_HASHERS = production.PASSWORD_HASHERS  # undo the fast fixture for this test
    user = User.objects.create_user("argon", password=PASSWORD)
    assert user.password.startswith("argon2$")
    assert user.check_password(PASSWORD)


# ---- tokens -----------------------------------------------------------------------------------------


def test_token_key_is_shown_once_and_revocable(two_cities):
    c = Client()
    c.force_login(two_cities.hz)
    created = c.post(reverse("tokens"), {"name": "数据对接"})
    token = ApiToken.objects.get(user=two_cities.hz)
    key = created.context["new_key"]
    assert key.startswith("gl_") and key in created.text
    assert ApiToken.hash_key(key) == token.digest and key not in token.digest
    assert created["Cache-Control"] == "no-store"
    again = c.get(reverse("tokens"))
    assert key not in again.text and "数据对接" in again.text
    # another user cannot revoke it (404), its owner can
    other = Client()
    other.force_login(two_cities.nb)
    assert other.post(reverse("token_revoke", args=[token.pk])).status_code == 404
    assert c.post(reverse("token_revoke", args=[token.pk])).status_code == 302
    assert not ApiToken.objects.exists()
    assert set(AuditRecord.objects.filter(model="core.ApiToken").values_list("action", flat=True)) == {
        "create",
        "delete",
    }


# ---- region switcher --------------------------------------------------------------------------------


def test_region_switcher_narrows_within_scope_only(two_cities):
    ns = two_cities
    c = Client()
    c.force_login(ns.province)
    home = c.get(reverse("home"))
    assert 'value="330100"' in home.text and 'value="330200"' in home.text  # the province's prefectures
    assert 'value="330106"' not in home.text  # counties come once a prefecture is chosen
    response = c.post(
        reverse("switch_region"), {"region": "330100", "next": reverse("registry:enterprise_list")}
    )
    assert response.status_code == 302 and response.url == reverse("registry:enterprise_list")
    assert c.session[SESSION_KEY] == "330100"
    listing = c.get(reverse("registry:enterprise_list")).text
    assert "杭州甲公司" in listing and "宁波丙公司" not in listing
    assert 'value="330106"' in c.get(reverse("home")).text
    # back to the whole scope
    c.post(reverse("switch_region"), {"region": ""})
    assert SESSION_KEY not in c.session
    assert "宁波丙公司" in c.get(reverse("registry:enterprise_list")).text

    hz = Client()
    hz.force_login(ns.hz)
    assert hz.post(reverse("switch_region"), {"region": "330200"}).status_code == 404
    assert SESSION_KEY not in hz.session
    # an off-site "next" is not followed
    assert hz.post(reverse("switch_region"), {"region": "330106", "next": "https://evil.example/"}).url == "/"
