"""Shared fixtures. The database is SQLite unless DATABASE_URL points at PostgreSQL."""

from __future__ import annotations

import itertools

import pytest

from gulian.core.models import Region, Role, User
from gulian.core.uscc import make as make_uscc
from gulian.registry.models import Chain, Enterprise, MemberRole, Membership, Segment, SupplyLink
from gulian.registry.scope import derive_scope

_serial = itertools.count(1)
_ALNUM = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def next_uscc(region: str) -> str:
    """A fresh valid USCC registered in ``region``."""
    n = next(_serial)
    body = "T" + "".join(_ALNUM[(n // 31**i) % 31] for i in range(7))[::-1]
    return make_uscc(region, body)


def _transactional(item: pytest.Item) -> bool:
    """Whether pytest-django runs ``item`` as a TransactionTestCase (the database is flushed after it)."""
    marker = item.get_closest_marker("django_db")
    return bool(marker is not None and marker.kwargs.get("transaction")) or bool(
        {"transactional_db", "live_server"} & set(item.fixturenames)
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every transactional test restores the database it found (serialized rollback).

    A flush without it re-runs post_migrate, which recreates content types under new ids, and the
    next serialized test's restore then collides with them (as happened when the browser tests,
    which otherwise sit between the appeals and dispatch ones, were skipped for want of Chromium).
    Done here once rather than on each test, so a new transactional test cannot forget it.
    """
    for item in items:
        if _transactional(item) and "django_db_serialized_rollback" not in item.fixturenames:
            item.fixturenames.append("django_db_serialized_rollback")


@pytest.fixture(autouse=True)
def _reference_data_after_flush(request):
    """Transactional tests flush the database afterwards, reference data included; reload it if gone."""
    if not _transactional(request.node):
        return
    request.getfixturevalue("transactional_db")
    from gulian.core.models import Industry
    from gulian.core.reference import load_industries, load_regions

    if not Region.objects.exists():
        load_regions(Region)
    if not Industry.objects.exists():
        load_industries(Industry)
    from gulian.appeals.models import Department, RoutingRule
    from gulian.appeals.reference import load_defaults

    if not RoutingRule.objects.exists():
        load_defaults(Department, RoutingRule)


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: an English request must not leak into the next test."""
    from django.conf import settings as django_settings
    from django.utils import translation

    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    # argon2 is the production hasher (tested in tests/core); MD5 keeps fixtures fast.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def make_user(db):
    """make_user(role, region_code=None, **fields) -> an approved, active user."""

    def _make(role: str = Role.TASKFORCE, region: str | None = None, **fields) -> User:
        n = next(_serial)
        username = fields.pop("username", f"{role}{n}")
        user = User.objects.create_user(
            username=username,
            password=fields.pop("password", "pass-word-123"),
            role=role,
            region=Region.objects.get(code=region) if region else None,
            **fields,
        )
        return user

    return _make


@pytest.fixture
def make_enterprise(db):
    """make_enterprise(region_code, name=None, **fields) -> a domestic enterprise with a valid USCC."""

    def _make(region: str = "330106", name: str | None = None, **fields) -> Enterprise:
        uscc = fields.pop("uscc", None) or next_uscc(region)
        return Enterprise.objects.create(
            uscc=uscc, name=name or f"测试企业{uscc[-6:]}", region_id=region, **fields
        )

    return _make


def make_link(supplier: Enterprise, customer: Enterprise, category: str = "零部件", **fields) -> SupplyLink:
    link = SupplyLink(supplier=supplier, customer=customer, input_category=category, **fields)
    link.scope = derive_scope(supplier.region_id, supplier.country, customer.region_id)
    link.save()
    return link


@pytest.fixture
def two_cities(db, make_user, make_enterprise):
    """Hangzhou (3301) and Ningbo (3302) with an enterprise each, a provincial chain, links and users.

    Returns a namespace: hz_firm, nb_firm, foreign_firm, chain, segment, hz_link (nb→hz), nb_link (hz→nb),
    users: province, hz, nb, hz_county (330106), hz_enterprise, nb_enterprise, liaison_hz, admin.
    """

    class NS:
        pass

    ns = NS()
    ns.hz_firm = make_enterprise("330106", "杭州甲公司")
    ns.hz_firm2 = make_enterprise("330110", "杭州乙公司")
    ns.nb_firm = make_enterprise("330203", "宁波丙公司")
    ns.foreign_firm = Enterprise.objects.create(name="Murata Manufacturing", country="JP")
    ns.chain = Chain.objects.create(code="auto", name="节能与新能源汽车", region_id="330000")
    ns.segment = Segment.objects.create(chain=ns.chain, order=1, name="整车")
    Membership.objects.create(enterprise=ns.hz_firm, chain=ns.chain, segment=ns.segment, role=MemberRole.OWNER)
    Membership.objects.create(enterprise=ns.nb_firm, chain=ns.chain, segment=ns.segment, role=MemberRole.CORE)
    ns.hz_link = make_link(ns.nb_firm, ns.hz_firm, "电池")
    ns.nb_link = make_link(ns.hz_firm2, ns.nb_firm, "电机")
    ns.foreign_link = make_link(ns.foreign_firm, ns.nb_firm, "电容")
    ns.province = make_user(Role.TASKFORCE, "330000")
    ns.hz = make_user(Role.TASKFORCE, "330100")
    ns.nb = make_user(Role.TASKFORCE, "330200")
    ns.hz_county = make_user(Role.TASKFORCE, "330106")
    ns.hz_enterprise = make_user(Role.ENTERPRISE, "330106", enterprise=ns.hz_firm)
    ns.nb_enterprise = make_user(Role.ENTERPRISE, "330203", enterprise=ns.nb_firm)
    ns.liaison_hz = make_user(Role.LIAISON, "330100")
    ns.hz_firm.liaison = ns.liaison_hz
    ns.hz_firm.save()
    ns.admin = make_user(Role.ADMIN)
    return ns
