"""In a real browser: log in through the form, open a chain page, see its members and graph, switch to English."""

from decimal import Decimal

import pytest

from gulian.core.models import Role, User
from gulian.registry.models import Chain, Enterprise, MemberRole, Membership, Segment
from tests.conftest import make_link, next_uscc

SCREENSHOT = "/tmp/chain_page.png"
PASSWORD = "pass-word-123"


def build_auto_chain() -> Chain:
    """A small provincial automotive chain: three segments, an owner, core suppliers, links of every scope."""
    chain = Chain.objects.create(code="ev", name="节能与新能源汽车", region_id="330000", leader="副省长 张某")
    segments = [
        Segment.objects.create(chain=chain, order=i, name=name)
        for i, name in enumerate(["原材料", "核心零部件", "整车制造"], start=1)
    ]
    counties = ["330106", "330110", "330203", "330282", "330402", "330602"]
    firms = []
    for i in range(36):
        firms.append(
            Enterprise.objects.create(
                uscc=next_uscc(counties[i % 6]),
                name=f"浙江测试{['材料', '电驱', '电池', '电子', '汽车'][i % 5]}{i + 1:02d}有限公司",
                region_id=counties[i % 6],
                baseline_output=Decimal(2_000_000_000 // (i + 1)),
            )
        )
    for i, firm in enumerate(firms):
        role = MemberRole.OWNER if i < 2 else MemberRole.CORE if i < 8 else MemberRole.SUPPLIER
        segment = segments[2] if i < 2 else segments[1] if i % 2 else segments[0]
        Membership.objects.create(enterprise=firm, chain=chain, segment=segment, role=role)
    foreign = Enterprise.objects.create(name="Infineon Technologies", country="DE")
    shanghai = Enterprise.objects.create(
        uscc=next_uscc("310115"), name="上海芯片有限公司", region_id="310115"
    )
    for i, firm in enumerate(firms[2:], start=2):
        make_link(firm, firms[i % 2], f"部件{i}", annual_value=Decimal(1_000_000 * (40 - i)))
        if i % 3 == 0:
            make_link(firms[i - 1], firm, "材料", annual_value=Decimal(300_000 * i))
    make_link(foreign, firms[0], "功率芯片", annual_value=Decimal(90_000_000))
    make_link(shanghai, firms[1], "控制芯片", annual_value=Decimal(40_000_000))
    return chain


@pytest.mark.browser
def test_login_open_chain_page_and_switch_language(
    transactional_db, live_server, page
):
    chain = build_auto_chain()
    User.objects.create_user("zhuanban", password=PASSWORD, role=Role.TASKFORCE, region_id="330000",
                             first_name="省专班")  # fmt: skip

    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "zhuanban")
    page.fill("#id_password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    assert "工作台" in page.inner_text("main")

    page.goto(f"{live_server.url}/registry/chains/{chain.pk}/")
    assert page.inner_text("#chain-name") == "节能与新能源汽车"
    main = page.inner_text("main")
    for text in (
        "原材料",
        "核心零部件",
        "整车制造",
        "链主企业",
        "核心配套企业",
        "配套企业",
        "浙江测试材料01有限公司",
    ):
        assert text in main
    assert page.inner_text("#member-count") == "36"
    # ECharts drew the graph into a canvas inside the container, with every member as a node
    page.wait_for_selector("#chain-graph canvas", state="attached", timeout=15_000)
    size = page.eval_on_selector("#chain-graph canvas", "c => [c.width, c.height]")
    assert size[0] > 300 and size[1] > 300
    nodes = page.evaluate(
        "() => echarts.getInstanceByDom(document.getElementById('chain-graph')).getOption().series[0].data.length"
    )
    assert nodes == 36
    page.wait_for_timeout(2500)  # let the force layout settle before the screenshot
    page.screenshot(path=SCREENSHOT, full_page=True)

    # removing a member: htmx posts with the CSRF header from <body hx-headers> and drops the row in place
    rows = page.locator("ul.members li:has(button.rm)")
    before = rows.count()
    page.once("dialog", lambda dialog: dialog.accept())
    rows.last.locator("button.rm").click()
    page.wait_for_function(f"document.querySelectorAll('ul.members li:has(button.rm)').length === {before - 1}")
    assert Membership.objects.filter(chain=chain).count() == 35

    page.click("#language-switch button")
    page.wait_for_selector("html[lang=en]")
    assert page.inner_text("#language-switch button") == "中文"
    assert page.url.endswith(f"/registry/chains/{chain.pk}/")
    assert page.inner_text("#chain-name") == "节能与新能源汽车"  # data stays as entered
