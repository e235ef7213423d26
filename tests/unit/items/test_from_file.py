"""Items from an NDJSON or CSV file: every line created, known or refused with its number; batches of submit_many."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from moderation.domain.errors import BadInput
from moderation.infra.db import transaction
from moderation.items import from_file, models as m
from tests.conftest import jpeg_bytes


def stored(rt) -> dict[str | None, m.Item]:
    with transaction(rt.settings.database_url) as s:
        return {i.external_id: i for i in s.scalars(select(m.Item))}


@pytest.fixture
def photos(media_root):
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        (media_root / name).write_bytes(jpeg_bytes())


NDJSON_LINES = [
    '{"uri": "a.jpg", "external_id": "n-1", "metadata": {"user": "7"}}',       # 1 created
    '{"uri": "/etc/passwd", "external_id": "n-2"}',                             # 2 refused: outside the root
    "",                                                                          # 3 blank: skipped
    '{"uri": "b.jpg", "external_id": "n-1"}',                                   # 4 known: line 1's
    "not json",                                                                  # 5 refused
    '["a.jpg"]',                                                                 # 6 refused: not an object
    '{"uri": "c.jpg", "colour": "red"}',                                        # 7 refused: unknown field
    '{"external_id": "n-8"}',                                                    # 8 refused: no uri
    '{"uri": "c.jpg", "external_id": 9}',                                       # 9 refused: not a string
    '{"uri": "c.jpg", "external_id": "n-10", "metadata": {"x": NaN}}',          # 10 refused: NaN
    '{"media_uri": "s3://ugc/v.mp4", "external_id": "n-11"}',                   # 11 created: the API's name
    '{"uri": "c.jpg", "external_id": "n-12", "media_type": "audio"}',           # 12 refused
    '{"uri": "c.jpg", "external_id": "n-13", "metadata": ["x"]}',               # 13 refused
    '{"uri": "c.jpg"}',                                                          # 14 created, no external id
]


def test_ndjson_lines_are_created_known_or_refused_with_their_number(rt, photos, tmp_path):
    source = tmp_path / "items.ndjson"
    source.write_text("\n".join(NDJSON_LINES))  # the last line without a line break
    progress = []
    outcome = from_file.submit_file(str(source), rt, batch=3, on_progress=lambda d, t: progress.append((d, t)))

    assert (outcome.created, outcome.known, outcome.not_sent) == (3, 1, 0)
    refused = dict(outcome.refused)
    assert sorted(refused) == [2, 5, 6, 7, 8, 9, 10, 12, 13]
    assert "outside the media root" in refused[2] and refused[5].startswith("not valid JSON")
    assert refused[6] == "a JSON array, not an object with uri, external_id, metadata, media_type, subject_id"
    assert "unknown field 'colour'" in refused[7] and refused[8] == "no uri"
    assert refused[9] == "external_id must be a string, not number"
    assert "NaN is not a JSON number" in refused[10] and "media_type must be image or video" in refused[12]
    assert refused[13] == "metadata must be a JSON object, not array"
    rows = stored(rt)
    assert set(rows) == {"n-1", "n-11", None}
    assert rows["n-1"].media_uri.endswith("a.jpg") and rows["n-1"].item_metadata == {"user": "7"}
    assert rows["n-11"].media_type == "video"
    assert sum(rt.dispatcher.batches) == 3 and len(rt.dispatcher.batches) >= 2  # in batches, not one by one
    assert progress[0] == (0, 14) and progress[-1] == (14, 14)
    assert [d for d, _ in progress] == sorted(d for d, _ in progress)


def test_a_second_run_of_the_same_file_creates_nothing(rt, photos, tmp_path):
    source = tmp_path / "items.jsonl"
    source.write_text("".join(json.dumps({"uri": n, "external_id": f"r-{n}"}) + "\n" for n in ("a.jpg", "b.jpg")))
    first = from_file.submit_file(str(source), rt, batch=1)
    again = from_file.submit_file(str(source), rt, batch=1)
    assert (first.created, first.known) == (2, 0) and (again.created, again.known, again.refused) == (0, 2, [])
    assert rt.dispatcher.batches == [1, 1]


def test_csv_columns_in_any_order_with_json_metadata_and_multiline_rows(rt, photos, tmp_path):
    source = tmp_path / "items.csv"
    source.write_bytes(
        b'\xef\xbb\xbfexternal_id,uri,metadata\n'          # 1 header (with a UTF-8 BOM, as Excel writes it)
        b'c-1,a.jpg,"{""user"": ""7""}"\n'                  # 2 created
        b'c-2,/etc/passwd,\n'                               # 3 refused
        b'c-3,b.jpg,"{""note"":\n""two lines""}"\n'         # 4-5 created: named by its first line
        b'c-4,c.jpg\n'                                      # 6 refused: 2 fields
        b'c-5,c.jpg,not json\n'                             # 7 refused
        b'c-6,c\xff.jpg,\n'                                 # 8 refused: not UTF-8
        b'\n'                                               # 9 blank
        b',c.jpg,\n'                                        # 10 created, no external id
        b'c-1,c.jpg,\n')                                    # 11 known
    outcome = from_file.submit_file(str(source), rt)
    assert (outcome.created, outcome.known) == (3, 1)
    assert [line for line, _ in outcome.refused] == [3, 6, 7, 8]
    reasons = dict(outcome.refused)
    assert reasons[6] == "2 fields, the header names 3" and reasons[7].startswith("metadata is not valid JSON")
    assert reasons[8] == "not UTF-8 text"
    rows = stored(rt)
    assert rows["c-1"].item_metadata == {"user": "7"} and rows["c-3"].item_metadata == {"note": "two lines"}
    assert None in rows


@pytest.mark.parametrize("content, message", [
    ("url,external_id\na.jpg,e\n", "line 1 must name the columns, each once: uri, and optionally external_id, "
                                   "metadata, media_type, subject_id (unknown: url)"),
    ("uri,uri\na.jpg,b.jpg\n", "each once"),
    ("external_id\ne\n", "each once: uri"),
])
def test_a_csv_header_that_names_no_uri_refuses_the_file_before_storing_anything(rt, tmp_path, content, message):
    source = tmp_path / "bad.csv"
    source.write_text(content)
    with pytest.raises(BadInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        from_file.submit_file(str(source), rt)
    assert stored(rt) == {} and rt.dispatcher.sent == []


@pytest.mark.parametrize("make, message", [(lambda p: p, "no such file"), (lambda p: p.parent, "not a file")])
def test_a_missing_source_is_bad_input(rt, tmp_path, make, message):
    with pytest.raises(BadInput, match=message):
        from_file.submit_file(str(make(tmp_path / "missing.ndjson")), rt)


def test_a_line_that_is_not_utf8_is_refused_alone(rt, photos, tmp_path):
    source = tmp_path / "items.ndjson"
    source.write_bytes(b'{"uri": "a.jpg", "external_id": "u-1"}\n{"uri": "b\xff.jpg"}\n{"uri": "c.jpg"}\n')
    outcome = from_file.submit_file(str(source), rt)
    assert outcome.created == 2 and outcome.refused == [(2, "not UTF-8 text: invalid start byte at byte 10")]


def test_broker_down_counts_what_was_stored_but_not_sent(rt, photos, tmp_path):
    class DownDispatcher:
        def moderate_many(self, items):
            raise ConnectionError("redis down")

    rt.dispatcher = DownDispatcher()
    source = tmp_path / "items.ndjson"
    source.write_text('{"uri": "a.jpg", "external_id": "d-1"}\n{"uri": "b.jpg", "external_id": "d-2"}\n')
    outcome = from_file.submit_file(str(source), rt)
    assert (outcome.created, outcome.not_sent) == (2, 2)
    assert {i.status for i in stored(rt).values()} == {"queued"}
