"""Draw README's transparency chart (docs/img/transparency-report.png): the report's ``overview.png`` for a quarter
of seeded history of one photo platform (tests/unit/transparency/report_seed.py), in a throw-away SQLite database.

    python bench/transparency_chart.py [--out docs/img/transparency-report.png] [--report DIR]

``--report DIR`` also writes the whole report there (CSV, charts, index), to look at.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # `python bench/x.py` puts bench/ first, not the repository
    sys.path.insert(0, str(REPO))

from moderation.domain.tenancy import Scope  # noqa: E402
from moderation.infra import db, migrate  # noqa: E402
from moderation.transparency import report_charts, report_files  # noqa: E402
from moderation.transparency.report import Period, build  # noqa: E402
from tests.unit.transparency.report_seed import Shape, seed, tenant  # noqa: E402

START, END = datetime(2026, 7, 1, tzinfo=timezone.utc), datetime(2026, 10, 1, tzinfo=timezone.utc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "img" / "transparency-report.png")
    parser.add_argument("--report", type=Path, help="also write the whole report into this directory")
    parser.add_argument("--items", type=int, default=2500, help="items the platform submits (about)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{scratch}/modq.db"
        migrate.upgrade(url)
        tenant_id = tenant(url, "photos")
        seed(url, tenant_id, START, END, seed_value=18, shape=Shape(items=args.items, noticed=0.06, rejected=0.08,
                                                                    flagged=0.12))
        report = build(url, Period(START, END, Scope(tenant_ids=frozenset({tenant_id})), "photos"))
        charts = report_charts.charts(report)
        db.dispose_all()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(charts["overview.png"])
    print(f"wrote {args.out} ({len(charts['overview.png']):,} bytes)")
    if args.report:
        for path in report_files.write(args.report, report_files.files(report, charts)):
            print(path)


if __name__ == "__main__":
    main()
