"""Scenario pages (情景仿真): list, define, detail with past runs, start a run, run progress and results.

Officials and administrators read scenarios and runs of their region subtree (others get 404, as an
out-of-scope record); task forces and administrators define and run them. A run is started as a
detached ``gulian risk run ID`` process (gulian.risk.runs.launch); its page polls ``run_status``
(JSON) and reloads when the run is done. Every read goes through restrict().
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gulian.core.services import get_scoped
from gulian.engine.scenario import dumps, load_scenario
from gulian.registry.io.access import pks_within
from gulian.registry.models import Enterprise
from gulian.risk import run_items, runs
from gulian.risk.access import may_change, risk_page
from gulian.risk.forms_scenarios import RECOVERY_LABELS, RunForm, ScenarioForm
from gulian.risk.models import RunStatus, Scenario, ScenarioRun
from gulian.risk.run_summary import ABROAD, loss_maps

RUNS_SHOWN = 20






@risk_page
@require_GET
def scenario_list(request):
    """Scenarios in scope, newest first, with their latest run."""
    scenarios = list(Scenario.objects.restrict(request.user, "view").select_related("region")[:200])
    visible_runs = ScenarioRun.objects.restrict(request.user, "view").filter(scenario__in=scenarios)
    runs.mark_stale(visible_runs)
    latest: dict[int, ScenarioRun] = {}
    for run in visible_runs.order_by("scenario_id", "-created_at"):
        latest.setdefault(run.scenario_id, run)
    rows = [{"scenario": s, "run": latest.get(s.pk)} for s in scenarios]
    return render(request, "risk/scenario_list.html", {"rows": rows, "can_create": may_change(request.user)})


@risk_page
@require_http_methods(["GET", "POST"])
def scenario_create(request):
    """GET: the form; POST: save the scenario (and start a first run when asked)."""
    if not may_change(request.user):
        raise Http404("未找到 / not found")
    form = ScenarioForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            scenario = runs.create_scenario(
                request.user, name=form.cleaned_data["name"], spec=form.cleaned_data["spec"],
                description=form.cleaned_data.get("description") or "",
            )  # fmt: skip
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("情景已保存 / scenario saved"))
            return redirect("risk:scenario_detail", pk=scenario.pk)
    return render(request, "risk/scenario_form.html", {"form": form})


def _spec_rows(spec: dict) -> dict:
    """Display values of a spec (percentages, recovery label)."""
    rec = spec.get("recovery") or {}
    return {
        "lockdowns": [{**lk, "loss_pct": round(lk.get("capacity_loss", 0) * 100, 1)} for lk in spec.get("lockdowns", [])],
        "firm_stops": [{**s, "loss_pct": round(s.get("capacity_loss", 1) * 100, 1)} for s in spec.get("firm_stops", [])],
        "link_cuts": spec.get("link_cuts", []),
        "recovery": {**rec, "label": RECOVERY_LABELS.get(rec.get("kind", "none"), rec.get("kind"))},
        "steps": spec.get("steps"),
    }


@risk_page
@require_GET
def scenario_detail(request, pk: int):
    """The scenario's definition, its runs and (for task forces) the run form."""
    scenario = get_scoped(Scenario.objects.select_related("region", "created_by"), request.user, "view", pk=pk)
    visible_runs = ScenarioRun.objects.restrict(request.user, "view").filter(scenario=scenario)
    runs.mark_stale(visible_runs)
    can_run = may_change(request.user) and Scenario.objects.restrict(request.user, "change").filter(pk=pk).exists()
    context = {
        "scenario": scenario,
        "spec": _spec_rows(scenario.spec),
        "spec_text": dumps(load_scenario(scenario.spec)),
        "runs": visible_runs.select_related("created_by")[:RUNS_SHOWN],
        "can_run": can_run,
        "run_form": RunForm(user=request.user, scenario=scenario) if can_run else None,
    }
    return render(request, "risk/scenario_detail.html", context)


@risk_page
@require_POST
def scenario_run(request, pk: int):
    """Queue a run of the scenario and start its background process."""
    scenario = get_scoped(Scenario.objects.select_related("region"), request.user, "change", pk=pk)
    if not may_change(request.user):
        raise Http404("未找到 / not found")
    form = RunForm(request.POST, user=request.user, scenario=scenario)
    if not form.is_valid():
        for errors in form.errors.values():
            for e in errors:
                messages.error(request, e)
        return redirect("risk:scenario_detail", pk=pk)
    try:
        run = runs.queue_run(
            request.user, scenario, chains=form.cleaned_data["chains"],
            options={"threshold": form.cleaned_data["threshold"] / 100.0},
        )  # fmt: skip
    except runs.RunError as exc:
        messages.error(request, str(exc))
        return redirect("risk:scenario_detail", pk=pk)
    runs.launch(run)
    return redirect("risk:run_detail", pk=run.pk)


