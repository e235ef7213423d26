"""``modq policy recommend``: per-category flag thresholds from reviewer verdicts, written as a
candidate thresholds file (evidence as comments) for ``simulate`` and ``apply``.

Registered on the ``policy`` group by ``cli/main.py`` (``cli/policy.py`` is the version-control half).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import typer

from config.settings import get_settings
from moderation.cli import curve_files
from moderation.cli.common import err, fail, out, pct
from moderation.cli.policy import TENANT, resolve, tenant_id
from moderation.domain import policy as policy_mod
from moderation.domain.errors import ConfigError
from moderation.policy import curves as curves_mod, queries as replay_db, recommend as rec_mod

_PLAIN_KEY = re.compile(r"[A-Za-z][A-Za-z0-9 &\-]*")


def _num(v: float | None) -> str:
    return "null" if v is None else f"{v:g}"


def _rule(r: policy_mod.Rule) -> str:
    return f"{{flag: {_num(r.flag)}, reject: {_num(r.reject)}}}"


def _key(name: str) -> str:
    return name if _PLAIN_KEY.fullmatch(name) else json.dumps(name)  # JSON strings are YAML too


def evidence_text(ev: rec_mod.Evidence, target: float, min_support: int) -> list[str]:
    """Comment lines (without '#') explaining one category's outcome."""
    q, was = ev.quality, f"flag {_num(ev.previous.flag)}" + (" (default)" if ev.previous_source == "default" else "")
    measured = (f"precision {pct(q.precision)} ({q.tp}/{q.tp + q.fp}), recall {pct(q.recall)} "
                f"({q.tp} of {q.tp + q.fn}), {ev.support} reviewed items")
    lines = {
        rec_mod.CHANGED: [f"{ev.category}: {was} -> {_num(ev.threshold)}: {measured}"],
        rec_mod.SAME: [f"{ev.category}: {was} already the best at {pct(target)}: {measured}"],
        rec_mod.OFF: [f"{ev.category}: kept ({was}: never flagging is a policy decision; set a number to tune it)"],
        rec_mod.LOW_SUPPORT: [f"{ev.category}: kept ({was}): only {ev.support} reviewed items "
                              f"(--min-support {min_support})"],
        rec_mod.UNREACHABLE: [f"{ev.category}: kept ({was}): no threshold reaches precision {pct(target)}"
                              + (f" (best: flag {_num(ev.threshold)}: {measured})" if ev.threshold is not None
                                 else " (more specific rules judge all of its reviewed items' labels)")],
        rec_mod.CONFLICT: [f"{ev.category}: kept ({was}): precision {pct(target)} needs flag "
                           f"{_num(ev.threshold)}, above this rule's reject {_num(ev.previous.reject)} "
                           f"(items from it are rejected anyway); change reject by hand if intended",
                           f"  at flag {_num(ev.threshold)}: {measured}"],
    }[ev.status]
    if ev.overrides and ev.status not in (rec_mod.OFF, rec_mod.LOW_SUPPORT):
        lines.append("  overrides still in force (more specific rules win): "
                     + ", ".join(f"{name} {_rule(r)}" for name, r in ev.overrides))
    return lines


def candidate_yaml(current: policy_mod.ThresholdPolicy, rec: rec_mod.Recommendation, header: list[str],
                   min_support: int) -> str:
    """The current policy with the recommended L1 rules, as a thresholds file.

    The rules go to the provider's profile if it has one, else to the base
    (other profiles keep their old value for a changed category, pinned).
    """
    target = rec.provider if rec.provider in current.profiles else None
    evidence = {ev.category: ev for ev in rec.categories}
    changed = {ev.category: ev.rule for ev in rec.categories if ev.status == rec_mod.CHANGED}
    base_rules = {**current.rules, **(changed if target is None else {})}
    lines = [f"# {h}" if h else "#" for h in header]
    lines += [f"min_confidence: {_num(current.min_confidence)}", f"default: {_rule(current.default)}"]
    lines += _labels(base_rules, evidence if target is None else {}, rec, min_support, "")
    profiles = []
    for name, prof in current.profiles.items():
        rules = {**prof.rules, **(changed if name == target else {})}
        for cat in changed if target is None else ():  # new to the base: this profile used its default
            rules.setdefault(cat, prof.default)
        rules = {k: r for k, r in rules.items() if base_rules.get(k) != r}
        body = [f"    min_confidence: {_num(prof.min_confidence)}"] if prof.min_confidence != current.min_confidence \
            else []
        body += [f"    default: {_rule(prof.default)}"] if prof.default != current.default else []
        body += _labels(rules, evidence if name == target else {}, rec, min_support, "    ")
        profiles += [f"  {name}:", *body] if body else [f"  {name}: {{}}"]
    if profiles:
        lines += ["providers:", *profiles]
    return "\n".join(lines) + "\n"


