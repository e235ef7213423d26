"""How fast `modq policy simulate` replays stored analyses (issue 5).

Seeds N analyses (default 100,000) with decisions and some reviewer verdicts
into a fresh PostgreSQL database, then times the replay of a candidate policy:
streaming the rows (yield_per) and re-deciding each with policy.decide.

    .venv/bin/python bench/simulate.py [--n 100000] [--runs 3] [--record]
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import common

CANDIDATE = """min_confidence: 50
default: {flag: 75, reject: null}
labels:
  Explicit: {flag: 50, reject: 75}
  Violence: {flag: 60, reject: null}
  Graphic Violence: {flag: 50, reject: 85}
  Hate Symbols: {flag: 40, reject: 70}
  Drugs & Tobacco: {flag: 70, reject: null}
"""
LABELS = ["Exposed Female Genitalia", "Nazi Party", "Graphic Violence", "Weapon Violence", "Pills", "Smoking",
          "Swimwear or Underwear", "Alcoholic Beverages", "Middle Finger", "Blood & Gore"]
SECTION = common.Section(
    "simulate", "## Policy replay: `modq policy simulate` (issue 5)",
    "Command: `.venv/bin/python bench/simulate.py --record` (100,000 stored analyses with decisions, 5% "
    "reviewed, in a fresh PostgreSQL database; replay streams rows with yield_per and re-decides each with "
    "policy.decide; median of 3 in-process runs, plus one run of the `modq policy simulate` command). "
    "Target: under 10 s for 100,000 analyses.",
    ["date (UTC)", "machine", "analyses", "replay s (median)", "analyses/s", "CLI wall s"])


def seed(url: str, n: int, rng: random.Random) -> None:
    from sqlalchemy import insert

    from moderation.domain import policy, taxonomy
    from moderation.domain.labels import ModerationLabel
    from moderation.items import models as m
    from moderation.infra.clock import utcnow
    from moderation.infra.db import transaction
    from moderation.review.models import Review

    current = policy.load(common.REPO / "config" / "thresholds.yaml").for_provider("rekognition")

    def labels_for(name: str, conf: float) -> list[ModerationLabel]:
        out = []
        for label in taxonomy.ancestors(name):
            known = taxonomy.lookup(label)
            out.append(ModerationLabel(label, known.parent if known else "", known.level if known else 1, conf))
        return out

    now = utcnow()
    chunk = 10_000
    for start in range(0, n, chunk):
        analyses, items, decisions, reviews = [], [], [], []
        for i in range(start, min(n, start + chunk)):
            labs = []
            for _ in range(rng.choice((0, 0, 1, 1, 2))):
                labs += labels_for(rng.choice(LABELS), round(rng.uniform(50, 100), 1))
            d = policy.decide(labs, current)
            item_id = f"00000000-0000-0000-0000-{i:012d}"
            at = now - timedelta(seconds=rng.uniform(0, 6 * 86400))
            analyses.append({"id": i + 1, "provider": "rekognition", "model_version": "7.0", "min_confidence": 50.0,
                             "labels": [lab.to_dict() for lab in labs], "content_types": [], "raw": {},
                             "created_at": at})
            items.append({"id": item_id, "media_uri": f"s3://b/{i}.jpg", "media_type": "image", "status": d.verdict,
                          "verdict": d.verdict, "item_metadata": {}, "provider": "rekognition",
                          "policy_version": d.policy_version, "analysis_id": i + 1, "attempts": 1,
                          "created_at": at, "updated_at": at, "decided_at": at})
            decisions.append({"item_id": item_id, "analysis_id": i + 1, "verdict": d.verdict, "reasons": [],
                              "policy_version": d.policy_version, "decided_at": at})
            if rng.random() < 0.05:
                truth = "rejected" if labs and max(x.confidence for x in labs) > rng.uniform(50, 100) else "approved"
                reviews.append({"item_id": item_id, "reviewer": "bench", "verdict": truth, "reason": "bench",
                                "previous_status": d.verdict, "policy_version": d.policy_version, "reviewed_at": at})
        with transaction(url) as s:
            s.execute(insert(m.Analysis), analyses)
            s.execute(insert(m.Item), items)
            s.execute(insert(m.Decision), decisions)
            if reviews:
                s.execute(insert(Review), reviews)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--record", action="store_true", help="add a dated row to bench/RESULTS.md")
    args = ap.parse_args()
    info = common.machine_info()
    common.print_header("policy replay (modq policy simulate)", info)
    from moderation.domain import policy
    from moderation.policy import replay, queries as replay_db
    from moderation.infra.db import dispose_all

    candidate = policy.parse(CANDIDATE)
    with common.temp_database("modq_bench_sim") as url:
        t0 = time.perf_counter()
        seed(url, args.n, random.Random(5))
        print(f"seeded {args.n:,} analyses in {time.perf_counter() - t0:.1f} s", flush=True)
        times, report = [], None
        for _ in range(args.runs):
            t0 = time.perf_counter()
            report = replay.simulate(replay_db.rows(url, m_since()), candidate)
            times.append(time.perf_counter() - t0)
        dispose_all()
        assert report is not None and report.total == args.n, report and report.total
        cand_path = Path(tempfile.mkdtemp(prefix="modq-bench-")) / "candidate.yaml"
        cand_path.write_text(CANDIDATE)
        env = common.base_env(url)
        t0 = time.perf_counter()
        done = subprocess.run([common.PYTHON, "-c", "from moderation.cli.main import main; main()", "policy", "simulate",
                               str(cand_path), "--since", "7d", "--json"], cwd=common.REPO, env=env,
                              capture_output=True, text=True, timeout=600, check=False)
        cli_wall = time.perf_counter() - t0
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            return 1
    med = common.median(times)
    rate = args.n / med
    print(f"replay   runs {', '.join(f'{t:.2f}' for t in times)} s; median {med:.2f} s = {rate:,.0f} analyses/s")
    print(f"cli      `modq policy simulate --json` wall {cli_wall:.2f} s (includes interpreter start-up)")
    print(f"result   {report.changed:,} of {report.total:,} would change; reviewed {report.reviewed:,}")
    if args.record:
        details = (f"{args.n:,} analyses, median of {args.runs}; {common.machine_line(info)}; "
                   f"{common.versions_line(info)}\n\nreplay runs: {', '.join(f'{t:.2f}' for t in times)} s; "
                   f"{report.changed:,} would change, {report.reviewed:,} reviewed.")
        common.record(SECTION, [info["date"], common.machine_line(info), f"{args.n:,}", f"{med:.2f}",
                                f"{rate:,.0f}", f"{cli_wall:.2f}"], details)
        print(f"recorded in {common.RESULTS}")
    return 0


def m_since():
    from moderation.infra.clock import utcnow

    return utcnow() - timedelta(days=7)


if __name__ == "__main__":
    common.install_signal_cleanup()
    sys.exit(main())
