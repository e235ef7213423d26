"""``modq policy``: validate, show, apply, history, diff, simulate (threshold tuning with evidence).

``--tenant NAME``: that tenant's policy (its own version, else the deployment's it inherits) and its items.
Without it: the deployment's policy, which decides the items of tenants without a policy of their own.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.table import Table

from config.settings import get_settings
from moderation.cli import curve_files
from moderation.cli.common import err, error, fail, out, pct, runtime, warn
from moderation.cli.progress import bar as progress_bar
from moderation.domain import policy as policy_mod
from moderation.domain.errors import ConfigError, InvalidPolicy
from moderation.policy import curves, queries as replay_db, replay, versions as policy_store
from moderation.policy.reevaluate import reevaluate as reevaluate_flagged
from moderation.tenants import services as tenants

app = typer.Typer(help="Threshold policies: validate, show, apply (versioned), history, diff; simulate and "
                       "recommend thresholds.", no_args_is_help=True)


def _load_file(path: Path) -> policy_mod.ThresholdPolicy:
    try:
        return policy_mod.load(path)
    except InvalidPolicy as exc:  # every problem, one line each
        for problem in exc.problems[:-1]:
            error(problem)
        fail(exc.problems[-1])
    except ConfigError as exc:
        fail(str(exc))


TENANT = typer.Option(None, "--tenant", metavar="NAME",
                      help="A tenant's policy and items (default: the deployment's policy, for tenants without their own)")


def tenant_id(name: str | None) -> int | None:
    """The id of the tenant named (exit 2 naming it if there is none); None: the deployment's level."""
    if name is None:
        return None
    try:
        return tenants.tenant_id(get_settings().database_url, name)
    except tenants.UnknownTenant as exc:
        fail(str(exc))


def for_whom(name: str | None) -> str:
    return f" for tenant {name}" if name is not None else ""


def resolve(ref: str | None, tenant: int | None = None) -> policy_mod.ThresholdPolicy:
    """A file path, a stored version (or unique prefix), or (None) the policy deciding ``tenant``'s items (its own,
    else the deployment's; None: the deployment's)."""
    settings = get_settings()
    if ref is None:
        active = policy_store.active_text(settings.database_url, tenant)
        return policy_mod.parse(active[1], f"version {active[0]}") if active else _load_file(settings.thresholds)
    if Path(ref).is_file():
        return _load_file(Path(ref))
    text = policy_store.get_text(settings.database_url, ref)
    if text is None:
        fail(f"{ref!r} is neither a file nor a stored policy version (see modq policy history)", 1)
    return policy_mod.parse(text, f"version {ref}")


@app.command("validate")
def validate(path: Path | None = typer.Argument(None, help="Thresholds file (default MODQ_THRESHOLDS)")) -> None:
    """Check a thresholds file; exit 2 with every problem, each naming its key."""
    target = path or get_settings().thresholds
    loaded = _load_file(target)
    for warning in loaded.warnings:
        warn(warning)
    out.print(f"{target}: valid, version {loaded.version}")


@app.command("show")
def show(ref: str | None = typer.Argument(None, help="File or version (default: the active policy)"),
         tenant: str | None = TENANT) -> None:
    """The effective policy (per provider profile) as JSON."""
    print(json.dumps(policy_store.describe(resolve(ref, tenant_id(tenant))), indent=2))


