"""What `modq demo` prints at the end: every item's outcome and what decided it, then what to do next
(a reviewer token already made, a candidate policy to simulate)."""

from __future__ import annotations

import os
import shlex
from collections import Counter
from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table

from moderation.cli.common import operator
from moderation.cli.demo_cases import ANSWERS, REPO, how_decided
from moderation.domain import policy as policy_mod
from moderation.policy.versions import active_text
from moderation.tenants import tokens

OUTCOMES = ("approved", "flagged", "rejected", "failed")
REVIEWER = "demo-reviewer"
CANDIDATE = Path("var/demo-candidate.yaml")
WEAPONS_FLAG = 90  # the candidate's change: the camera read as a weapon (74.2%) is no longer flagged


def outcome_table(views: list[dict], media_root: Path) -> Table:
    table = Table(title="modq demo: what happened")
    table.add_column("media", no_wrap=True)  # a file name cut short would not be found again
    table.add_column("outcome", no_wrap=True)
    table.add_column("decided by", ratio=1)
    table.add_column("reason", ratio=2)
    for v in views:
        table.add_row(_relative(v["media_uri"], media_root), v["status"], how_decided(v),
                      v["failure_reason"] or "; ".join(v["reasons"]))
    return table


def summary(console: Console, views: list[dict]) -> None:
    counts = Counter(v["status"] for v in views)
    console.print("outcomes: " + ", ".join(f"{counts.get(o, 0)} {o}" for o in OUTCOMES), highlight=False)
    console.print(f"The recorded answers were written for this demo in Rekognition's response shape and replayed "
                  f"from {ANSWERS.relative_to(REPO)} by the 'recorded' provider: no call to AWS was made, and they "
                  "say nothing about what Rekognition would answer. The offline model and the hash bank ran for "
                  "real.", highlight=False)


def next_steps(console: Console, settings, exports: dict[str, str], serve_url: str | None) -> str:
    """Print what to try next (``exports``: the variables the demo set for itself, which the commands need
    too); returns the reviewer token it made, after revoking the earlier demo reviewer tokens."""
    db = settings.database_url
    tokens.revoke(db, REVIEWER, actor=operator())
    _, token = tokens.create(db, REVIEWER, "reviewer", created_by=operator())
    candidate = write_candidate(settings)
    env = [f"export {name}={shlex.quote(value)}" for name, value in exports.items()]
    url = serve_url or f"http://{settings.api_host}:{settings.api_port}"
    console.print("\n[bold]Next steps[/bold] (from this directory, after `. .venv/bin/activate`)", highlight=False)
    for line in env:
        console.print(f"  {line}", highlight=False)
    console.print(f"  {url}/login", highlight=False, soft_wrap=True)
    console.print(f"      the review console: sign in with this reviewer token, made for you ({REVIEWER!r}):",
                  highlight=False)
    console.print(f"      {token}", highlight=False, soft_wrap=True)
    if serve_url is None:
        console.print("      served by `modq api`, or by `modq demo --serve`, which keeps the API and a worker "
                      "running after the demo", highlight=False)
    steps = [(f"modq review next --reviewer {REVIEWER}", "claim a flagged item; then `modq review approve|reject`"),
             ("modq stats --since 1h", "items by verdict, provider calls, calls the hash bank saved"),
             (f"modq policy simulate {candidate} --since 1h",
              f"what flagging Weapons only from {WEAPONS_FLAG}% would change, replayed on stored analyses"),
             ("modq items list", "every item; `modq items show ID` for one"),
             ("modq transparency export --since 1h", "the rejection's EU DSA statement of reasons, as the "
              "Transparency Database takes it (README \"Transparency (EU DSA)\")")]
    for command, what in steps:  # the command alone on its line: copied whole, whatever the width
        console.print(f"  {command}", highlight=False, markup=False, soft_wrap=True)
        console.print(f"      {what}", highlight=False, markup=False)
    return token


def write_candidate(settings) -> Path:
    """The active thresholds with Weapons flagged only from WEAPONS_FLAG: a candidate worth simulating."""
    stored = active_text(settings.database_url)
    text = stored[1] if stored else Path(settings.thresholds).read_text(encoding="utf-8")
    doc = yaml.safe_load(text) or {}
    doc.setdefault("labels", {})["Weapons"] = {"flag": WEAPONS_FLAG, "reject": None}
    header = ("# Written by `modq demo`: the active thresholds, with Weapons flagged only from "
              f"{WEAPONS_FLAG}%.\n# Try: modq policy simulate {CANDIDATE} --since 1h\n")
    body = header + yaml.safe_dump(doc, sort_keys=False)
    policy_mod.parse(body, str(CANDIDATE))  # never hand over a file `simulate` would refuse
    path = Path(os.getcwd()) / CANDIDATE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body, encoding="utf-8")
    return CANDIDATE


def _relative(uri: str, root: Path) -> str:
    path = uri.removeprefix("file://")
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return path.rsplit("/", 1)[-1]
