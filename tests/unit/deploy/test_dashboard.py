"""deploy/grafana: every query of the modq dashboard names series, labels and label values that modq exports.

What modq exports is read from the code, not from a list kept here: one event of
each kind goes through the functions that count them in production
(``metrics.item_decided``, a provider wrapped by ``providers.instrumented``,
``metrics.s3_event``), and the registry a worker serves (``metrics.registry``
with the ``StateCollector``) is rendered and parsed back. Only the collector's
sources (Redis, the database) are stubbed.
"""

from __future__ import annotations

import json
from datetime import timedelta

import promql_parser
import pytest
import yaml
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from moderation.infra import metrics
from moderation.infra.clock import utcnow
from moderation.items import models as m
from moderation.ops import collectors
from moderation.review import backlog
from moderation.providers import instrumented
from moderation.privacy import retention
from moderation.transparency import submission
from tests.conftest import REPO
from worker.app import QUEUES

GRAFANA = REPO / "deploy" / "grafana"
DASHBOARD = json.loads((GRAFANA / "dashboards" / "modq.json").read_text())
DATASOURCES = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text())
PROMETHEUS = yaml.safe_load((REPO / "deploy" / "prometheus" / "prometheus.yml").read_text())
PROBE = "dashboard-probe"  # provider label of the events this test counts; other tests read their own labels
# Grafana replaces these before Prometheus sees a query.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "15s", "$__range": "6h"}
# Series that prometheus_client exports in one process but a prefork worker (multiprocess mode) does not.
NOT_FROM_WORKERS = ("_created",)
# Label values the code can produce, where it names them in one place.
LABEL_VALUES = {"verdict": set(m.TERMINAL), "operation": set(instrumented.OPERATIONS.values()),
                "queue": set(QUEUES)}


def _panels(panels: list[dict]):
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))


PANELS = [p for p in _panels(DASHBOARD["panels"]) if p["type"] != "row"]
QUERIES = [(p["title"], t["expr"]) for p in PANELS for t in p.get("targets", [])]


def _target_labels() -> set[str]:
    """Labels Prometheus adds to every series it scrapes: job, instance, and those the relabelling sets."""
    labels = {"job", "instance"}
    for job in PROMETHEUS["scrape_configs"]:
        labels |= {rule["target_label"] for rule in job.get("relabel_configs", []) if "target_label" in rule}
    return labels


class _Provider:
    name = PROBE

    def analyze_image(self, *_args):
        return None


@pytest.fixture(scope="module")
def exported() -> dict[str, set[str]]:
    """Every series a worker's exporter serves: sample name -> label names."""
    decided = utcnow()
    metrics.item_decided(m.APPROVED, PROBE, "image", decided - timedelta(seconds=2), decided)
    instrumented.InstrumentedProvider(_Provider(), {(PROBE, "DetectModerationLabels"): 0.001}).analyze_image()
    metrics.s3_event("created", PROBE)
    submission.counted(submission.Summary(sent=1))
    retention.counted("approved_days", 1, 0)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(collectors, "queue_depths", lambda *_a, **_k: ({q: 3 for q in QUEUES}, 1))
        patch.setattr(collectors, "database_state", lambda _url, _priorities: {
            "outbox_backlog": 2, "outbox_oldest_age_seconds": 5.0, "video_jobs_in_flight": 1,
            "in_flight": {status: collectors.Waiting(1, 5.0) for status in m.IN_FLIGHT},
            "review": {verdict: collectors.Waiting(1, 5.0) for verdict in (m.FLAGGED, m.REJECTED)},
            "review_by_category": [backlog.Waiting("Self-Harm", 1, m.FLAGGED, 1, 5.0)]})
        text = generate_latest(metrics.registry(collectors.StateCollector("sqlite://", "redis://", QUEUES))).decode()
    series: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        # A labelled metric shows its series only once counted: count one event of a new metric above.
        assert family.samples or not family.name.startswith("modq_"), f"{family.name}: no event counted here"
        for sample in family.samples:
            if sample.name.startswith("modq_") and not sample.name.endswith(NOT_FROM_WORKERS):
                series.setdefault(sample.name, set()).update(sample.labels)
    return series


def _parse(expr: str):
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    return promql_parser.parse(expr)


def _selectors(node) -> list:
    found = []
    promql_parser.walk(node, lambda n, *_: found.append(n) if isinstance(n, promql_parser.VectorSelector) else None)
    return found


def _name(selector) -> str | None:
    names = [mt.value for mt in selector.matchers.matchers
             if mt.name == "__name__" and mt.op == promql_parser.MatchOp.Equal]
    return selector.name or (names[0] if names else None)