def _labels(rules: dict[str, policy_mod.Rule], evidence: dict, rec, min_support: int, indent: str) -> list[str]:
    if not rules and not evidence:
        return []
    lines = [f"{indent}labels:" if rules else f"{indent}labels: {{}}"]
    for name, rule in rules.items():
        if name in evidence:
            lines += [f"{indent}  # {t}" for t in evidence_text(evidence[name], rec.target, min_support)]
        lines.append(f"{indent}  {_key(name)}: {_rule(rule)}")
    for name in [c for c in evidence if c not in rules]:  # evaluated, still governed by default
        lines += [f"{indent}  # {t}" for t in evidence_text(evidence[name], rec.target, min_support)]
    return lines


def recommend(
    target_precision: float = typer.Option(..., "--target-precision", help="0 < P <= 1, e.g. 0.9"),
    since: str = typer.Option("30d", help="Reviewed items decided in this window (e.g. 30d, 12h)"),
    min_support: int = typer.Option(20, "--min-support", min=1, help="Reviewed items a category needs"),
    provider: str | None = typer.Option(None, help="Whose analyses (default: the one with most reviews)"),
    out_path: Path = typer.Option(Path("candidate.yaml"), "--out", help="Candidate thresholds file to write"),
    force: bool = typer.Option(False, "--force", help="Replace --out if it exists"),
    as_json: bool = typer.Option(False, "--json"),
    plot_dir: Path | None = typer.Option(None, "--plot", metavar="DIR", help=curve_files.PLOT_HELP),
    curve_file: Path | None = typer.Option(None, "--curve", metavar="FILE.csv", help=curve_files.CURVE_HELP),
    tenant: str | None = TENANT,
) -> None:
    """Propose flag thresholds from reviewer verdicts on --tenant's items (default: tenants without their own
    policy), starting from the policy deciding them; write them to a candidate file (not over one).

    Per category, the threshold whose flags reach the target precision on reviewed items with the highest
    recall. The file is ready for `modq policy simulate` and `modq policy apply`."""
    if not 0 < target_precision <= 1:
        fail(f"--target-precision {target_precision:g}: must be above 0 and at most 1 (0.9 means 90%)")
    if out_path.exists() and not force:  # it may be a candidate written by hand
        fail(f"{out_path} exists: give --force to replace it, or --out another file")
    try:
        window = replay_db.parse_since(since)
    except ConfigError as exc:
        fail(str(exc))
    curve_files.check(plot_dir, curve_file)
    level = tenant_id(tenant)
    current = resolve(None, level)
    reviewed = [r for r in replay_db.rows(get_settings().database_url, datetime.now(UTC) - window, tenant_id=level)
                if r.truth]
    provider = provider or curves_mod.busiest_provider(reviewed)
    rec = rec_mod.recommend(reviewed, current, target_precision, provider, min_support)
    flag = f" --tenant {tenant}" if tenant else ""
    header = [f"Candidate thresholds from `modq policy recommend --target-precision {target_precision:g}`",
              f"({datetime.now(UTC):%Y-%m-%d %H:%M} UTC), starting from version {current.version}, on "
              f"{rec.reviewed} reviewer-decided {provider} items since {since}"
              + (f" of tenant {tenant}." if tenant else "."),
              "Per top-level category: the flag threshold whose flags reviewers rejected at least "
              f"{pct(target_precision)} of the time,",
              "with the highest recall. Comments are evidence only (they don't change the version).",
              f"Next: modq policy simulate {out_path}{flag}; modq policy apply {out_path}{flag}", ""]
    text = candidate_yaml(current, rec, header, min_support)
    parsed = policy_mod.parse(text, str(out_path))  # never hand over a file `apply` would refuse
    out_path.write_text(text, encoding="utf-8")
    if plot_dir is not None or curve_file is not None:  # judged by the active policy; the candidate's flags marked
        curve_files.write(curves_mod.curves(reviewed, current, provider, candidate=parsed), provider, plot_dir,
                          curve_file, err if as_json else out)
    if as_json:
        print(json.dumps({"provider": provider, "target_precision": target_precision, "reviewed": rec.reviewed,
                          "from_version": current.version, "candidate_version": parsed.version,
                          "out": str(out_path), "categories": [e.to_dict() for e in rec.categories]}, indent=2))
        return
    out.print(f"{rec.reviewed} reviewed {provider} items since {since}; target precision "
              f"{pct(target_precision)}", highlight=False, soft_wrap=True)
    for ev in rec.categories:
        for line in evidence_text(ev, target_precision, min_support):
            out.print(f"  {line}", highlight=False, markup=False, soft_wrap=True)
    n = sum(e.status == rec_mod.CHANGED for e in rec.categories)
    what = f"{n} categor{'y' if n == 1 else 'ies'} changed" if n else "no change: the same version as the active one"
    out.print(f"wrote {out_path} (version {parsed.version}, {what}); next: modq policy simulate {out_path}{flag}",
              highlight=False, markup=False, soft_wrap=True)
