"""Officials' appeal pages: the department inbox, the task-force board and its filters, the routing table."""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from gulian.appeals import services
from gulian.appeals.filters import AppealFilter
from gulian.appeals.models import Appeal, Department, Level, RoutingRule, Status
from gulian.core.models import AuditRecord, Region, Role

SH = ZoneInfo("Asia/Shanghai")
_n = itertools.count(1)


@pytest.fixture
def world(two_cities, make_user, make_enterprise):
    """two_cities plus city-level firms, department handlers and a county handler on each side."""
    w = two_cities
    w.hz_city_firm = make_enterprise("330100", "杭州市属企业")
    w.nb_city_firm = make_enterprise("330200", "宁波市属企业")
    w.hz_transport = make_user(Role.HANDLER, "330100", department="transport")
    w.hz_hrss = make_user(Role.HANDLER, "330100", department="hrss")
    w.xihu_transport = make_user(Role.HANDLER, "330106", department="transport")
    w.nb_county_transport = make_user(Role.HANDLER, "330203", department="transport")
    w.nb_county_hrss = make_user(Role.HANDLER, "330203", department="hrss")
    w.hz_enterprise.enterprise = w.hz_firm
    w.hz_enterprise.save()
    return w


def file(w, firm, category="logistics", *, title="", at=None, **kw) -> Appeal:
    """An appeal filed by the administrator for ``firm`` (texts differ, so no near-duplicate flags)."""
    n = next(_n)
    text = kw.pop("text", f"第{n}号：企业反映{category}方面的困难，编号{n * 7919}，请协调解决")
    return services.submit(w.admin, enterprise=firm, title=title or f"诉求{n}", text=text, category=category,
                           at=at, **kw).appeal


def tabs_of(response) -> dict[str, int]:
    return {t["key"]: t["count"] for t in response.context["tabs"]}


def numbers(response) -> set[str]:
    return {r["a"].tracking_number for r in response.context["rows"]}


# --- inbox ------------------------------------------------------------------------------------------


def test_inbox_holds_only_the_handlers_department_in_their_region(world, client):
    mine = file(world, world.hz_city_firm, "logistics")  # Hangzhou city · transport
    labour = file(world, world.hz_city_firm, "labour")  # Hangzhou city · hrss
    ningbo = file(world, world.nb_city_firm, "logistics")  # Ningbo city · transport
    county = file(world, world.hz_firm, "logistics")  # Xihu county · transport: in the area, read-only
    # two Hangzhou counties: the city task force triages it to the city's transport department
    triaged = file(world, world.hz_firm, "logistics", related_enterprises=[world.hz_firm2])
    assert (triaged.level, triaged.department) == (Level.CITY, None)
    services.assign(world.hz, triaged, department=Department.objects.get(code="transport"), reason="市交通局牵头")

    client.force_login(world.hz_transport)
    r = client.get(reverse("appeals:inbox"))
    assert r.status_code == 200
    assert numbers(r) == {mine.tracking_number, triaged.tracking_number}
    assert tabs_of(r) == {"pending": 2, "working": 0, "answered": 0, "overdue": 0}
    body = r.content.decode()
    for other in (labour, ningbo, county):
        assert other.tracking_number not in body
    assert reverse("appeals:appeal_detail", args=[mine.pk]) in body

    area = client.get(reverse("appeals:inbox"), {"tab": "area"})
    assert numbers(area) == {county.tracking_number}
    assert area.context["read_only"] and area.context["area_count"] == 1

    # the city's labour handler has the labour appeal and nothing of transport
    client.force_login(world.hz_hrss)
    assert numbers(client.get(reverse("appeals:inbox"))) == {labour.tracking_number}


def test_inbox_tabs_follow_the_lifecycle_and_show_overdue_first(world, client):
    h = world.hz_transport
    late = file(world, world.hz_city_firm, at=timezone.now() - dt.timedelta(days=20))
    fresh = file(world, world.hz_city_firm)
    working = file(world, world.hz_city_firm)
    services.accept(h, working, "已受理")
    answered = file(world, world.hz_city_firm)
    services.accept(h, answered)
    services.resolve(h, answered, "已协调解决")

    client.force_login(h)
    r = client.get(reverse("appeals:inbox"))
    assert tabs_of(r) == {"pending": 2, "working": 1, "answered": 1, "overdue": 1}
    rows = r.context["rows"]
    assert [x["a"].pk for x in rows] == [late.pk, fresh.pk]  # nearest (here: passed) deadline first
    assert rows[0]["late"] and not rows[1]["late"]
    assert 'class="badge late"' in r.content.decode()
    assert numbers(client.get(reverse("appeals:inbox"), {"tab": "working"})) == {working.tracking_number}
    assert numbers(client.get(reverse("appeals:inbox"), {"tab": "answered"})) == {answered.tracking_number}
    assert numbers(client.get(reverse("appeals:inbox"), {"tab": "overdue"})) == {late.tracking_number}
    found = client.get(reverse("appeals:inbox"), {"tab": "pending", "q": fresh.tracking_number})
    assert numbers(found) == {fresh.tracking_number}


