"""A finished scenario run's findings on the risk list (risk/run_items.py and its page button)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import reverse

from gulian.risk import run_items, runs
from gulian.risk.models import RiskItem, RunStatus
from tests.risk.scenario_fixtures import NINGBO_LOCKDOWN, with_values


@pytest.fixture
def done_run(two_cities):
    ns = with_values(two_cities)
    scenario = runs.create_scenario(ns.province, name="宁波封控", spec=NINGBO_LOCKDOWN)
    run = runs.execute(runs.queue_run(ns.province, scenario).pk, heartbeat=False)
    assert run.status == RunStatus.DONE, run.error
    ns.run = run
    return ns


def test_stalled_owners_cause_goes_on_the_chains_list_once(done_run):
    ns = done_run
    (item,) = run_items.create_items(ns.province, ns.run)
    assert item.source == "simulation" and item.enterprise == ns.nb_firm and item.chain == ns.chain
    assert item.region_id == "330000"  # the provincial chain's list
    assert list(item.affected_owners.all()) == [ns.hz_firm]
    assert item.days_to_impact == 5 and item.scope == "province" and item.severity == "high"
    assert item.evidence["run"] == ns.run.pk
    item.status = "in_progress"
    item.save()
    run_items.create_items(ns.province, ns.run)  # re-running updates, never duplicates or reopens
    assert RiskItem.objects.get(pk=item.pk).status == "in_progress"
    assert RiskItem.objects.filter(source="simulation").count() == 1


def test_only_the_runs_task_forces_and_only_finished_runs(done_run):
    ns = done_run
    with pytest.raises(Http404):
        run_items.create_items(ns.nb, ns.run)  # a Ningbo task force cannot change a provincial run
    queued = runs.queue_run(ns.province, ns.run.scenario)
    with pytest.raises(ValidationError):
        run_items.create_items(ns.province, queued)


def test_page_button_for_task_forces(done_run, client):
    ns = done_run
    client.force_login(ns.province)
    page = client.get(reverse("risk:run_detail", args=[ns.run.pk]))
    assert reverse("risk:run_create_items", args=[ns.run.pk]) in page.content.decode()
    response = client.post(reverse("risk:run_create_items", args=[ns.run.pk]))
    assert response.status_code == 302 and RiskItem.objects.filter(source="simulation").count() == 1
    client.force_login(ns.liaison_hz)  # readers see the run, not the button, and cannot post
    assert client.post(reverse("risk:run_create_items", args=[ns.run.pk])).status_code == 404