@app.command("apply")
def apply(
    path: Path | None = typer.Argument(None, help="Thresholds file (default MODQ_THRESHOLDS)"),
    note: str = typer.Option("", "--note", help="Why: shown in history"),
    author: str | None = typer.Option(None, "--author", help="default $USER"),
    reevaluate: bool = typer.Option(False, "--reevaluate",
                                    help="Then re-decide unreviewed flagged items under it (alerts only if stricter)"),
    as_json: bool = typer.Option(False, "--json", help="Print the outcome (and --reevaluate summary) as JSON"),
    tenant: str | None = TENANT,
) -> None:
    """Validate a thresholds file and make it the active version of --tenant (default: the deployment's).

    Workers pick it up within MODQ_POLICY_REFRESH_SECONDS, without a restart. --reevaluate walks the items the
    version decides: the tenant's, or (the deployment's) those of tenants without their own policy."""
    settings = get_settings()
    target, level = path or settings.thresholds, tenant_id(tenant)
    try:
        text = Path(target).read_text(encoding="utf-8")
        result = policy_store.apply(settings.database_url, text, author=author, note=note, source=str(target),
                                    tenant_id=level)
    except OSError as exc:
        fail(f"thresholds file {str(target)!r} cannot be read: {exc.strerror}")
    except ConfigError as exc:
        fail(str(exc))
    for warning in result.policy.warnings:
        warn(warning)
    # --reevaluate also when it was already active: that finishes an interrupted run (a repeat changes nothing)
    summary = None
    if reevaluate:
        with progress_bar("re-evaluating flagged items") as on_progress:
            summary = reevaluate_flagged(runtime(), result.policy, author or policy_store.default_author(),
                                         on_progress=on_progress, tenant_id=level)
    if as_json:
        print(json.dumps({"version": result.version, "created": result.created, "tenant": tenant,
                          "reevaluated": summary.to_dict() if summary else None}, indent=2))
        return
    if result.created:
        out.print(f"version {result.version} is now active{for_whom(tenant)} (workers pick it up within "
                  f"{settings.policy_refresh_seconds:g} s)", highlight=False)
    else:
        out.print(f"version {result.version} is already active{for_whom(tenant)}; nothing changed",
                  highlight=False)
    if summary:
        out.print(f"re-evaluated {summary.examined} unreviewed flagged items under {summary.version}: "
                  f"{summary.unchanged} unchanged, {summary.approved} approved, {summary.rejected} rejected "
                  f"({summary.alerts} alerts sent), {summary.claimed} skipped (claimed by a reviewer)",
                  highlight=False, soft_wrap=True)  # one line, whatever the terminal width: scripts grep it


@app.command("history")
def history(limit: int = typer.Option(20, min=1, max=1000), as_json: bool = typer.Option(False, "--json"),
            tenant: str | None = TENANT) -> None:
    """Policy activations of --tenant (default: the deployment's), newest first (the first is active)."""
    settings = get_settings()
    rows = policy_store.history(settings.database_url, limit, tenant_id(tenant))
    if as_json:
        print(json.dumps([{**vars(r), "activated_at": r.activated_at.isoformat()} for r in rows], indent=2))
        return
    if not rows and tenant is not None:
        out.print(f"tenant {tenant} has no version of its own; the deployment's policy decides its items "
                  f"({resolve(None).version})", highlight=False)
        return
    if not rows:
        out.print(f"no version applied yet; workers use MODQ_THRESHOLDS ({settings.thresholds})")
        return
    table = Table("version", "activated", "author", "note", "")
    for i, r in enumerate(rows):
        table.add_row(r.version, r.activated_at.strftime("%Y-%m-%d %H:%M:%S"), r.author, r.note,
                      "active" if i == 0 else "")
    out.print(table)


@app.command("diff")
def diff(v1: str = typer.Argument(..., help="Version or file"),
         v2: str | None = typer.Argument(None, help="Version or file (default: the active policy of --tenant)"),
         tenant: str | None = TENANT):
    """Rule changes from V1 to V2: per label, min_confidence, default, provider profiles."""
    level = tenant_id(tenant)
    a, b = resolve(v1, level), resolve(v2, level)
    lines = policy_store.diff(a, b)
    out.print(f"{a.version} -> {b.version}", highlight=False)
    for line in lines or ["no changes"]:
        out.print(f"  {line}", highlight=False, markup=False)


