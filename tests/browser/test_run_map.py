"""In a real browser: a finished scenario run shows its maps of lost output (China by province, Zhejiang by
prefecture) drawn by ECharts from the shipped geoJSON, with no JavaScript error."""

from decimal import Decimal

import pytest
from django.urls import reverse

from gulian.risk import runs
from tests.conftest import make_link
from tests.risk.scenario_fixtures import NINGBO_LOCKDOWN, with_values

SCREENSHOT = "/tmp/run_map.png"
PASSWORD = "pass-word-123"


@pytest.mark.browser
def test_run_page_draws_the_loss_maps(
    transactional_db, live_server, page, two_cities, make_enterprise
):
    ns = with_values(two_cities)
    # out-of-province and other-prefecture suppliers, so that several provinces and prefectures lose output
    for region, name, value in (("310115", "上海芯片有限公司", "730000"), ("320506", "苏州材料有限公司", "365000"),
                                ("330302", "温州电器有限公司", "547500")):  # fmt: skip
        supplier = make_enterprise(region, name, baseline_output=Decimal(value) * 4)
        make_link(supplier, ns.nb_firm, "零件", annual_value=Decimal(value), inventory_days=Decimal("10"))
    scenario = runs.create_scenario(ns.province, name="宁波封控", spec=NINGBO_LOCKDOWN)
    run = runs.execute(runs.queue_run(ns.province, scenario).pk, heartbeat=False)
    assert run.status == "done", run.error
    lost = {r["code"][:2] for r in run.result["regions"] if r["lost_output"] > 0}
    assert {"31", "32", "33"} <= lost

    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    # failed requests are checked by URL below (the browser's own /favicon.ico probe is no error of ours)
    page.on("console", lambda msg: errors.append(f"console.{msg.type}: {msg.text}")
            if msg.type in ("error", "warning") and not msg.text.startswith("Failed to load resource") else None)
    page.on("response", lambda r: errors.append(f"HTTP {r.status}: {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", ns.province.username)
    page.fill("#id_password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    page.goto(live_server.url + reverse("risk:run_detail", args=[run.pk]))
    page.wait_for_selector("#loss-map-china[data-ready]", state="attached", timeout=15_000)
    page.wait_for_selector("#loss-map-province[data-ready]", state="attached", timeout=15_000)
    assert "浙江省（按地市）" in page.inner_text("#loss-maps")
    # every province and prefecture of the run matched a map feature by its GB/T 2260 code
    provinces = {r["code"][:2] for r in run.result["regions"] if r["code"] != "000000"}
    assert page.get_attribute("#loss-map-china", "data-regions") == str(len(provinces))
    prefectures = {r["code"] for r in run.result["regions"] if r["code"].startswith("33")}
    assert page.get_attribute("#loss-map-province", "data-regions") == str(len(prefectures))
    # ECharts decoded the compressed geoJSON and drew a path per region (34 provinces + the 南海诸岛 inset;
    # Zhejiang's 11 prefectures); the ECharts map registry holds the decoded features
    china_paths = page.eval_on_selector("#loss-map-china svg", "s => s.querySelectorAll('path').length")
    zj_paths = page.eval_on_selector("#loss-map-province svg", "s => s.querySelectorAll('path').length")
    assert china_paths >= 34 and zj_paths >= 11
    hz = page.evaluate(
        "() => echarts.getInstanceByDom(document.getElementById('loss-map-province'))"
        ".getOption().series[0].data.find(d => d.code === '330100')"
    )
    assert hz["label"] == "杭州市" and hz["name"] == "杭州市" and hz["value"] > 0
    shanghai = page.evaluate(
        "() => echarts.getInstanceByDom(document.getElementById('loss-map-china'))"
        ".getOption().series[0].data.find(d => d.code === '310000')"
    )
    assert shanghai["label"] == "上海市" and shanghai["name"] == "上海" and shanghai["value"] > 0
    # the bar chart and the table stay as the accessible alternative
    assert page.locator("#region-losses svg").count() == 1
    assert "宁波市" in page.inner_text("#region-table")
    page.screenshot(path=SCREENSHOT, full_page=True)
    assert errors == []