def _status(run: ScenarioRun) -> dict:
    return {
        "id": run.pk,
        "status": run.status,
        "status_label": run.get_status_display(),
        "progress": run.progress,
        "message": run.message,
        "error": run.error,
        "finished": run.status in (RunStatus.DONE, RunStatus.FAILED),
        "url": reverse("risk:run_detail", args=[run.pk]),
    }


@risk_page
@require_GET
def run_status(request, pk: int):
    """JSON progress of a run (polled by the run page)."""
    runs.mark_stale(ScenarioRun.objects.restrict(request.user, "view").filter(pk=pk))
    run = get_scoped(ScenarioRun.objects.all(), request.user, "view", pk=pk)
    return JsonResponse(_status(run))


def _visible(user, result: dict) -> set[int]:
    ids = {o["enterprise"]["id"] for o in result.get("owners", [])}
    ids |= {o[k]["id"] for o in result.get("owners", []) for k in ("direct", "root") if o.get(k)}
    return pks_within(Enterprise.objects.restrict(user, "view"), ids)


@risk_page
@require_GET
def run_detail(request, pk: int):
    """Progress while the run is going; its results when done."""
    runs.mark_stale(ScenarioRun.objects.restrict(request.user, "view").filter(pk=pk))
    run = get_scoped(ScenarioRun.objects.select_related("scenario", "region", "created_by"), request.user, "view", pk=pk)
    result = run.result if run.status == RunStatus.DONE else {}
    for r in result.get("regions", []):  # the stored label is bilingual; show the page's language
        if r["code"] == ABROAD:
            r["name"] = _("境外/未知 / abroad or unknown")
    chains_by_code = {c["code"]: c["name"] for c in result.get("chains", [])}
    owners = [
        {**o, "chain_names": "、".join(chains_by_code.get(c, c) for c in o["chains"]),
         "cause": o["root"] or o["direct"], "direct_differs": bool(o["direct"] and o["root"] and o["direct"]["id"] != o["root"]["id"])}
        for o in result.get("owners", [])
    ]  # fmt: skip
    charts = {
        "days": [_("基准")] + list(range(result.get("steps", 0))),
        "threshold": round(result.get("threshold", 0.9) * 100, 1),
        "total": result.get("totals", {}).get("curve", []),
        "chains": [{"name": c["name"], "curve": c["curve"]} for c in result.get("chains", [])],
        "regions": [{"code": r["code"], "name": r["name"], "lost": r["lost_output"]} for r in result.get("regions", [])
                    if r["lost_output"] > 0][:30],
    }  # fmt: skip
    if result:
        maps = loss_maps(result.get("regions", []), run.region_id[:2] + "0000")
        maps["china_url"] = static("gulian/maps/china.json")
        if maps["province"]:
            maps["province"]["url"] = static(f"gulian/maps/{maps['province']['code']}.json")
        charts["maps"] = maps
    context = {
        "run": run,
        "status": _status(run),
        "result": result,
        "owners": owners,
        "visible": _visible(request.user, result) if result else set(),
        "charts": charts,
        "can_create_items": bool(result) and may_change(request.user)
        and ScenarioRun.objects.restrict(request.user, "change").filter(pk=pk).exists(),
    }
    return render(request, "risk/run_detail.html", context)


@risk_page
@require_POST
def run_create_items(request, pk: int):
    """Put a finished run's stalled owners' causes on the risk list (task forces); back to the run."""
    if not may_change(request.user):
        raise Http404("未找到 / not found")
    run = get_scoped(ScenarioRun.objects, request.user, "change", pk=pk)
    try:
        items = run_items.create_items(request.user, run)
    except ValidationError as e:
        messages.error(request, "; ".join(e.messages))
    else:
        messages.success(
            request,
            ngettext("已登记或更新 %(n)d 条风险清单条目", "已登记或更新 %(n)d 条风险清单条目", len(items))
            % {"n": len(items)},
        )
    return redirect("risk:run_detail", pk=run.pk)
