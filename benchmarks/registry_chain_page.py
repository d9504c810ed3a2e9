"""Benchmark: the chain page for a chain with 5,000 members (target: median server time under 300 ms).

Builds a fresh SQLite database in a temporary directory, a provincial chain of 5,000 members
(valid USCCs, three segments, owners, core suppliers) with about 20,000 supply links among them,
and a second chain of 500 members; renders each chain page with Django's test client signed in as
the provincial task force, and prints JSON: the median and 90th-percentile time of the whole
request (middleware, view, template) and the number of queries, which must be the same for both.

    .venv/bin/python benchmarks/registry_chain_page.py
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import tempfile
import time
from decimal import Decimal

TARGET_MS = 300
REQUESTS = 10
SIZES = (500, 5000)
LINKS_PER_MEMBER = 4


def setup_django(var_dir: str) -> None:
    """Point Gulian at an empty SQLite file in ``var_dir`` and migrate it."""
    os.environ["GULIAN_VAR_DIR"] = var_dir
    os.environ["GULIAN_DEMO"] = "1"
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gulian.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build_chain(size: int, tag: str, rng: random.Random):
    """A provincial chain of ``size`` members and about ``LINKS_PER_MEMBER * size`` links among them."""
    from gulian.core.models import Region
    from gulian.core.uscc import make
    from gulian.registry.models import Chain, Enterprise, MemberRole, Membership, Segment, SupplyLink
    from gulian.registry.scope import derive_scope

    zhejiang = list(
        Region.objects.filter(code__startswith="33", level="county").values_list("code", flat=True)
    )
    elsewhere = list(
        Region.objects.filter(code__regex=r"^(31|32|44)", level="county").values_list("code", flat=True)
    )
    chain = Chain.objects.create(
        code=f"bench-{tag}", name=f"基准产业链{size}", region_id="330000", leader="副省长"
    )
    segments = [
        Segment.objects.create(chain=chain, order=i, name=name)
        for i, name in enumerate(["原材料", "关键零部件", "系统集成", "整机制造", "应用服务"], start=1)
    ]
    firms = []
    for i in range(size):
        region = rng.choice(zhejiang) if rng.random() < 0.85 else rng.choice(elsewhere)
        firms.append(
            Enterprise(
                uscc=make(region, f"{tag}{i:07d}"),
                name=f"基准{tag}企业{i:05d}有限公司",
                region_id=region,
                scale=rng.choice(["large", "medium", "small", "micro"]),
                baseline_output=Decimal(int(rng.paretovariate(1.2) * 5_000_000)),
            )
        )
    firms += [
        Enterprise(name=f"Bench {tag} Foreign {i}", country=rng.choice(["JP", "DE", "US", "KR"]))
        for i in range(size // 50)
    ]
    firms = Enterprise.objects.bulk_create(firms, batch_size=1000)
    roles = [MemberRole.OWNER] * 5 + [MemberRole.CORE] * (size // 20)
    Membership.objects.bulk_create(
        (
            Membership(enterprise=f, chain=chain, segment=segments[i % len(segments)],
                       role=roles[i] if i < len(roles) else MemberRole.SUPPLIER)
            for i, f in enumerate(firms)
        ),
        batch_size=1000,
    )  # fmt: skip
    keys, links = set(), []
    while len(links) < LINKS_PER_MEMBER * size:
        s, c = rng.randrange(len(firms)), rng.randrange(size)  # customers are domestic members
        key = (s, c, rng.choice(["芯片", "钢材", "模组", "电池", "结构件"]))
        if s == c or key in keys:
            continue
        keys.add(key)
        sup, cus = firms[s], firms[c]
        links.append(
            SupplyLink(supplier=sup, customer=cus, input_category=key[2],
                       annual_value=Decimal(rng.randrange(100_000, 50_000_000)),
                       share=Decimal(rng.randrange(5, 100)) / 100, lead_time_days=rng.randrange(1, 60),
                       scope=derive_scope(sup.region_id, sup.country, cus.region_id))
        )  # fmt: skip
    SupplyLink.objects.bulk_create(links, batch_size=2000)
    return chain, len(firms), len(links)


def measure(client, url: str) -> dict:
    """Median and p90 of REQUESTS page loads after one warm-up, and the query count of one load."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(url)
    assert response.status_code == 200, response.status_code
    times = []
    for _ in range(REQUESTS):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    times.sort()
    html = response.content.decode()
    graph = json.loads(html.split('id="chain-graph-data" type="application/json">')[1].split("</script>")[0])
    return {
        "median_ms": round(statistics.median(times), 1),
        "p90_ms": round(times[int(0.9 * (len(times) - 1))], 1),
        "queries": len(ctx.captured_queries),
        "html_kb": round(len(response.content) / 1024, 1),
        "graph_nodes": len(graph["nodes"]),
        "graph_edges": len(graph["links"]),
    }


def run() -> dict:
    """Build the data, measure the chain pages, return the figures."""
    with tempfile.TemporaryDirectory(prefix="gulian-bench-") as var_dir:
        setup_django(var_dir)
        from django.test import Client

        from gulian.core.models import Role, User

        rng = random.Random(2020)
        user = User.objects.create_user("bench-province", password="bench-pass-123", role=Role.TASKFORCE,
                                        region_id="330000")  # fmt: skip
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        results = {}
        for size, tag in zip(SIZES, ("A", "B"), strict=True):
            build_start = time.perf_counter()
            chain, firms, links = build_chain(size, tag, rng)
            built = round(time.perf_counter() - build_start, 1)
            figures = measure(client, f"/registry/chains/{chain.pk}/")
            results[str(size)] = {"members": firms, "links": links, "build_s": built, **figures}
        big, small = results[str(SIZES[-1])], results[str(SIZES[0])]
        return {
            "benchmark": "registry_chain_page",
            "database": "sqlite",
            "python": sys.version.split()[0],
            "target_ms": TARGET_MS,
            "sizes": results,
            "meets_target": big["median_ms"] < TARGET_MS,
            "queries_constant": big["queries"] == small["queries"],
        }


if __name__ == "__main__":
    print(json.dumps(run(), ensure_ascii=False, indent=2))
