"""Metric names in the docs are ones modq exports, and docs/performance.md's table lists every one."""

from __future__ import annotations

import re

from prometheus_client import Counter, Histogram

from moderation.infra import metrics
from moderation.ops import collectors
from tests.unit.docs import pages
from worker.app import QUEUES

PERFORMANCE = pages.REPO / "docs" / "performance.md"


def families(monkeypatch, database_url: str) -> dict[str, set[str]]:
    """Each exported family -> the sample names Prometheus sees for it (``_total``, ``_bucket``, ...)."""
    found = {}
    for metric in vars(metrics).values():
        if not isinstance(metric, (Counter, Histogram)):
            continue
        (family,) = metric.describe()
        if family.type == "counter":
            found[family.name + "_total"] = {family.name + "_total"}
        else:
            found[family.name] = {family.name + s for s in ("", "_bucket", "_sum", "_count")}
    # The scrape-time gauges, from a migrated database and a broker answering (stood in for).
    monkeypatch.setattr(collectors, "queue_depths", lambda url, queues, **k: ({q: 0 for q in queues}, 0))
    for family in collectors.StateCollector(database_url, "redis://", QUEUES).collect():
        found[family.name] = {family.name}
    return found


def documented_table() -> set[str]:
    section = pages.text(PERFORMANCE).split("### Prometheus metrics", 1)[1].split("\n#", 1)[0]
    return {m for line in section.splitlines() if line.startswith("| `") for m in re.findall(r"^\| `(modq_\w+)`", line)}


def test_the_exported_families_are_found(monkeypatch, sqlite_url):
    assert {"modq_items_decided_total", "modq_provider_latency_seconds", "modq_queue_depth",
            "modq_state_up"} <= set(families(monkeypatch, sqlite_url))


def test_performance_md_lists_every_exported_metric_and_no_other(monkeypatch, sqlite_url):
    assert documented_table() == set(families(monkeypatch, sqlite_url))


def test_every_metric_the_docs_name_is_exported(monkeypatch, sqlite_url):
    samples = set().union(*families(monkeypatch, sqlite_url).values())
    named = {(m, pages.name(page)) for page in pages.PAGES
             for m in re.findall(r"\bmodq_[a-z0-9_]*[a-z0-9]\b", pages.text(page))}
    assert sorted((m, page) for m, page in named if m not in samples) == []
