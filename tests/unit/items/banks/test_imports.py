"""``banks.imports``: a directory or a CSV banked in batches; bad rows named, the rest stored, re-runs idempotent."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from moderation.items.banks import imports, services as banks
from moderation.domain.errors import BadInput
from tests.conftest import jpeg_bytes, png_bytes
from tests.unit.items.test_pay_once import scene

MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64  # sniffed as a video: sha256 only
KEY = "ab" * 32


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def run(url: str, source: Path, verdict: str | None = "rejected", note: str = "", **kwargs) -> imports.Result:
    return imports.import_rows(url, imports.read_source(source, verdict, note), source="import:test",
                               added_by="cli:ann", max_image_bytes=15 * 1024 * 1024, **kwargs)


def stored(url: str) -> dict[str, tuple]:
    return {e["content_key"]: (e["verdict"], e["note"], e["pdq"], e["source"]) for e in banks.listing(url)}


@pytest.fixture
def media_dir(tmp_path) -> Path:
    root = tmp_path / "known-bad"
    (root / "2024" / "june").mkdir(parents=True)
    (root / ".cache").mkdir()
    (root / "a.jpg").write_bytes(scene())
    (root / "2024" / "b.png").write_bytes(png_bytes())
    (root / "2024" / "june" / "clip.mp4").write_bytes(MP4)
    (root / "2024" / "june" / "README.txt").write_text("where these came from")
    (root / "empty.jpg").write_bytes(b"")
    (root / ".DS_Store").write_bytes(b"\x00\x01")  # hidden: skipped, not a failure
    (root / ".cache" / "c.jpg").write_bytes(jpeg_bytes())
    return root


def test_a_directory_is_imported_recursively_and_a_rerun_adds_nothing(sqlite_url, media_dir):
    result = run(sqlite_url, media_dir, note="NCMEC list")
    assert (result.added, result.already) == (3, 0)
    assert result.failed == [("2024/june/README.txt", "not an image or video modq moderates"),
                             ("empty.jpg", "file is empty (0 bytes)")]
    assert stored(sqlite_url) == {
        sha(scene()): ("rejected", "NCMEC list", True, "import:test"),  # an image with features: a PDQ hash too
        sha(png_bytes()): ("rejected", "NCMEC list", False, "import:test"),  # flat: PDQ rates it noise
        sha(MP4): ("rejected", "NCMEC list", False, "import:test"),
    }
    again = run(sqlite_url, media_dir, note="NCMEC list")
    assert (again.added, again.already, len(again.failed)) == (0, 3, 2)
    assert len(banks.listing(sqlite_url)) == 3


def test_the_same_content_twice_in_one_import_is_banked_once(sqlite_url, tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "one.jpg").write_bytes(jpeg_bytes())
    (tmp_path / "d" / "copy.jpg").write_bytes(jpeg_bytes())
    result = run(sqlite_url, tmp_path / "d", batch=1)
    assert (result.added, result.already, result.failed) == (1, 1, [])


def test_a_directory_needs_a_verdict(sqlite_url, media_dir):
    with pytest.raises(BadInput, match="importing a directory needs --verdict"):
        run(sqlite_url, media_dir, verdict=None)


CSV = f"""path,content_key,pdq,verdict,note
photos/a.jpg,,,,from the csv
,{KEY.upper()},{"f" * 64},approved,a known-good sticker
,s3:uploads/u/7/cat.jpg@3HL4kq,,,
missing.jpg,,,,
,nothex,,,
,{"cd" * 32},,flagged,
,{"ef" * 32},short,,
photos/a.jpg,{KEY},,,
,{"12" * 32},,,"a note
over two lines"
only,three,fields

