"""REST API: authentication, /me, reference data, error bodies, docs, the token command."""

import datetime as dt
import json

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from django.utils.crypto import get_random_string

from gulian.core.models import ApiToken, AuditRecord, Role


class TokenClient:
    """A test client that sends ``Authorization: Bearer <key>`` and JSON bodies."""

    def __init__(self, user, key: str | None = None):
        if key is None:
            _, key = ApiToken.issue(user, "test")
        self.key = key
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")

    def get(self, path, **params):
        return self.client.get(path, params)

    def post(self, path, body):
        return self.client.post(path, json.dumps(body), content_type="application/json")

    def patch(self, path, body):
        return self.client.patch(path, json.dumps(body), content_type="application/json")


def test_me_with_token(two_cities):
    ns = two_cities
    r = TokenClient(ns.hz).get("/api/me")
    assert r.status_code == 200
    me = r.json()
    assert me["username"] == ns.hz.username
    assert (me["role"], me["region"], me["scope_prefix"], me["is_admin"]) == (
        "taskforce",
        "330100",
        "3301",
        False,
    )
    assert me["role_label"] == "专班" and "杭州" in me["region_name"]


def test_me_for_enterprise_user_and_admin(two_cities):
    ns = two_cities
    me = TokenClient(ns.hz_enterprise).get("/api/me").json()
    assert (me["enterprise"], me["enterprise_name"], me["role"]) == (
        ns.hz_firm.pk,
        "杭州甲公司",
        "enterprise",
    )
    admin = TokenClient(ns.admin).get("/api/me").json()
    assert admin["is_admin"] is True and admin["region"] is None and admin["scope_prefix"] == ""


def test_me_with_session(two_cities):
    client = Client()
    client.force_login(two_cities.nb)
    r = client.get("/api/me")
    assert r.status_code == 200 and r.json()["scope_prefix"] == "3302"


def test_token_records_last_use(two_cities):
    token, key = ApiToken.issue(two_cities.hz, "erp")
    assert token.last_used_at is None
    TokenClient(two_cities.hz, key).get("/api/me")
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_anonymous_gets_401_with_bilingual_detail(db):
    r = Client().get("/api/registry/enterprises")
    assert r.status_code == 401
    assert " / " in r.json()["detail"] and "未登录" in r.json()["detail"]


@pytest.mark.parametrize("header", ["Bearer gl_not-a-real-key", "Bearer ", "Token abc", "gl_x"])
def test_invalid_token_gets_401(db, header):
    r = Client(HTTP_AUTHORIZATION=header).get("/api/me")
    assert r.status_code == 401


def test_expired_token_gets_401(two_cities):
    token, key = ApiToken.issue(two_cities.hz, "old")
    client = TokenClient(two_cities.hz, key)
    assert client.get("/api/me").status_code == 200
    token.expires_at = timezone.now() - dt.timedelta(minutes=1)
    token.save()
    assert client.get("/api/me").status_code == 401


def test_unapproved_user_gets_401_by_token_and_session(make_user):
    user = make_user(Role.ENTERPRISE, "330106", approved=False)
    assert TokenClient(user).get("/api/me").status_code == 401
    session = Client()
    session.force_login(user)
    assert session.get("/api/me").status_code == 401
    assert session.get("/api/registry/enterprises").status_code == 401


def test_inactive_user_gets_401(make_user):
    user = make_user(Role.TASKFORCE, "330100", is_active=False)
    assert TokenClient(user).get("/api/me").status_code == 401


def test_session_write_needs_csrf(two_cities):
    client = Client(enforce_csrf_checks=True)
    client.force_login(two_cities.hz)
    body = json.dumps({"employees": 77})
    url = f"/api/registry/enterprises/{two_cities.hz_firm.pk}"
    r = client.patch(url, body, content_type="application/json")
    assert r.status_code == 403
    two_cities.hz_firm.refresh_from_db()
    assert two_cities.hz_firm.employees is None
    # with the CSRF cookie and the matching header, as htmx sends it, the same write passes
    secret = get_random_string(32)
    client.cookies[settings.CSRF_COOKIE_NAME] = secret
    r = client.patch(url, body, content_type="application/json", HTTP_X_CSRFTOKEN=secret)
    assert r.status_code == 200 and r.json()["employees"] == 77


def test_session_read_needs_no_csrf(two_cities):
    client = Client(enforce_csrf_checks=True)
    client.force_login(two_cities.hz)
    assert client.get("/api/me").status_code == 200


def test_token_write_needs_no_csrf(two_cities):
    client = TokenClient(two_cities.hz)
    client.client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {client.key}")
    r = client.patch(f"/api/registry/enterprises/{two_cities.hz_firm.pk}", {"employees": 5})
    assert r.status_code == 200


# --- reference data ----------------------------------------------------------------------------