@pytest.mark.parametrize("name", ["appeals:inbox", "appeals:board", "appeals:stats", "appeals:routing"])
def test_enterprise_users_get_404_and_anonymous_users_the_login(world, client, name):
    assert client.get(reverse(name)).status_code == 302
    client.force_login(world.hz_enterprise)
    assert client.get(reverse(name)).status_code == 404


def test_inbox_query_count_does_not_grow_with_rows(world, client):
    client.force_login(world.hz_transport)
    for _ in range(5):
        file(world, world.hz_city_firm)
    client.get(reverse("appeals:inbox"))  # warm-up: caches filled once per process
    with CaptureQueriesContext(connection) as few:
        assert len(client.get(reverse("appeals:inbox")).context["rows"]) == 5
    for _ in range(25):
        file(world, world.hz_city_firm)
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(reverse("appeals:inbox")).context["rows"]) == 30
    assert len(many) == len(few)


# --- board ------------------------------------------------------------------------------------------


def test_city_board_shows_appeals_escalated_to_it_and_not_a_sibling_citys(world, client):
    hz_up = file(world, world.hz_firm, "logistics")
    services.escalate(world.xihu_transport, hz_up, "需市级协调")
    nb_up = file(world, world.nb_firm, "logistics")
    services.escalate(world.nb_county_transport, nb_up, "需市级协调")
    hz_plain = file(world, world.hz_firm, "labour")

    client.force_login(world.hz)
    r = client.get(reverse("appeals:board"), {"tab": "escalated"})
    assert r.status_code == 200
    assert numbers(r) == {hz_up.tracking_number}
    counts = tabs_of(r)
    assert counts["escalated"] == 1 and counts["ours"] == 1 and counts["all"] == 2 and counts["new"] == 2
    everything = client.get(reverse("appeals:board"))
    assert numbers(everything) == {hz_up.tracking_number, hz_plain.tracking_number}
    assert nb_up.tracking_number not in everything.content.decode()
    # the task force may triage what sits in its region: links to the appeal page's forms
    row = next(x for x in everything.context["rows"] if x["a"].pk == hz_up.pk)
    assert row["triage"]
    assert f'{reverse("appeals:appeal_detail", args=[hz_up.pk])}#step-assign' in everything.content.decode()

    client.force_login(world.nb)
    assert numbers(client.get(reverse("appeals:board"), {"tab": "escalated"})) == {nb_up.tracking_number}
    # the province sees both, but neither was escalated to the province
    client.force_login(world.province)
    assert numbers(client.get(reverse("appeals:board"), {"tab": "escalated"})) == set()
    assert {hz_up.tracking_number, nb_up.tracking_number} <= numbers(client.get(reverse("appeals:board")))


