"""Scenario pages: define, run in the background (here: in-process), progress JSON, results, scope."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from gulian.risk import runs
from gulian.risk.models import RunStatus, Scenario, ScenarioRun
from tests.conftest import next_uscc
from tests.risk.scenario_fixtures import NINGBO_LOCKDOWN, with_values


@pytest.fixture
def chain_net(two_cities):
    """two_cities with link values and inventories (tests/risk/scenario_fixtures.py)."""
    return with_values(two_cities)



def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def inline_runs(monkeypatch):
    """The run button executes the run in this process instead of a detached one (the test database)."""
    started = []

    def launch(run):
        started.append(run.pk)
        runs.execute(run.pk, heartbeat=False)

    monkeypatch.setattr(runs, "launch", launch)
    return started


FIELDS = {
    "name": "宁波封控两周", "regions": ["330200"], "start": "0", "lockdown_days": "14", "capacity_loss": "100",
    "recovery_kind": "immediate", "recovery_days": "0", "recovery_delay": "0", "steps": "30",
}  # fmt: skip


def test_define_run_and_see_results(chain_net, inline_runs):
    ns = chain_net
    c = client_for(ns.province)
    assert c.get(reverse("risk:scenario_list")).status_code == 200
    page = c.get(reverse("risk:scenario_create"))
    assert page.status_code == 200 and "330200 宁波市" in page.content.decode()
    r = c.post(reverse("risk:scenario_create"), {**FIELDS, "firm_stops": f"{ns.hz_firm2.uscc} 3"})
    assert r.status_code == 302, r.content.decode()[:2000]
    scenario = Scenario.objects.get()
    assert scenario.region_id == "330000"
    assert scenario.spec["lockdowns"] == [{"region_prefix": "3302", "days": 14, "capacity_loss": 1.0, "start": 0}]
    assert scenario.spec["firm_stops"][0]["firm"] == ns.hz_firm2.uscc and scenario.spec["firm_stops"][0]["days"] == 3
    detail = c.get(r["Location"])
    assert detail.status_code == 200 and 'id="run-form"' in detail.content.decode()
    r = c.post(reverse("risk:scenario_run", args=[scenario.pk]), {"threshold": "90", "chains": ["auto"]})
    run = ScenarioRun.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("risk:run_detail", args=[run.pk])
    assert inline_runs == [run.pk] and run.params["chains"] == ["auto"]
    status = c.get(reverse("risk:run_status", args=[run.pk])).json()
    assert status["status"] == RunStatus.DONE and status["progress"] == 1.0 and status["finished"]
    html = c.get(r["Location"]).content.decode()
    assert "杭州甲公司" in html and "宁波丙公司" in html and "第 5 天" in html
    assert reverse("registry:enterprise_detail", args=[ns.hz_firm.pk]) in html
    charts = json.loads(html.split('id="run-charts" type="application/json">')[1].split("</script>")[0])
    assert charts["chains"][0]["curve"][0] == 100.0 and any(r["code"] == "330200" for r in charts["regions"])
    maps = charts["maps"]  # China by province and Zhejiang by prefecture, from the shipped geoJSON
    assert maps["china_url"].endswith("gulian/maps/china.json") and maps["province"]["url"].endswith("gulian/maps/330000.json")
    assert [p["code"] for p in maps["china"]] == ["330000"] and maps["china"][0]["name"] == "浙江省"
    assert {p["code"] for p in maps["province"]["data"]} == {"330100", "330200"}
    assert 'id="loss-map-china"' in html and 'id="loss-map-province"' in html


def test_progress_page_while_running(chain_net):
    ns = chain_net
    run = runs.queue_run(ns.province, runs.create_scenario(ns.province, name="s", spec=NINGBO_LOCKDOWN))
    ScenarioRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, progress=0.4, message="仿真第 12/30 天")
    c = client_for(ns.hz)  # the run belongs to the province (330000): not visible to Hangzhou
    assert c.get(reverse("risk:run_detail", args=[run.pk])).status_code == 404
    c = client_for(ns.province)
    html = c.get(reverse("risk:run_detail", args=[run.pk])).content.decode()
    assert 'id="run-progress"' in html and reverse("risk:run_status", args=[run.pk]) in html
    assert c.get(reverse("risk:run_status", args=[run.pk])).json()["progress"] == 0.4


def test_failed_run_shows_the_error(chain_net, make_enterprise):
    ns = chain_net
    outsider = make_enterprise("330106", "链外企业")
    spec = {**NINGBO_LOCKDOWN, "firm_stops": [{"firm": outsider.uscc}]}
    run = runs.queue_run(ns.province, runs.create_scenario(ns.province, name="s", spec=spec))
    runs.execute(run.pk, heartbeat=False)
    html = client_for(ns.province).get(reverse("risk:run_detail", args=[run.pk])).content.decode()
    assert 'id="run-error"' in html and "not in the network" in html


@pytest.mark.parametrize(
    "changes, field, text",
    [
        ({"regions": []}, "regions", "choose regions to lock down"),
        ({"capacity_loss": "150"}, "capacity_loss", ""),
        ({"firm_stops": "1234"}, "firm_stops", "invalid USCC"),
        ({"firm_stops": "UNREGISTERED"}, None, "unregistered USCC"),
        ({"spec_text": "lockdowns: [{region_prefix: '33', days: 3}]"}, "spec_text", "lockdowns[0].capacity_loss"),
        ({"spec_text": "steps: 10\nfoo: 1"}, "spec_text", "unknown field"),
        ({"spec_text": "lockdowns: [\n"}, "spec_text", "not valid YAML or JSON"),
    ],
)
def test_form_errors(chain_net, changes, field, text):
    c = client_for(chain_net.province)
    if changes.get("firm_stops") == "UNREGISTERED":
        changes = {"firm_stops": next_uscc("330106")}  # valid, but no such enterprise
    r = c.post(reverse("risk:scenario_create"), {**FIELDS, **changes})
    assert r.status_code == 200 and not Scenario.objects.exists()
    form = r.context["form"]
    errors = " ".join(str(e) for e in (form.errors.get(field or "__all__") or []))
    assert errors and text in errors


def test_upload_a_spec_file(chain_net):
    c = client_for(chain_net.province)
    upload = SimpleUploadedFile("s.json", json.dumps(NINGBO_LOCKDOWN).encode(), content_type="application/json")
    r = c.post(reverse("risk:scenario_create"), {**FIELDS, "regions": [], "spec_file": upload})
    assert r.status_code == 302
    assert Scenario.objects.get().spec["lockdowns"][0]["days"] == 20


def test_scope_ningbo_cannot_see_or_run_hangzhou(chain_net, inline_runs):
    ns = chain_net
    scenario = runs.create_scenario(ns.hz, name="杭州情景", spec=NINGBO_LOCKDOWN)
    run = runs.queue_run(ns.hz, scenario)
    nb = client_for(ns.nb)
    for name, args in (("risk:scenario_detail", [scenario.pk]), ("risk:run_detail", [run.pk]), ("risk:run_status", [run.pk])):
        assert nb.get(reverse(name, args=args)).status_code == 404
    assert nb.post(reverse("risk:scenario_run", args=[scenario.pk]), {"threshold": "90"}).status_code == 404
    assert "杭州情景" not in nb.get(reverse("risk:scenario_list")).content.decode()
    assert inline_runs == [] and ScenarioRun.objects.count() == 1
    # a Hangzhou liaison reads the scenario but may not run it or define new ones
    liaison = client_for(ns.liaison_hz)
    page = liaison.get(reverse("risk:scenario_detail", args=[scenario.pk]))
    assert page.status_code == 200 and 'id="run-form"' not in page.content.decode()
    assert liaison.post(reverse("risk:scenario_run", args=[scenario.pk]), {"threshold": "90"}).status_code == 404
    assert liaison.get(reverse("risk:scenario_create")).status_code == 404
    # the Hangzhou task force runs it
    hz = client_for(ns.hz)
    assert hz.post(reverse("risk:scenario_run", args=[scenario.pk]), {"threshold": "90"}).status_code == 302
    assert len(inline_runs) == 1


def test_enterprise_users_get_404(chain_net):
    c = client_for(chain_net.hz_enterprise)
    assert c.get(reverse("risk:scenario_list")).status_code == 404
    assert c.get(reverse("risk:scenario_create")).status_code == 404