def test_regions_filter_by_level_parent_prefix(two_cities):
    api = TokenClient(two_cities.hz_enterprise)
    r = api.get("/api/regions", level="province", page_size=500)
    assert r.status_code == 200 and r.json()["count"] == 34
    body = api.get("/api/regions", parent="330100", page_size=500).json()
    assert body["count"] == 13 and {x["parent"] for x in body["items"]} == {"330100"}
    body = api.get("/api/regions", prefix="3301", level="county").json()
    assert body["count"] == 13
    names = [x["name"] for x in api.get("/api/regions", q="西湖").json()["items"]]
    assert "西湖区" in names


def test_regions_paginate(two_cities):
    api = TokenClient(two_cities.hz)
    first = api.get("/api/regions").json()
    assert len(first["items"]) == 50 and first["count"] > 3000
    second = api.get("/api/regions", page=2).json()
    assert second["items"][0]["code"] > first["items"][-1]["code"]
    big = api.get("/api/regions", page_size=10000).json()
    assert len(big["items"]) == 500  # capped at the maximum page size
    assert api.get("/api/regions", page=0).status_code == 422


def test_region_read_and_404(two_cities):
    api = TokenClient(two_cities.hz)
    r = api.get("/api/regions/330106")
    assert r.status_code == 200
    xihu = r.json()
    assert (xihu["name"], xihu["level"], xihu["parent"], xihu["prefix"]) == (
        "西湖区",
        "county",
        "330100",
        "330106",
    )
    assert xihu["level_label"] == "县级" and xihu["full_name"] == "浙江省杭州市西湖区"
    r = api.get("/api/regions/999999")
    assert r.status_code == 404 and r.json() == {"detail": "未找到 / not found"}


def test_industries_list_and_read(two_cities):
    api = TokenClient(two_cities.hz)
    body = api.get("/api/industries", level="section").json()
    assert body["count"] == 20
    body = api.get("/api/industries", parent="C", page_size=500).json()
    assert body["count"] == 31 and all(x["level"] == "division" for x in body["items"])
    r = api.get("/api/industries/39")
    assert r.status_code == 200 and r.json()["name"] == "计算机、通信和其他电子设备制造业"
    assert r.json()["parent"] == "C"
    assert api.get("/api/industries/ZZ").status_code == 404


def test_reference_data_needs_auth(db):
    assert Client().get("/api/regions").status_code == 401


# --- documentation -----------------------------------------------------------------------------


def test_openapi_schema_and_docs_page_load(db):
    r = Client().get("/api/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    assert "/api/registry/enterprises/{id}" in paths and "patch" in paths["/api/registry/enterprises/{id}"]
    assert "/api/me" in paths
    r = Client().get("/api/docs")
    assert r.status_code == 200 and b"openapi.json" in r.content


def test_docs_list_every_endpoint():
    from gulian.api import api

    docs = (settings.PROJECT_DIR / "docs" / "api.md").read_text(encoding="utf-8")
    schema = api.get_openapi_schema()
    routes = [f"{method.upper()} {path}" for path, ops in schema["paths"].items() for method in ops]
    assert len(routes) >= 25
    missing = [r for r in routes if f"`{r}`" not in docs]
    assert missing == []


# --- the token command -------------------------------------------------------------------------


def test_token_create_use_revoke(two_cities, capsys):
    call_command("token", "create", two_cities.hz.username, "--name", "ERP 同步", "--days", "30")
    out = capsys.readouterr().out
    key = out.strip().splitlines()[-1]
    assert key.startswith("gl_")
    token = ApiToken.objects.get(user=two_cities.hz, name="ERP 同步")
    assert token.digest == ApiToken.hash_key(key) and key not in token.digest
    assert token.expires_at > timezone.now() + dt.timedelta(days=29)
    assert TokenClient(two_cities.hz, key).get("/api/me").status_code == 200

    call_command("token", "list", two_cities.hz.username)
    listing = capsys.readouterr().out
    assert f"{token.pk}\t{two_cities.hz.username}\tERP 同步" in listing and key not in listing

    call_command("token", "revoke", str(token.pk))
    assert not ApiToken.objects.filter(pk=token.pk).exists()
    assert TokenClient(two_cities.hz, key).get("/api/me").status_code == 401
    recs = AuditRecord.objects.filter(model="core.ApiToken", object_pk=str(token.pk)).order_by("seq")
    assert [r.action for r in recs] == ["create", "delete"]
    assert "digest" not in recs[0].after and recs[0].after["name"] == "ERP 同步"


def test_token_command_errors(db):
    with pytest.raises(CommandError, match="no such user"):
        call_command("token", "create", "nobody", "--name", "x")
    with pytest.raises(CommandError, match="no such token"):
        call_command("token", "revoke", "424242")
