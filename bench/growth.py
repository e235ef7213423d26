"""Growth (issue 19.4): do the console and retention stay as fast on a million items as on ten thousand?

    .venv/bin/python bench/growth.py [--no-record] [--samples 300] [--sizes 10000,1000000]

For each size, a fresh PostgreSQL database (migrated, then seeded in SQL by ``bench/growth_seed.py``: five
tenants, a year of items, analyses, decisions, reviews, audit entries, alerts) and three measurements, in this
process, through the read models the API calls (no HTTP: the figures are the database's and the read model's,
not uvicorn's):

- the review queue's first page of 50 (``review.backlog.page``, what GET /v1/review/queue returns; every
  tenant's items, as an admin's console opens it): p50 and p99 of ``--samples`` calls after 20 warm-up calls;
- the queue's counts per category (``review.backlog.by_category``, which the console's queue page shows
  beside it): p50 and p99 of ``--samples`` / 5 calls;
- an item's detail (``review.views.item_detail``, what GET /v1/items/{id} returns) for ``--samples`` items
  drawn at random over the whole table (most of them not in cache, as a console's links are): p50 and p99;
- retention's purge (``privacy.retention.purge``, batches of 500, with its count of what is due): items/s.
  10,000 items: every tenant; 1,000,000: the small tenant (0.2 % of the items, ~1,600 due), so the run takes
  seconds, not an hour: the rate is per item and its cost per batch does not depend on the tenant.

Each row holds the two sizes of one run side by side.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import common  # noqa: E402
from bench.growth_seed import libpq, seed  # noqa: E402

SECTION = common.Section(
    key="growth",
    title="## Growth: the console and retention on 10,000 vs 1,000,000 items (issue 19.4)",
    intro="""
Command: `.venv/bin/python bench/growth.py` (each size: a fresh PostgreSQL database, migrated and seeded in SQL by
`bench/growth_seed.py`: 5 tenants of very different sizes, a year of items, 70 % approved / 10 % rejected / 8 %
flagged, analyses and decisions for 30 %, reviews, ~2.7 audit entries per item, alerts; VACUUM ANALYZE).
Measured in-process through the read models the API calls (no HTTP): the review queue's first page of 50
(`review.backlog.page`, GET /v1/review/queue, every tenant) and an item's detail (`review.views.item_detail`,
GET /v1/items/{id}, items drawn at random over the table), p99 of 300 calls after 20 warm-up; the queue's
counts per category the console shows beside its first page (`review.backlog.by_category`, p99 of 60 calls); and
the purge rate of `privacy.retention.purge` (batches of 500, its count of what is due included): on 10,000 items
every tenant's due items, on 1,000,000 the small tenant's (0.2 % of the items).
""",
    columns=["date (UTC)", "machine", "queue page p99 ms: 10k / 1M", "queue counts p99 ms: 10k / 1M",
             "GET item p99 ms: 10k / 1M",
             "purge items/s: 10k / 1M", "seed 1M s"],
)


def runtime(url: str):
    from config.settings import Settings
    from moderation.bootstrap import InMemoryDispatcher, Runtime
    from moderation.domain import policy
    from tests.fakes.providers import RecordingPublisher

    settings = Settings(database_url=url, media_root=Path(tempfile.mkdtemp(prefix="modq_growth_")))
    return Runtime(settings, policy.load(settings.thresholds), InMemoryDispatcher(), RecordingPublisher())


def timed(calls, samples: int) -> list[float]:
    """Milliseconds of each call after 20 warm-up calls."""
    out = []
    for k in range(samples + 20):
        started = time.perf_counter()
        calls(k)
        if k >= 20:
            out.append((time.perf_counter() - started) * 1000)
    return out


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


def measure(n: int, samples: int, purge_tenant: int | None) -> dict[str, float]:
    import psycopg

    from moderation.domain.tenancy import EVERY_TENANT
    from moderation.privacy import retention
    from moderation.review import backlog
    from moderation.review.queries import QueueFilter
    from moderation.review.views import item_detail

    with common.temp_database("modq_growth") as url:
        seeded = seed(url, n, log=lambda line: print(f"  {line}", flush=True))
        rt = runtime(url)
        with psycopg.connect(libpq(url)) as conn:
            ids = [r[0] for r in conn.execute("SELECT id FROM items ORDER BY md5(id || 'pick') LIMIT %s",
                                              (samples + 20,))]
        rng = random.Random(19)
        rng.shuffle(ids)
        queue = timed(lambda k: backlog.page(rt, QueueFilter(scope=EVERY_TENANT), 50), samples)
        priorities = rt.active_policy().priorities
        counts = timed(lambda k: backlog.by_category(url, priorities, scope=EVERY_TENANT), max(samples // 5, 20))
        detail = timed(lambda k: item_detail(url, ids[k], scope=EVERY_TENANT), samples)
        started = time.perf_counter()
        report = retention.purge(rt, tenant_id=purge_tenant)
        seconds = time.perf_counter() - started
        result = {"queue_p50": statistics.median(queue), "queue_p99": p99(queue),
                  "counts_p50": statistics.median(counts), "counts_p99": p99(counts),
                  "detail_p50": statistics.median(detail), "detail_p99": p99(detail),
                  "purged": report.total, "purge_s": seconds, "purge_rate": report.total / seconds,
                  "batches": report.batches, "seed_s": sum(seeded.values())}
        print(f"  {n:,} items: {result}", flush=True)
        return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-record", action="store_true")
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--sizes", default="10000,1000000", help="two sizes: baseline, large")
    args = parser.parse_args()
    small, large = (int(x) for x in args.sizes.split(","))
    from moderation.infra import logs as modq_logs

    modq_logs.configure("json", "WARNING")
    info = common.machine_info()
    common.print_header("Growth: console and retention, 10k vs 1M items", info)
    base = measure(small, args.samples, purge_tenant=None)
    big = measure(large, args.samples, purge_tenant=5)
    def pair(key: str, digits: int = 1) -> str:  # one figure of both sizes, baseline first
        return f"{common.fmt(base[key], digits)} / {common.fmt(big[key], digits)}"

    machine = f"{info['cores']} cores, load {info['load'][0]:.2f}" + (" (loaded)" if common.loaded(info) else "")
    row = [info["date"], machine, pair("queue_p99"), pair("counts_p99"), pair("detail_p99"), pair("purge_rate", 0),
           common.fmt(big["seed_s"], 0)]
    details = [f"- Machine: {common.machine_line(info)}", f"- Versions: {common.versions_line(info)}",
               f"- Sizes: {small:,} and {large:,} items; {args.samples} timed calls each after 20 warm-up"]
    for name, r, n in (("baseline", base, small), ("large", big, large)):
        details.append(
            f"- {n:,} items ({name}): queue page p50 {r['queue_p50']:.1f} ms, p99 {r['queue_p99']:.1f} ms; "
            f"queue counts p50 {r['counts_p50']:.1f} ms, p99 {r['counts_p99']:.1f} ms; "
            f"item detail p50 {r['detail_p50']:.1f} ms, p99 {r['detail_p99']:.1f} ms; purge {r['purged']:,} items "
            f"in {r['batches']} batches, {r['purge_s']:.1f} s = {r['purge_rate']:.0f} items/s; "
            f"seeded in {r['seed_s']:.0f} s")
    details.append("- Load average at the end: " + "/".join(f"{x:.2f}" for x in os.getloadavg()))
    print("\n".join(details))
    if not args.no_record:
        common.record_rows(SECTION, [row], details)
    return 0


if __name__ == "__main__":
    sys.exit(main())