def test_board_filters(world, client):
    old = file(world, world.hz_firm, "finance", at=timezone.now() - dt.timedelta(days=30))  # overdue by now
    hz_log = file(world, world.hz_firm, "logistics")
    nb_lab = file(world, world.nb_firm, "labour", title="宁波某厂一线工人缺口")
    loose = file(world, world.hz_firm2, "permits")  # not a member of the chain
    cross = file(world, world.hz_firm, "supply", related_enterprises=[world.nb_firm])  # → province task force
    same_city = file(world, world.hz_firm, "supply", related_enterprises=[world.hz_firm2])  # → Hangzhou task force
    abroad = file(world, world.nb_firm, "supply", related_enterprises=[world.foreign_firm])
    services.escalate(world.xihu_transport, hz_log, "升级")
    services.accept(world.nb_county_hrss, nb_lab)

    client.force_login(world.province)

    def board(**params):
        return numbers(client.get(reverse("appeals:board"), params))

    all_numbers = {a.tracking_number for a in (old, hz_log, nb_lab, loose, cross, same_city, abroad)}
    assert board() == all_numbers
    assert board(category="logistics") == {hz_log.tracking_number}
    assert board(region="3302") == {nb_lab.tracking_number, abroad.tracking_number}
    assert board(region="330200") == board(region="3302")
    assert board(region="330110") == {loose.tracking_number}
    assert board(status="accepted") == {nb_lab.tracking_number}
    assert client.get(reverse("appeals:board"), {"status": ["accepted", "submitted"]}).context["page"].paginator.count == 7
    assert board(overdue="true") == {old.tracking_number}
    assert board(overdue="false") == all_numbers - {old.tracking_number}
    assert board(escalated="1") == {hz_log.tracking_number}
    assert board(chain="auto") == all_numbers - {loose.tracking_number}
    assert board(level="province") == {cross.tracking_number}
    assert board(level="ministry") == {abroad.tracking_number}
    assert board(department="hrss") == {nb_lab.tracking_number}
    assert board(department="none") == {hz_log.tracking_number, cross.tracking_number, same_city.tracking_number,
                                        abroad.tracking_number}
    assert board(cross_region="true") == {cross.tracking_number, abroad.tracking_number}
    assert same_city.tracking_number in board(cross_region="false")
    assert board(q=hz_log.tracking_number.lower()) == {hz_log.tracking_number}
    assert board(q=nb_lab.title) == {nb_lab.tracking_number}
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    assert board(date_to=yesterday) == {old.tracking_number}
    assert board(date_from=timezone.localdate().isoformat()) == all_numbers - {old.tracking_number}
    # a bad value is reported and ignored, not a 500
    r = client.get(reverse("appeals:board"), {"category": "nonsense", "date_from": "2020-13-01"})
    assert r.status_code == 200 and set(r.context["bad_filters"]) == {"category", "date_from"}
    assert numbers(r) == all_numbers


def test_appeal_filter_parses_and_rejects():
    f = AppealFilter.from_params({"status": "open,resolved", "overdue": "yes", "region": "330100",
                                  "date_from": "2024-03-01", "date_to": "2024-03-31", "q": " SQ1 "})
    assert f.status == ["submitted", "accepted", "in_progress", "resolved"]
    assert (f.overdue, f.region, f.q, f.errors) == (True, "3301", "SQ1", {})
    assert f.date_from == dt.date(2024, 3, 1) and f.date_to == dt.date(2024, 3, 31)
    assert AppealFilter.from_params(f.params()) == f
    bad = AppealFilter.from_params({"level": "galaxy", "escalated": "maybe", "region": "33x"})
    assert set(bad.errors) == {"level", "escalated", "region"} and bad.is_empty()
    with pytest.raises(Exception) as e:
        AppealFilter.from_params({"level": "galaxy"}, strict=True)
    assert "level" in e.value.message_dict
    assert AppealFilter.from_params({"date_from": "2024-03-05", "date_to": "2024-03-01"}).errors.keys() == {"date_to"}


def test_board_query_count_does_not_grow_with_rows(world, client):
    client.force_login(world.hz)

    def capture():
        with CaptureQueriesContext(connection) as ctx:
            r = client.get(reverse("appeals:board"))
        assert r.status_code == 200
        return len(r.context["rows"]), len(ctx)

    for i in range(5):
        a = file(world, world.hz_firm if i % 2 else world.hz_firm2, "logistics" if i % 2 else "labour",
                 related_regions=[Region.objects.get(code="330203")] if i == 3 else ())
        if i == 1:
            services.escalate(world.xihu_transport, a, "升级")
    capture()  # warm-up: caches filled once per process
    rows_few, few = capture()
    for i in range(25):
        file(world, world.hz_firm, "energy" if i % 3 else "market")
    rows_many, many = capture()
    assert (rows_few, rows_many) == (5, 30)
    assert many == few


def test_handlers_and_chain_offices_see_the_board_as_the_roles_allow(world, client, make_user):
    client.force_login(world.hz_transport)
    assert client.get(reverse("appeals:board")).status_code == 404
    office = make_user(Role.CHAIN_OFFICE, "330000")
    office.chains.add(world.chain)
    member = file(world, world.hz_firm, "logistics")
    other = file(world, world.hz_firm2, "logistics")
    client.force_login(office)
    r = client.get(reverse("appeals:board"))
    assert r.status_code == 200 and numbers(r) == {member.tracking_number}
    assert other.tracking_number not in r.content.decode()


# --- routing table ----------------------------------------------------------------------------------