@app.command("simulate")
def simulate(
    candidate: Path = typer.Argument(..., help="Candidate thresholds file"),
    since: str = typer.Option("7d", help="Analyses decided in this window (e.g. 7d, 12h, 30m)"),
    as_json: bool = typer.Option(False, "--json"),
    plot_dir: Path | None = typer.Option(None, "--plot", metavar="DIR", help=curve_files.PLOT_HELP),
    curve_file: Path | None = typer.Option(None, "--curve", metavar="FILE.csv", help=curve_files.CURVE_HELP),
    tenant: str | None = TENANT,
) -> None:
    """Re-decide stored analyses with a candidate policy (no provider calls) and compare: those of --tenant's
    items (default: of tenants without their own policy, which the deployment's decides)."""
    cand, level = _load_file(candidate), tenant_id(tenant)
    try:
        window = replay_db.parse_since(since)
    except ConfigError as exc:
        fail(str(exc))
    curve_files.check(plot_dir, curve_file)
    if plot_dir is not None or curve_file is not None:
        _curves(cand, datetime.now(UTC) - window, plot_dir, curve_file, err if as_json else out, level)
    started = time.perf_counter()
    url, start = get_settings().database_url, datetime.now(UTC) - window
    with progress_bar("replaying decisions") as on_progress:
        report = replay.simulate(replay_db.rows(url, start, tenant_id=level), cand, on_progress,
                                 replay_db.count(url, start, level))
    elapsed = time.perf_counter() - started
    if as_json:
        print(json.dumps({**report.to_dict(), "since": since, "seconds": round(elapsed, 3)}, indent=2))
        return
    for warning in report.warnings:
        warn(warning)
    out.print(f"candidate {cand.version}: {report.total} decided items since {since}, "
              f"{report.changed} would change ({elapsed:.2f} s)", highlight=False)
    matrix = Table("current \\ candidate", *policy_mod.VERDICTS, title="verdicts")
    for a in policy_mod.VERDICTS:
        matrix.add_row(a, *(str(report.matrix.get((a, b), 0)) for b in policy_mod.VERDICTS))
    out.print(matrix)
    rates = Table("", "flag rate", "reject rate")
    for which in ("current", "candidate"):
        rates.add_row(which, pct(report.rate(which, "flagged")), pct(report.rate(which, "rejected")))
    out.print(rates)
    if report.drivers:
        drivers = Table("label (candidate's top reason)", "items changed", title="what drives the change")
        for label, n in report.drivers.most_common(15):
            drivers.add_row(label, str(n))
        out.print(drivers)
    if not report.reviewed:
        out.print("no reviewed items in the window: precision/recall need reviewer verdicts")
        return
    quality = Table("category", "policy", "precision", "recall", "F1", "tp/fp/fn",
                    title=f"against {report.reviewed} reviewer verdicts (positive: flagged or rejected; "
                          f"truth: reviewer rejected)")
    cats = sorted({c for _, c in report.quality}, key=lambda c: (c != "all", c))
    for c in cats:
        if all(not (q.tp or q.fp or q.fn) for q in (report.confusion(w, c) for w in ("current", "candidate"))):
            continue  # only true negatives: nothing to measure
        for which in ("current", "candidate"):
            q = report.confusion(which, c)
            quality.add_row(c, which, pct(q.precision), pct(q.recall), pct(q.f1), f"{q.tp}/{q.fp}/{q.fn}")
    out.print(quality)


def _curves(cand: policy_mod.ThresholdPolicy, since: datetime, plot_dir: Path | None, curve_file: Path | None,
            say, tenant: int | None) -> None:
    """The candidate's precision/recall curve per category (its other rules judge), its flags and the active
    policy's marked, for the provider with the most reviewed items."""
    reviewed = list(replay_db.rows(get_settings().database_url, since, reviewed_only=True, tenant_id=tenant))
    provider = curves.busiest_provider(reviewed)
    found = curves.curves(reviewed, cand, provider, current=resolve(None, tenant), candidate=cand)
    curve_files.write(found, provider, plot_dir, curve_file, say)
