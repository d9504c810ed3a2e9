"""200 concurrent submissions end as exactly 200 appeals with 200 unique tracking numbers (SQLite and PostgreSQL).

Each worker thread has its own database connection (closed when its submission is done), as the
requests of a threaded server do. Retries of one client token racing each other file one appeal.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from gulian.appeals import services
from gulian.appeals.models import Appeal, AppealEvent, EventKind
from gulian.core.models import Role
from tests.core.test_api import TokenClient

N = 200
WORKERS = 20
PLACES = ["杭州湾", "萧山", "余杭", "滨江", "西湖", "拱墅", "上城", "临平", "钱塘", "富阳"]
PROBLEMS = ["货车无法进出园区", "一线工人缺口较大", "流动资金周转困难", "芯片断供", "口罩库存不足",
            "环评审批停滞", "用电指标不足", "设备调试缺少专家", "海外订单取消", "稳岗补贴未到位"]  # fmt: skip


def _text(i: int) -> str:
    """Distinct texts (so the near-duplicate check has work to do without flagging every one)."""
    return f"{PLACES[i % 10]}厂区{PROBLEMS[(i // 10) % 10]}，第{i}号诉求，涉及订单{i * 37 % 1000}件"


def _run_all(work, n: int, workers: int = WORKERS) -> list:
    """Run ``work(i)`` for i < n on a pool of threads, each closing its connections after each call."""
    start = threading.Barrier(workers)
    started = threading.local()

    def call(i: int):
        if not getattr(started, "done", False):  # release the first round together
            started.done = True
            start.wait(timeout=30)
        try:
            return work(i)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(call, range(n)))  # re-raises the first failure


@pytest.fixture
def filers(make_user, make_enterprise):
    """Ten enterprises in Xihu, each with its own enterprise user."""
    firms = [make_enterprise("330106", f"并发测试企业{k}") for k in range(10)]
    users = [make_user(Role.ENTERPRISE, "330106", enterprise=f) for f in firms]
    return list(zip(users, firms, strict=True))


@pytest.mark.django_db(transaction=True)
def test_200_concurrent_submissions_are_200_appeals_with_unique_numbers(filers):
    def submit(i: int) -> tuple[int, str, bool]:
        user, firm = filers[i % len(filers)]
        result = services.submit(user, enterprise=firm, title=f"诉求{i}", text=_text(i), client_token=f"c-{i}",
                                 category="logistics" if i % 2 else "")
        return result.appeal.pk, result.appeal.tracking_number, result.created

    results = _run_all(submit, N)
    assert len(results) == N and all(created for _pk, _number, created in results)
    numbers = [number for _pk, number, _created in results]
    assert all(numbers) and len(set(numbers)) == N  # every submission acknowledged with its own number
    stored = dict(Appeal.objects.values_list("pk", "tracking_number"))
    assert len(stored) == N and stored == {pk: number for pk, number, _created in results}
    # every one has its intake events and deadlines
    assert AppealEvent.objects.filter(kind=EventKind.SUBMITTED).count() == N
    assert not Appeal.objects.filter(accept_due__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_racing_retries_of_one_token_file_one_appeal(filers):
    user, firm = filers[0]

    def submit(i: int) -> tuple[int, bool]:
        result = services.submit(user, enterprise=firm, title="物流受阻", text=_text(0), client_token="retry-1")
        return result.appeal.pk, result.created

    results = _run_all(submit, 40, workers=10)
    assert len({pk for pk, _created in results}) == 1
    assert sum(created for _pk, created in results) == 1
    assert Appeal.objects.count() == 1 and AppealEvent.objects.filter(kind=EventKind.SUBMITTED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_through_the_api(filers):
    """The same through POST /api/appeals: 201 for each new key, 200 for the retries, nothing lost."""
    keys = {user.pk: TokenClient(user).key for user, _firm in filers}  # issued before the threads start

    def post(i: int) -> tuple[int, dict]:
        user, _firm = filers[i % len(filers)]
        client = TokenClient(user, keys[user.pk])
        r = client.client.post("/api/appeals", {"text": _text(i % 60)}, content_type="application/json",
                               HTTP_IDEMPOTENCY_KEY=f"api-{i % 60}")
        return r.status_code, r.json()

    results = _run_all(post, 120, workers=12)
    assert {status for status, _body in results} <= {200, 201}
    assert sum(status == 201 for status, _body in results) == 60
    by_key: dict[int, set[str]] = {}
    for i, (_status, body) in enumerate(results):
        by_key.setdefault(i % 60, set()).add(body["tracking_number"])
    assert all(len(numbers) == 1 for numbers in by_key.values())
    assert Appeal.objects.count() == 60
    assert set(Appeal.objects.values_list("tracking_number", flat=True)) == set().union(*by_key.values())