def _grid_post(client, changes: dict[tuple[str, str], str]):
    """Post the routing grid as the page would: every cell with its original value, some changed."""
    page = client.get(reverse("appeals:routing"))
    data = {}
    for row in page.context["grid"]:
        for cell in row["cells"]:
            data[cell["orig"]] = cell["stored"]
            data[cell["name"]] = cell["stored"]
    for (category, level), code in changes.items():
        data[f"cell-{category}-{level}"] = code
    return client.post(reverse("appeals:routing"), data)


def test_admin_changes_a_rule_and_a_new_appeal_follows_it(world, client):
    client.force_login(world.admin)
    page = client.get(reverse("appeals:routing"))
    assert page.status_code == 200
    cell = next(c for row in page.context["grid"] if row["category"] == "logistics" for c in row["cells"]
                if c["name"] == "cell-logistics-county")
    assert cell["stored"] == "transport"
    assert "department-table" in page.content.decode()

    before = AuditRecord.objects.filter(model="appeals.RoutingRule").count()
    r = _grid_post(client, {("logistics", "county"): "commerce", ("logistics", "city"): "", ("other", "city"): "economy"})
    assert r.status_code == 302
    assert RoutingRule.objects.get(category="logistics", level="county").department.code == "commerce"
    assert not RoutingRule.objects.filter(category="logistics", level="city").exists()
    records = AuditRecord.objects.filter(model="appeals.RoutingRule").order_by("seq")
    assert records.count() - before == 2  # other × city was already economy: unchanged, not audited
    assert {x.action for x in records[before:]} == {"update", "delete"}

    a = file(world, world.hz_firm, "logistics")
    assert (a.level, a.handling_region_id, a.department.code) == (Level.COUNTY, "330106", "commerce")
    up = file(world, world.hz_city_firm, "logistics")
    assert (up.level, up.department) == (Level.CITY, None)  # no rule any more: the city task force


def test_routing_save_is_all_or_nothing(world, client):
    client.force_login(world.admin)
    r = _grid_post(client, {("logistics", "county"): "commerce", ("labour", "county"): "no-such-department"})
    assert r.status_code == 400 and "no-such-department" in r.content.decode()
    assert RoutingRule.objects.get(category="logistics", level="county").department.code == "transport"
    assert RoutingRule.objects.get(category="labour", level="county").department.code == "hrss"
    # a cell changed by someone else since the page was loaded refuses the whole save
    page = client.get(reverse("appeals:routing"))
    data = {}
    for row in page.context["grid"]:
        for cell in row["cells"]:
            data[cell["orig"]] = data[cell["name"]] = cell["stored"]
    RoutingRule.objects.filter(category="energy", level="city").update(department=Department.objects.get(code="economy"))
    data["cell-energy-city"] = "science"
    data["cell-market-city"] = "economy"
    r = client.post(reverse("appeals:routing"), data)
    assert r.status_code == 400
    assert RoutingRule.objects.get(category="market", level="city").department.code == "commerce"
    assert RoutingRule.objects.get(category="energy", level="city").department.code == "economy"


def test_non_admins_cannot_see_or_change_the_routing_table(world, client):
    for user in (world.province, world.hz_transport, world.hz_enterprise):
        client.force_login(user)
        assert client.get(reverse("appeals:routing")).status_code == 404
        r = client.post(reverse("appeals:routing"), {"cell-logistics-county": "commerce",
                                                     "orig-logistics-county": "transport"})
        assert r.status_code == 404
        assert client.post(reverse("appeals:routing_department_add"), {"code": "x", "name": "X"}).status_code == 404
    assert RoutingRule.objects.get(category="logistics", level="county").department.code == "transport"
    assert not Department.objects.filter(code="x").exists()


def test_admin_adds_a_department_and_routes_to_it(world, client):
    client.force_login(world.admin)
    r = client.post(reverse("appeals:routing_department_add"),
                    {"code": "emergency", "name": "应急管理部门", "name_en": "Emergency", "order": 20})
    assert r.status_code == 302
    assert AuditRecord.objects.filter(model="appeals.Department", action="create").exists()
    again = client.post(reverse("appeals:routing_department_add"), {"code": "emergency", "name": "重复", "order": 1})
    assert again.status_code == 400 and Department.objects.filter(code="emergency").count() == 1
    assert _grid_post(client, {("epidemic", "county"): "emergency"}).status_code == 302
    a = file(world, world.hz_firm, "epidemic")
    assert a.department.code == "emergency"
    assert Appeal.objects.filter(department__code="emergency").count() == 1
    assert Status.SUBMITTED == a.status