"""


def test_a_csv_imports_good_rows_and_names_each_bad_row_by_line(sqlite_url, tmp_path):
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "a.jpg").write_bytes(scene())
    (tmp_path / "list.csv").write_text(CSV)
    result = run(sqlite_url, tmp_path / "list.csv")
    assert result.failed == [
        ("line 5 (missing.jpg)", "no such file"),
        ("line 6", "content_key 'nothex' is neither 64 hex digits nor s3:bucket/key@version"),
        ("line 7", "bank verdict must be one of rejected, approved, not 'flagged'"),
        ("line 8", "pdq 'short' is not 64 hex digits"),
        ("line 9 (photos/a.jpg)", "give a path or a content_key (one of them)"),
        ("line 12", "3 fields, the header names 5"),
    ]
    assert stored(sqlite_url) == {
        sha(scene()): ("rejected", "from the csv", True, "import:test"),
        KEY: ("approved", "a known-good sticker", True, "import:test"),  # hex keys are stored lower-case
        "s3:uploads/u/7/cat.jpg@3HL4kq": ("rejected", "", False, "import:test"),
        "12" * 32: ("rejected", "a note\nover two lines", False, "import:test"),
    }
    assert (result.added, result.already) == (4, 0)
    again = run(sqlite_url, tmp_path / "list.csv")
    assert (again.added, again.already, len(again.failed)) == (0, 4, 6)


def test_content_banked_with_the_other_verdict_fails_and_stays_as_it_was(sqlite_url, tmp_path):
    banks.bank(sqlite_url, KEY, "approved", source="cli", added_by="cli:bob")
    (tmp_path / "l.csv").write_text(f"content_key\n{KEY}\n")
    result = run(sqlite_url, tmp_path / "l.csv")
    assert result.added == 0 and result.failed == [
        ("line 2", f"{KEY} is already banked as approved (entry #1); remove that entry first")]
    assert stored(sqlite_url) == {KEY: ("approved", "", False, "cli")}


def test_without_a_verdict_column_or_option_a_row_fails(sqlite_url, tmp_path):
    (tmp_path / "l.csv").write_text(f"content_key,verdict\n{KEY},\n{'cd' * 32},approved\n")
    result = run(sqlite_url, tmp_path / "l.csv", verdict=None)
    assert result.failed == [("line 2", "no verdict: give a verdict column or --verdict")] and result.added == 1


@pytest.mark.parametrize("name, text, message", [
    ("l.csv", "hash,verdict\nab,rejected\n", r"line 1 must name the columns.*\(unknown: hash\)"),
    ("l.csv", "verdict,note\nrejected,x\n", "line 1 must name the columns, each once: path or content_key"),
    ("l.csv", "path,path\na.jpg,b.jpg\n", "each once"),
    ("l.csv", "", "line 1 must name the columns"),
    ("l.txt", "content_key\n" + KEY, "give a directory of media files or a .csv file"),
])
def test_a_source_that_cannot_be_read_is_refused_whole(sqlite_url, tmp_path, name, text, message):
    (tmp_path / name).write_text(text)
    with pytest.raises(BadInput, match=message):
        run(sqlite_url, tmp_path / name)
    assert banks.listing(sqlite_url) == []


def test_a_source_that_is_not_there_or_not_utf8(sqlite_url, tmp_path):
    with pytest.raises(BadInput, match="is neither a directory nor a file"):
        run(sqlite_url, tmp_path / "nope.csv")
    (tmp_path / "l.csv").write_bytes(b"content_key\n\xff\xfe\n")
    with pytest.raises(BadInput, match="is not UTF-8 text"):
        run(sqlite_url, tmp_path / "l.csv")


def test_a_dry_run_reports_the_same_and_stores_nothing(sqlite_url, media_dir):
    banks.bank(sqlite_url, sha(MP4), "rejected", source="cli", added_by="cli:bob")
    dry = run(sqlite_url, media_dir, dry_run=True, batch=1)
    assert (dry.added, dry.already, len(dry.failed), dry.dry_run) == (2, 1, 2, True)
    assert list(stored(sqlite_url)) == [sha(MP4)]
    real = run(sqlite_url, media_dir)
    assert (real.added, real.already, real.failed) == (dry.added, dry.already, dry.failed)


def test_progress_counts_every_row_once_up_to_the_total(sqlite_url, media_dir):
    calls = []
    run(sqlite_url, media_dir, batch=2, on_progress=lambda *a: calls.append(a))
    # 5 files (hidden ones are not counted), batches of 2: one call per row, the batch's last after its commit
    assert calls == [(0, 5), (1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]


def test_each_batch_is_one_transaction(sqlite_url, media_dir, monkeypatch):
    opened = []
    real = imports.transaction

    def counting(url):
        opened.append(url)
        return real(url)

    monkeypatch.setattr(imports, "transaction", counting)
    run(sqlite_url, media_dir, batch=2)
    assert len(opened) == 3  # 5 files in batches of 2
    opened.clear()
    run(sqlite_url, media_dir, batch=2, dry_run=True)
    assert len(opened) == 1  # a dry run: one transaction, rolled back
