"""The demo logins: one user per role and level, with one documented password, and the table printed for them.

Users are matched by username and reset in place on every run (role, scope, password), never
deleted: deleting a user would null the actor of its audit records and break the hash chain.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from gulian.core import audit
from gulian.core.models import Region, Role, User
from gulian.registry.models import Chain, Enterprise, MemberRole, Membership

DEMO_PASSWORD = "gulian-demo-2020"
DEMO_URL = "http://127.0.0.1:8000"
LIAISON_FIRMS = 50
HANGZHOU = "3301"
IC_CHAIN = "integrated-circuit"
ROLE_EN = {
    Role.ADMIN: "administrator", Role.TASKFORCE: "task force", Role.CHAIN_OFFICE: "chain office",
    Role.LIAISON: "liaison", Role.HANDLER: "department handler", Role.ENTERPRISE: "enterprise user",
}


@dataclass(frozen=True)
class DemoUser:
    """A demo login: username, role, region code (None = nationwide) and what it covers, in both languages."""

    username: str
    role: str
    region: str | None
    scope_zh: str
    scope_en: str
    department: str = ""


DEMO_USERS = (
    DemoUser("admin", Role.ADMIN, None, "全部数据", "everything"),
    DemoUser("zj_taskforce", Role.TASKFORCE, "330000", "浙江省专班：全省", "Zhejiang task force: the province"),
    DemoUser("hz_taskforce", Role.TASKFORCE, "330100", "杭州市专班：杭州市", "Hangzhou task force: the city"),
    DemoUser("nb_taskforce", Role.TASKFORCE, "330200", "宁波市专班：宁波市", "Ningbo task force: the city"),
    DemoUser("xihu_taskforce", Role.TASKFORCE, "330106", "西湖区专班：杭州市西湖区", "Xihu district task force"),
    DemoUser("ic_chain_office", Role.CHAIN_OFFICE, "330000", "集成电路产业链链长办：链上浙江企业",
             "integrated-circuit chain office: the chain's Zhejiang firms"),
    DemoUser("hz_liaison", Role.LIAISON, "330100", "杭州市联络员：50 家联系企业", "Hangzhou liaison: 50 assigned firms"),
    DemoUser("hz_handler", Role.HANDLER, "330100", "杭州市经信部门办理人：杭州市经信部门的诉求",
             "Hangzhou economy department handler: its appeals in Hangzhou", department="economy"),
    DemoUser("hz_transport", Role.HANDLER, "330100", "杭州市交通运输部门办理人：杭州市交通运输部门的诉求",
             "Hangzhou transport department handler: its appeals in Hangzhou", department="transport"),
    DemoUser("zj_economy", Role.HANDLER, "330000", "浙江省经信部门办理人：全省经信部门的诉求",
             "Zhejiang economy department handler: its appeals in the province", department="economy"),
    DemoUser("hz_enterprise", Role.ENTERPRISE, None, "杭州一家链主企业：本企业", "a Hangzhou chain owner: itself"),
)


def owner_firm() -> Enterprise | None:
    """The enterprise the demo enterprise user belongs to: the biggest chain owner in Hangzhou."""
    m = (Membership.objects.filter(role=MemberRole.OWNER, enterprise__region__code__startswith=HANGZHOU)
         .select_related("enterprise", "chain").order_by("-enterprise__baseline_output", "enterprise__uscc").first())
    return m.enterprise if m else None


def _assign_liaison(user: User) -> list[audit.Change]:
    """Give the liaison 50 Hangzhou firms (spread by USCC order) unless it already has some."""
    if Enterprise.objects.filter(liaison=user).exists():
        return []
    firms = list(Enterprise.objects.filter(region__code__startswith=HANGZHOU).order_by("uscc")[:LIAISON_FIRMS])
    Enterprise.objects.filter(pk__in=[f.pk for f in firms]).update(liaison=user)
    return [audit.Change("update", f, {"liaison_id": None}, {"liaison_id": user.pk}) for f in firms]


def ensure_users(actor=None) -> list[tuple[DemoUser, User]]:
    """Create or reset every demo user and bind it to the demo data that exists; audit each."""
    validate_password(DEMO_PASSWORD)
    regions = Region.objects.in_bulk([u.region for u in DEMO_USERS if u.region])
    firm = owner_firm()
    ic = Chain.objects.filter(code=IC_CHAIN).first()
    out, changes = [], []
    with transaction.atomic():
        for want in DEMO_USERS:
            user = User.objects.filter(username=want.username).first() or User(username=want.username)
            user.role, user.department = want.role, want.department
            user.region = regions.get(want.region) if want.region else None
            user.enterprise = None
            if want.role == Role.ENTERPRISE and firm is not None:
                user.enterprise, user.region = firm, firm.region
            user.first_name = "演示"
            user.is_active = user.approved = True
            user.set_password(DEMO_PASSWORD)
            user.save()
            user.chains.set([ic] if want.role == Role.CHAIN_OFFICE and ic else [])
            if want.role == Role.LIAISON:
                changes += _assign_liaison(user)
            after = audit.snapshot(user, ["username", "role", "region_id", "department", "enterprise_id"])
            changes.append(audit.Change("demo_user", user, None, after))
            out.append((want, user))
        task_force = [u for s, u in out if s.role == Role.TASKFORCE and s.region == "330000"]
        for chain in Chain.objects.filter(region_id="330000"):
            chain.task_force.add(*task_force)
        if ic:
            ic.task_force.add(*[u for s, u in out if s.role == Role.CHAIN_OFFICE])
        audit.record_many(actor, changes)
    return out


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def logins_table(users: list[tuple[DemoUser, User]]) -> str:
    """The demo logins as an aligned text table, Chinese and English."""
    header = ("用户名 / username", "角色 / role", "范围 / scope")
    rows = []
    for want, user in users:
        role = f"{Role(want.role).label} / {ROLE_EN[want.role]}"
        scope = want.scope_zh + (f"（{user.enterprise.name}）" if user.enterprise_id else "")
        rows.append((want.username, role, f"{scope} / {want.scope_en}"))
    widths = [max(_width(r[i]) for r in [header, *rows]) + 2 for i in range(2)]
    lines = [
        f"演示账号 / Demo logins — 密码均为 / password for all: {DEMO_PASSWORD}",
        "".join(_pad(h, w) for h, w in zip(header[:2], widths, strict=True)) + header[2],
    ]
    lines += ["".join(_pad(c, w) for c, w in zip(r[:2], widths, strict=True)) + r[2] for r in rows]
    lines.append(f"打开 / open: {DEMO_URL}")
    return "\n".join(lines)
