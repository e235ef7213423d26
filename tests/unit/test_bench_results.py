"""bench/common.record: rows are appended to a benchmark's own section; other sections are left alone."""

from __future__ import annotations

from bench import common

OTHER = "<!-- bench:video_rtf -->\n## Video\n\n| a |\n|---|\n| 1 |\n<!-- /bench:video_rtf -->\n"


def test_record_appends_rows_and_keeps_other_sections(tmp_path, monkeypatch):
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n\n" + OTHER)
    monkeypatch.setattr(common, "RESULTS", results)
    one = common.Section("one", "## 1. One", "Command: `x`.", ["date", "figure"])
    two = common.Section("two", "## 1b. Two", "Command: `y`.", ["date", "n"], after="one")

    common.record(one, ["d1", "10"], "first details")
    common.record(one, ["d2", "12 | 13"], "second details")
    common.record(two, ["d3", "7"], "two details")
    text = results.read_text()

    assert OTHER in text  # untouched
    assert text.index("bench:video_rtf") < text.index("bench:one -->") < text.index("bench:two -->")
    section = text.split("<!-- bench:one -->")[1].split("<!-- /bench:one -->")[0]
    assert "| d1 | 10 |" in section and "| d2 | 12 \\| 13 |" in section
    assert section.index("| d1 |") < section.index("| d2 |")
    assert "second details" in section and "first details" not in section
    assert section.count("| date | figure |") == 1
