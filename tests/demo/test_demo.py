"""gulian demo: the generator (pure) and the loaded demo province (small size), its users and re-runs."""

import io
import statistics
import subprocess
import sys
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, F, Sum
from django.urls import reverse

from gulian.core import audit
from gulian.core.models import AuditRecord, Role, User
from gulian.core.uscc import validate
from gulian.demo import load as demo_load
from gulian.demo import spec
from gulian.demo.generator import generate
from gulian.demo.users import DEMO_PASSWORD, DEMO_URL, DEMO_USERS
from gulian.registry.models import Chain, Enterprise, MemberRole, Membership, Segment, SupplyLink
from gulian.registry.scope import derive_scope

SMALL = ["--enterprises", "800", "--links", "3000", "--no-dispatch"]  # dispatch data: tests/demo/test_demo_dispatch.py
DOCS = Path(__file__).resolve().parents[2] / "docs"
TEN_CHAINS = {"数字安防", "集成电路", "网络通信", "智能计算", "生物医药", "炼化一体化与新材料",
              "节能与新能源汽车", "智能装备", "智能家居", "现代纺织和服装"}


def run_demo(*args) -> str:
    out = io.StringIO()
    call_command("demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def demo_settings(settings):
    settings.DEMO = True
    return settings


@pytest.fixture
def demo(db, demo_settings):
    """The small demo province, loaded through the command; returns what it printed."""
    return run_demo(*SMALL)


@pytest.fixture
def geo(db):
    return demo_load.geography()


def mix(scopes) -> dict[str, float]:
    counts = Counter(scopes)
    return {k: counts[k] / sum(counts.values()) for k in spec.SCOPES}


def assert_mix_in_bounds(m: dict[str, float]) -> None:
    assert 0.35 <= m["city"] <= 0.45, m
    assert 0.25 <= m["province"] <= 0.30, m
    assert 0.20 <= m["domestic"] <= 0.30, m
    assert 0.03 <= m["foreign"] <= 0.08, m


# --- the generator, without the database writes ---------------------------------------------------


def test_generator_imports_no_django():
    code = "import sys, gulian.demo.generator; print(sorted(m for m in sys.modules if m.startswith('django')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_same_seed_same_data_other_seed_other_data(geo):
    a = generate(geo, seed=7, enterprises=400, links=1500)
    b = generate(geo, seed=7, enterprises=400, links=1500)
    c = generate(geo, seed=8, enterprises=400, links=1500)
    assert a.fingerprint() == b.fingerprint()
    assert a.firms.name == b.firms.name and a.firms.uscc == b.firms.uscc
    assert np.array_equal(a.links.supplier, b.links.supplier) and a.links.category == b.links.category
    assert c.fingerprint() != a.fingerprint()
    assert c.firms.name != a.firms.name


def test_full_size_meets_the_issue(geo):
    d = generate(geo, seed=2020)
    f, ln = d.firms, d.links
    zj = [r for r in f.region if r and r.startswith("33")]
    assert len(zj) >= 20_000 and len(ln.supplier) >= 100_000
    assert 2_000 <= d.counts["other_provinces"] <= 5_000 and 200 <= d.counts["foreign"] <= 999
    assert 150 <= d.counts["owners"] + d.counts["core_suppliers"] <= 999
    assert len({u for u in f.uscc if u}) == sum(1 for u in f.uscc if u)
    assert all(validate(u) == u for u in f.uscc if u)
    assert len(set(zip(f.country, f.name, strict=True))) == len(f)
    assert len(set(zip(ln.supplier.tolist(), ln.customer.tolist(), ln.category, strict=True))) == len(ln.supplier)
    assert not np.any(ln.supplier == ln.customer)
    assert_mix_in_bounds(mix(ln.scope))
    # the generator's scope is what the registry derives
    assert all(derive_scope(f.region[s], f.country[s], f.region[c]) == sc
               for s, c, sc in zip(ln.supplier.tolist(), ln.customer.tolist(), ln.scope, strict=True))


def test_sizes_and_degrees_are_heavy_tailed(geo):
    d = generate(geo, seed=2020, enterprises=2000, links=10_000)
    f, ln = d.firms, d.links
    out = np.sort(f.output[f.group == spec.ZHEJIANG])[::-1]
    assert out[: len(out) // 100].sum() > 0.25 * out.sum()  # top 1 % of firms: over a quarter of output
    indeg = np.bincount(ln.customer, minlength=len(f))[f.group == spec.ZHEJIANG]
    assert indeg.max() > 10 * indeg.mean()
    outdeg = np.sort(np.bincount(ln.supplier))[::-1]
    outdeg = outdeg[outdeg > 0]
    assert outdeg[: len(outdeg) // 10].sum() > 0.3 * outdeg.sum()  # top 10 % of suppliers: over 30 % of links
    # employees, scale and 规上 follow output
    big, small = f.output >= 4e8, f.output < 3e6
    assert np.median(f.employees[big]) > 20 * np.median(f.employees[small])
    assert set(np.array(f.scale)[small]) == {"micro"}
    assert np.array_equal(f.above_designated_size, f.output >= 20_000_000)
    # no supplier sells more than it makes
    sales = np.bincount(ln.supplier, ln.annual_value.astype(float), minlength=len(f))
    assert np.all(sales <= f.output)


def test_industries_match_the_chain_segments(geo):
    d = generate(geo, seed=2020, enterprises=800, links=3000)
    for i in range(len(d.firms)):
        _c, _o, seg = d.segments[d.firms.segment[i]]
        assert d.firms.industry[i] in seg.industries
    by_chain = {spec.CHAINS[c].name: {d.firms.industry[i] for i in range(len(d.firms)) if d.firms.chain[i] == c}
                for c in range(len(spec.CHAINS))}
    assert "39" in by_chain["集成电路"] and "27" in by_chain["生物医药"] and "36" in by_chain["节能与新能源汽车"]
    assert by_chain["现代纺织和服装"] <= {"17", "18", "28", "51"}


# --- the loaded demo province ----------------------------------------------------------------------


def test_counts_and_valid_usccs(demo):
    zj = Enterprise.objects.filter(region__code__startswith="33")
    assert zj.count() == 800
    assert Enterprise.objects.count() == 800 + 120 + 16
    assert SupplyLink.objects.count() == 3000
    for uscc, region in Enterprise.objects.filter(country="CN").values_list("uscc", "region_id"):
        assert validate(uscc) == uscc and uscc[2:8] == region
    foreign = Enterprise.objects.exclude(country="CN")
    assert foreign.exists() and not foreign.filter(uscc__isnull=False).exists()
    assert not foreign.filter(region__isnull=False).exists()
    assert set(foreign.values_list("country", flat=True)) <= set(spec.COUNTRIES)
    assert Enterprise.objects.filter(region_id="710000", country="CN").exists()  # Taiwan
    prefectures = set(zj.values_list("region__parent_id", flat=True))
    assert prefectures == {f"{p}00" for p in spec.PREFECTURE_WEIGHT}  # all 11 cities


def test_ten_chains_with_three_to_six_ordered_segments(demo):
    chains = Chain.objects.annotate(n=Count("segments"))
    assert {c.name for c in chains} == TEN_CHAINS
    for chain in chains:
        assert 3 <= chain.n <= 6
        assert chain.region_id == "330000" and "（示范）" in chain.leader
        assert list(chain.segments.values_list("order", flat=True)) == list(range(1, chain.n + 1))
    ic = Segment.objects.filter(chain__name="集成电路").values_list("name", flat=True)
    assert {"芯片设计", "晶圆制造", "封装测试"} <= set(ic)


def test_owners_and_core_suppliers(demo):
    for chain in Chain.objects.all():
        roles = Counter(chain.memberships.values_list("role", flat=True))
        assert roles[MemberRole.OWNER] >= 2 and roles[MemberRole.CORE] >= 3, chain
        assert roles[MemberRole.SUPPLIER] > 0
    owners = Enterprise.objects.filter(memberships__role=MemberRole.OWNER)
    assert not owners.filter(above_designated_size=False).exists()
    assert not owners.exclude(region__code__startswith="33").exists()
    # chain owners have far more registered suppliers than the average customer
    owner_in = statistics.mean(owners.annotate(n=Count("inputs")).values_list("n", flat=True))
    avg_in = SupplyLink.objects.count() / Enterprise.objects.filter(inputs__isnull=False).distinct().count()
    assert owner_in > 3 * avg_in
    # a membership's segment belongs to its chain
    assert not Membership.objects.exclude(segment__chain=F("chain")).exists()


def test_links_scope_mix_shares_and_timing(demo):
    links = list(SupplyLink.objects.select_related("supplier", "customer"))
    for link in links:
        assert link.scope == derive_scope(link.supplier.region_id, link.supplier.country, link.customer.region_id)
        assert link.customer.region_id.startswith("33")
    assert_mix_in_bounds(mix(link.scope for link in links))
    shares = SupplyLink.objects.values("customer", "input_category").annotate(total=Sum("share"))
    assert max(s["total"] for s in shares) <= Decimal(1)
    lead, alt = defaultdict(list), defaultdict(list)
    for link in links:
        lead[link.scope].append(link.lead_time_days)
        alt[link.scope].append(link.alternatives_known)
    assert statistics.median(lead["foreign"]) > 3 * statistics.median(lead["city"])
    assert statistics.mean(alt["city"]) > statistics.mean(alt["foreign"]) + 0.2
    # most links within a chain go from an upstream segment to a downstream one
    seg = dict(Membership.objects.values_list("enterprise_id", "segment__order"))
    pairs = [(seg[ln.supplier_id], seg[ln.customer_id]) for ln in links
             if ln.supplier_id in seg and ln.customer_id in seg]
    assert sum(s < c for s, c in pairs) > 0.5 * len(pairs)


def test_generation_is_audited_with_seed_and_fingerprint(demo, geo):
    records = AuditRecord.objects.filter(action="demo_generate")
    assert set(records.values_list("model", flat=True)) == {
        "registry.Enterprise", "registry.Chain", "registry.Segment", "registry.Membership", "registry.SupplyLink"}
    link_record = records.get(model="registry.SupplyLink")
    assert link_record.after["seed"] == 2020 and link_record.after["count"] == 3000
    assert link_record.after["fingerprint"] == generate(geo, 2020, 800, 3000).fingerprint()
    assert AuditRecord.objects.filter(action="demo_user").count() == len(DEMO_USERS)
    assert list(audit.verify()) == []


# --- demo users ------------------------------------------------------------------------------------


def visible_domestic(username: str):
    user = User.objects.get(username=username)
    return Enterprise.objects.restrict(user, "view").filter(country="CN")


def test_logins_are_printed(demo):
    for u in DEMO_USERS:
        assert u.username in demo
    assert DEMO_PASSWORD in demo and DEMO_URL in demo
    assert "演示账号" in demo and "Demo logins" in demo


@pytest.mark.parametrize("username", [u.username for u in DEMO_USERS])
def test_every_demo_user_logs_in(demo, client, username):
    response = client.post(reverse("login"), {"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(User.objects.get(username=username).pk)
    assert client.get(reverse("home")).status_code == 200


def test_each_user_sees_its_scope(demo):
    total_cn = Enterprise.objects.filter(country="CN").count()
    assert visible_domestic("admin").count() == total_cn
    assert set(r[:2] for r in visible_domestic("zj_taskforce").values_list("region_id", flat=True)) == {"33"}
    assert visible_domestic("zj_taskforce").count() == 800
    for username, prefix in (("hz_taskforce", "3301"), ("nb_taskforce", "3302"), ("xihu_taskforce", "330106"),
                             ("hz_handler", "3301")):
        regions = list(visible_domestic(username).values_list("region_id", flat=True))
        assert regions and all(r.startswith(prefix) for r in regions), username
        assert len(regions) == Enterprise.objects.filter(region__code__startswith=prefix).count()
    handler = User.objects.get(username="hz_handler")
    assert handler.role == Role.HANDLER and handler.department == "economy"  # a Department code (appeals)
    liaison = visible_domestic("hz_liaison")
    assert liaison.count() == 50 and not liaison.exclude(region__code__startswith="3301").exists()
    office = User.objects.get(username="ic_chain_office")
    assert list(office.chains.values_list("name", flat=True)) == ["集成电路"]
    ic_members = Membership.objects.filter(chain__name="集成电路").values("enterprise")
    assert set(visible_domestic("ic_chain_office").values_list("pk", flat=True)) == set(
        Enterprise.objects.filter(pk__in=ic_members).values_list("pk", flat=True))
    firm = visible_domestic("hz_enterprise").get()
    assert firm.region_id.startswith("3301")
    assert firm.memberships.filter(role=MemberRole.OWNER).exists()


# --- re-runs ---------------------------------------------------------------------------------------


def test_rerun_without_reset_keeps_the_data(demo):
    before = (Enterprise.objects.count(), SupplyLink.objects.count(), Chain.objects.count())
    fingerprint = list(Enterprise.objects.order_by("pk").values_list("uscc", "name"))
    out = run_demo("--enterprises", "900", "--links", "3500")
    assert "演示数据已存在" in out and "hz_taskforce" in out
    assert (Enterprise.objects.count(), SupplyLink.objects.count(), Chain.objects.count()) == before
    assert list(Enterprise.objects.order_by("pk").values_list("uscc", "name")) == fingerprint
    assert User.objects.filter(username__in=[u.username for u in DEMO_USERS]).count() == len(DEMO_USERS)
    assert visible_domestic("hz_liaison").count() == 50
    assert list(audit.verify()) == []


def test_reset_regenerates(demo):
    out = run_demo("--reset", "--seed", "11", "--enterprises", "300", "--links", "1000")
    assert "已清空" in out
    assert Enterprise.objects.filter(region__code__startswith="33").count() == 300
    assert SupplyLink.objects.count() == 1000 and Chain.objects.count() == 10
    assert User.objects.filter(username__in=[u.username for u in DEMO_USERS]).count() == len(DEMO_USERS)
    assert visible_domestic("hz_liaison").count() == 50
    assert AuditRecord.objects.filter(action="demo_reset", model="registry.SupplyLink").get().before == {
        "count": 3000}
    assert list(audit.verify()) == []


def test_users_only(db, demo_settings):
    out = run_demo("--users-only")
    assert Enterprise.objects.count() == 0
    assert User.objects.filter(username__in=[u.username for u in DEMO_USERS]).count() == len(DEMO_USERS)
    assert "zj_taskforce" in out


def test_refuses_without_demo_mode(db, settings):
    settings.DEMO = False
    with pytest.raises(CommandError, match="GULIAN_DEMO"):
        run_demo(*SMALL)
    assert not Enterprise.objects.exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--enterprises", "50"], "至少需要 100 家"),
    (["--links", "-1"], "不能为负"),
])
def test_impossible_sizes_are_refused(db, demo_settings, args, message):
    with pytest.raises(CommandError, match=message):
        run_demo(*args)
    assert not Enterprise.objects.exists()


def test_refuses_to_mix_with_real_data(demo_settings, make_enterprise):
    make_enterprise("330106", "真实企业")
    with pytest.raises(CommandError, match="--reset"):
        run_demo(*SMALL)
    assert Enterprise.objects.count() == 1


# --- documentation ---------------------------------------------------------------------------------


def test_documented():
    cli = (DOCS / "cli.md").read_text(encoding="utf-8")
    section = cli.split("## gulian demo", 1)[1].split("\n## ", 1)[0]
    for option in ("--seed", "--enterprises", "--links", "--reset", "--users-only"):
        assert option in section
    guide = (DOCS / "demo.md").read_text(encoding="utf-8")
    for u in DEMO_USERS:
        assert u.username in guide
    assert DEMO_PASSWORD in guide
