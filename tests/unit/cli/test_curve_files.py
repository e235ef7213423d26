"""``modq policy recommend|simulate --plot DIR --curve FILE.csv``: a PNG per category and the curve data, counted
by hand in tests/unit/policy/test_curves.py; a path that cannot be written is one line, exit 2, nothing written."""

from __future__ import annotations

import csv
import json

import pytest
from typer.testing import CliRunner

from moderation.cli.main import app
from tests.unit.policy.test_curves import CANDIDATE_YAML, CURRENT_YAML, EXPECTED, LABELLED
from tests.unit.policy.test_recommend import seed

runner = CliRunner()
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def labelled(cli_env, tmp_path):
    """The hand-counted set reviewed in the database, under the current policy (Violence flag 70)."""
    seed(cli_env.settings.database_url, LABELLED)
    current = tmp_path / "current.yaml"
    current.write_text(CURRENT_YAML)
    assert runner.invoke(app, ["policy", "apply", str(current)]).exit_code == 0
    candidate = tmp_path / "candidate-by-hand.yaml"
    candidate.write_text(CANDIDATE_YAML)
    return candidate


def read_curve(path) -> dict[float, dict]:
    rows = list(csv.DictReader(path.open()))
    assert {r["category"] for r in rows} == {"Violence"} and {r["support"] for r in rows} == {"5"}
    return {float(r["threshold"]): r for r in rows}


def check_png(path) -> None:
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 10_000


def counts(r: dict) -> tuple:
    return int(r["tp"]), int(r["fp"]), int(r["fn"]), int(r["tn"])


def test_simulate_writes_a_png_and_the_curve(labelled, tmp_path):
    plots, data = tmp_path / "plots" / "new", tmp_path / "curve.csv"
    result = runner.invoke(app, ["policy", "simulate", str(labelled), "--plot", str(plots), "--curve", str(data)])
    assert result.exit_code == 0, result.output
    assert f"wrote 1 precision/recall plot to {plots}" in result.stdout
    assert f"wrote the curve data (7 points) to {data}" in result.stdout
    assert [p.name for p in plots.iterdir()] == ["violence.png"]
    check_png(plots / "violence.png")
    got = read_curve(data)
    assert sorted(got) == sorted(EXPECTED)
    for t, (tp, fp, fn, tn, precision, recall, current, candidate) in EXPECTED.items():
        r = got[t]
        assert counts(r) == (tp, fp, fn, tn)
        assert (float(r["precision"]), float(r["recall"])) == pytest.approx((precision, recall), abs=1e-6)
        assert (r["current"], r["candidate"]) == (str(int(current)), str(int(candidate)))


def test_recommend_marks_its_own_candidate(labelled, tmp_path):
    out, plots, data = tmp_path / "recommended.yaml", tmp_path / "plots", tmp_path / "curve.csv"
    result = runner.invoke(app, ["policy", "recommend", "--target-precision", "0.75", "--min-support", "1",
                                 "--out", str(out), "--plot", str(plots), "--curve", str(data), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["categories"][0]["threshold"] == 65  # stdout stays JSON
    assert "wrote 1 precision/recall plot" in result.stderr
    check_png(plots / "violence.png")
    got = read_curve(data)
    assert sorted(got) == sorted(set(EXPECTED) - {60})  # no item and no mark at 60 this time
    assert [t for t, r in got.items() if r["candidate"] == "1"] == [65]
    assert [t for t, r in got.items() if r["current"] == "1"] == [70]
    assert counts(got[65]) == EXPECTED[65][:4]


def test_no_reviewed_items_writes_a_header_and_says_so(cli_env, tmp_path):
    candidate = tmp_path / "c.yaml"
    candidate.write_text(CANDIDATE_YAML)
    data = tmp_path / "curve.csv"
    result = runner.invoke(app, ["policy", "simulate", str(candidate), "--plot", str(tmp_path / "p"),
                                 "--curve", str(data)])
    assert result.exit_code == 0, result.output
    assert "no reviewed rekognition items in the window" in result.stdout
    assert data.read_text().startswith("provider,category,threshold,precision,recall,")
    assert list((tmp_path / "p").iterdir()) == []


BAD = [
    # (option, path relative to tmp_path or absolute, what the one line says)
    ("--plot", "afile", "--plot {p}: not a directory (a file of that name exists)"),
    ("--plot", "afile/plots", "--plot {p}: {tmp}/afile is a file, not a directory"),
    ("--plot", "/sys/modq-plots", "--plot {p}: cannot write in /sys: "),  # refused even to root
    ("--curve", "adir", "--curve {p}: is a directory; give a file name, e.g. curves.csv"),
    ("--curve", "missing/curve.csv", "--curve {p}: no directory {tmp}/missing to write it in"),
    ("--curve", "/sys/modq-curve.csv", "--curve {p}: cannot write in /sys: "),
]


@pytest.mark.parametrize("command", ["simulate", "recommend"])
@pytest.mark.parametrize("option, where, says", BAD, ids=[f"{o} {w}" for o, w, _ in BAD])
def test_an_unwritable_output_is_one_line_and_nothing_is_written(labelled, tmp_path, command, option, where,
                                                                  says):
    (tmp_path / "afile").write_text("not a directory")
    (tmp_path / "adir").mkdir()
    path = where if where.startswith("/") else str(tmp_path / where)
    out = tmp_path / "recommended.yaml"
    args = (["simulate", str(labelled)] if command == "simulate"
            else ["recommend", "--target-precision", "0.75", "--out", str(out)])
    before = sorted(tmp_path.rglob("*"))
    result = runner.invoke(app, ["policy", *args, option, path])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: " + says.format(p=path, tmp=tmp_path)), lines
    assert result.stdout == ""  # stopped before any work
    assert sorted(tmp_path.rglob("*")) == before and not out.exists()