def _problems(expr: str, exported: dict[str, set[str]]) -> list[str]:
    tree, extra = _parse(expr), _target_labels()
    problems = []
    for selector in _selectors(tree):
        name = _name(selector)
        if name not in exported:
            problems.append(f"{name!r} is not a series modq exports")
            continue
        for matcher in selector.matchers.matchers:
            if matcher.name == "__name__":
                continue
            if matcher.name not in exported[name] | extra:
                problems.append(f"{name} has no label {matcher.name!r}")
            known = LABEL_VALUES.get(matcher.name)
            if known and matcher.op in (promql_parser.MatchOp.Equal, promql_parser.MatchOp.Re):
                values = set(matcher.value.split("|")) if matcher.op == promql_parser.MatchOp.Re else {matcher.value}
                problems += [f"{name}: {matcher.name}={v!r} is never exported" for v in sorted(values - known)]

    def aggregation(node, *_):
        if isinstance(node, promql_parser.AggregateExpr) and node.modifier is not None:
            available = set().union(*(exported.get(_name(s), set()) for s in _selectors(node.expr))) | extra
            problems.extend(f"{node.op} by/without {label!r}: no series below has it"
                            for label in node.modifier.labels if label not in available)

    promql_parser.walk(tree, aggregation)
    return problems


def test_the_exported_series_are_read_from_the_code(exported):
    # The check below is only as good as this set: counters with their suffix, histograms' three series,
    # the scrape-time gauges, each with its labels.
    assert {"modq_items_decided_total", "modq_provider_calls_total", "modq_estimated_cost_usd_total",
            "modq_s3_events_total", "modq_queue_depth", "modq_outbox_backlog", "modq_state_up"} <= set(exported)
    for histogram in ("modq_provider_latency_seconds", "modq_submit_to_decision_seconds"):
        assert {f"{histogram}_bucket", f"{histogram}_count", f"{histogram}_sum"} <= set(exported)
    assert exported["modq_items_decided_total"] == {"verdict", "provider", "media_type"}
    assert "le" in exported["modq_provider_latency_seconds_bucket"]
    assert "modq_items_decided" not in exported and "modq_items_decided_created" not in exported


@pytest.mark.parametrize(("title", "expr"), QUERIES, ids=[f"{i}-{t}" for i, (t, _) in enumerate(QUERIES)])
def test_every_query_names_only_what_modq_exports(title, expr, exported):
    assert _problems(expr, exported) == [], f"panel {title!r}: {expr}"


@pytest.mark.parametrize(("expr", "problem"), [
    ("rate(modq_items_decided[5m])", "'modq_items_decided' is not a series modq exports"),  # suffix missing
    ("modq_review_oldest_wait_seconds", "'modq_review_oldest_wait_seconds' is not a series modq exports"),
    ('modq_provider_calls_total{outcom="throttled"}', "modq_provider_calls_total has no label 'outcom'"),
    ('modq_items_decided_total{verdict="flaged"}', "modq_items_decided_total: verdict='flaged' is never exported"),
    ("sum by (verdit) (modq_items_decided_total)", "sum by/without 'verdit': no series below has it"),
])
def test_the_check_catches_a_wrong_query(expr, problem, exported):
    assert problem in _problems(expr, exported)


def _family(series: str) -> str:
    for suffix in ("_bucket", "_count", "_sum"):  # a histogram's three series
        if series.endswith(suffix):
            return series.removesuffix(suffix)
    return series


def test_every_modq_metric_has_a_panel(exported):
    """A new metric gets a panel: the dashboard shows everything modq exports."""
    charted = {_family(_name(s)) for _, expr in QUERIES for s in _selectors(_parse(expr))}
    assert {_family(series) for series in exported} - charted == set()


def test_panels_use_the_provisioned_datasource_and_do_not_overlap():
    (datasource,) = DATASOURCES["datasources"]
    assert datasource["type"] == "prometheus" and datasource["url"] == "http://prometheus:9090"
    cells: dict[tuple[int, int], str] = {}
    ids = [p["id"] for p in _panels(DASHBOARD["panels"])]
    assert len(ids) == len(set(ids)), "panel ids repeat"
    for panel in PANELS:
        assert panel["targets"], f"{panel['title']}: no query"
        for source in [panel["datasource"], *(t["datasource"] for t in panel["targets"])]:
            assert source == {"type": "prometheus", "uid": datasource["uid"]}, panel["title"]
    for panel in _panels(DASHBOARD["panels"]):
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24, panel["title"]
        for x in range(pos["x"], pos["x"] + pos["w"]):
            for y in range(pos["y"], pos["y"] + pos["h"]):
                assert (x, y) not in cells, f"{panel['title']} overlaps {cells[(x, y)]}"
                cells[(x, y)] = panel["title"]
