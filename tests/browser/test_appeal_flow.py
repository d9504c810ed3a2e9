"""In a real browser: an enterprise files an appeal (category chip from the live suggestion, an attachment)
and sees its tracking number; the county's transport handler accepts and answers it; the enterprise
confirms with a rating. No JavaScript error, no failed request."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from gulian.appeals import classifier
from gulian.appeals.models import Appeal, Status
from gulian.core.models import Role

PASSWORD = "pass-word-123"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
SCREENSHOT = "/tmp/appeal_detail.png"


def _watch(tab, errors: list[str]) -> None:
    tab.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    tab.on("console", lambda msg: errors.append(f"console.{msg.type}: {msg.text}")
            if msg.type == "error" and not msg.text.startswith("Failed to load resource") else None)
    tab.on("response", lambda r: errors.append(f"HTTP {r.status}: {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)


def _login(tab, base: str, user) -> None:
    tab.goto(f"{base}/login/")
    tab.fill("#id_username", user.username)
    tab.fill("#id_password", PASSWORD)
    tab.click("#login-form button[type=submit]")
    tab.wait_for_url(f"{base}/")


@pytest.mark.browser
def test_file_accept_resolve_confirm(transactional_db, live_server, browser, page, two_cities, make_user):  # noqa: F811
    ns = two_cities
    handler = make_user(Role.HANDLER, "330106", department="transport")
    # without a saved model the classifier fits one on first use (seconds): do it before the page waits for chips
    classifier.suggest("货车通行")
    base = live_server.url
    errors: list[str] = []
    _watch(page, errors)

    # the enterprise files
    _login(page, base, ns.hz_enterprise)
    page.click("nav.nav >> text=我的诉求")
    page.click("#new-appeal")
    page.wait_for_selector("#fixed-enterprise")
    assert ns.hz_firm.name in page.inner_text("#fixed-enterprise")
    page.fill("#id_title", "货车无法进出园区")
    page.fill("#id_text", "园区道路封闭，运输原材料的货车无法进出，物流中断，急需办理车辆通行证")
    chip = page.wait_for_selector("#suggestions .chip", timeout=10_000)
    category = chip.get_attribute("data-category")
    chip.click()
    assert page.input_value("#id_category") == category
    page.select_option("#id_urgency", "urgent")
    page.set_input_files("#id_attachments", files=[{"name": "通行证申请.pdf", "mimeType": "application/pdf",
                                                    "buffer": PDF}])
    page.click("#submit-appeal")
    page.wait_for_url(re.compile(r"/appeals/\d+/$"))
    appeal = Appeal.objects.get()
    tracking = page.inner_text("#tracking-number")
    assert tracking == appeal.tracking_number and tracking.startswith("SQ")
    assert tracking in page.inner_text("ul.messages")
    assert appeal.category == category and appeal.attachments.get().name == "通行证申请.pdf"
    assert page.get_attribute("#appeal-status", "data-status") == Status.SUBMITTED
    detail = reverse("appeals:appeal_detail", args=[appeal.pk])

    # the department handler accepts and answers
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    try:
        officer = context.new_page()
        _watch(officer, errors)
        _login(officer, base, handler)
        officer.goto(base + detail)
        assert "通行证申请.pdf" in officer.inner_text("#attachments")
        officer.click("#step-accept button")
        officer.wait_for_selector("#appeal-status[data-status=accepted]")
        officer.click("#step-resolve summary")
        officer.fill("#step-resolve textarea[name=reply]", "已为贵司办理货车通行证 6 张，可凭证通行")
        officer.click("#step-resolve button[type=submit]")
        officer.wait_for_selector("#appeal-status[data-status=resolved]")
        assert "已答复" in officer.inner_text("ul.messages")
    finally:
        context.close()

    # the enterprise reads the reply and confirms with a rating
    page.goto(base + detail)
    assert "已为贵司办理货车通行证 6 张" in page.inner_text("#appeal-reply")
    page.click("#step-confirm summary")
    page.check("#step-confirm input[name=rating][value='5']")
    page.fill("#step-confirm textarea[name=comment]", "办理迅速")
    page.click("#step-confirm button[type=submit]")
    page.wait_for_selector("#appeal-status[data-status=confirmed]")
    assert "5/5" in page.inner_text("#appeal-rating")
    kinds = page.eval_on_selector_all("#appeal-timeline li[data-event]", "els => els.map(e => e.dataset.event)")
    assert kinds == ["submitted", "routed", "accepted", "resolved", "confirmed"]
    page.screenshot(path=SCREENSHOT, full_page=True)
    appeal.refresh_from_db()
    assert (appeal.status, appeal.rating, appeal.rating_comment) == (Status.CONFIRMED, 5, "办理迅速")
    assert errors == []
