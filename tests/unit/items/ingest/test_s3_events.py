"""Parsing S3 upload events: the three envelope shapes, what is ignored, key decoding, stable ids."""

from __future__ import annotations

import json

import pytest

from moderation.items.ingest.s3_events import BadRecord, Ignored, ObjectCreated, parse_body
from tests.s3_event_shapes import eventbridge, notification, s3_record, s3_test_event, sns_envelope

BUCKET = "ugc-uploads"


def created(body: str) -> list[ObjectCreated]:
    outcomes = parse_body(body)
    assert all(isinstance(o, ObjectCreated) for o in outcomes), outcomes
    return outcomes


def test_a_notification_straight_to_sqs():
    [ev] = created(notification(s3_record(BUCKET, "u/42/cat.jpg", version="096fKKXTRTtl3on89fVO.nfljtsv6qko")))
    assert (ev.bucket, ev.key, ev.version, ev.sequencer) == (BUCKET, "u/42/cat.jpg", "096fKKXTRTtl3on89fVO.nfljtsv6qko",
                                                             "0055AED6DCD90281E5")
    assert (ev.size, ev.etag, ev.event_name, ev.shape) == (1024, "d41d8cd98f00b204e9800998ecf8427e",
                                                          "ObjectCreated:Put", "s3")
    assert ev.requester == "AWS:AIDAJDPLRKLG7UEXAMPLE" and ev.event_time == "2026-11-22T07:00:00.000Z"
    assert "203.0.113.9" not in ev.raw and "sourceIPAddress" not in ev.raw  # the uploader's IP is not kept


def test_the_same_records_in_an_sns_envelope():
    body = sns_envelope(notification(s3_record(BUCKET, "a.jpg"), s3_record(BUCKET, "b.png")))
    assert [(e.key, e.shape) for e in created(body)] == [("a.jpg", "sns"), ("b.png", "sns")]


def test_an_eventbridge_object_created_event():
    [ev] = created(eventbridge(BUCKET, "u/42/clip one+two.mp4", size=2048))
    assert (ev.bucket, ev.key, ev.size, ev.shape) == (BUCKET, "u/42/clip one+two.mp4", 2048, "eventbridge")
    assert ev.version == "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e"
    assert ev.etag == "b1946ac92492d2347c6235b4d2611184" and ev.event_name == "ObjectCreated:PutObject"
    assert "source-ip-address" not in ev.raw


def test_eventbridge_through_sns_keeps_its_shape_readable():
    [ev] = created(sns_envelope(eventbridge(BUCKET, "x.jpg")))
    assert ev.key == "x.jpg" and ev.shape == "sns"


@pytest.mark.parametrize("body, reason", [
    (s3_test_event(BUCKET), "test_event"),
    (sns_envelope(s3_test_event(BUCKET)), "test_event"),
    (notification(s3_record(BUCKET, "a.jpg", event="ObjectRemoved:Delete")), "not_a_create"),
    (notification(s3_record(BUCKET, "a.jpg", event="ObjectRemoved:DeleteMarkerCreated")), "not_a_create"),
    (notification(s3_record(BUCKET, "a.jpg", event="ObjectRestore:Completed")), "not_a_create"),
    (notification(s3_record(BUCKET, "a.jpg", event="ObjectTagging:Put")), "not_a_create"),
    (eventbridge(BUCKET, "a.jpg", detail_type="Object Deleted"), "not_a_create"),
])
def test_test_events_and_other_events_are_ignored(body, reason):
    [outcome] = parse_body(body)
    assert isinstance(outcome, Ignored) and outcome.reason == reason


@pytest.mark.parametrize("event", ["ObjectCreated:Put", "ObjectCreated:Post", "ObjectCreated:Copy",
                                   "ObjectCreated:CompleteMultipartUpload", "s3:ObjectCreated:Put"])
def test_every_kind_of_create_counts(event):
    assert created(notification(s3_record(BUCKET, "a.jpg", event=event)))[0].event_name == event


@pytest.mark.parametrize("raw, key", [
    ("red+flower.jpg", "red flower.jpg"),  # "+" is a space
    ("c%2B%2B+notes.png", "c++ notes.png"),  # a real "+" is %2B
    ("a%20b.jpg", "a b.jpg"),  # %20 is a space too
    ("caf%C3%A9/%E5%86%99%E7%9C%9F.jpg", "café/写真.jpg"),  # percent-encoded UTF-8
    ("100%25+sure.jpg", "100% sure.jpg"),
    ("q%3Fx%23y.jpg", "q?x#y.jpg"),
    ("dir%2Fsub/file.jpg", "dir/sub/file.jpg"),  # "/" arrives either way
])
def test_keys_are_url_decoded_as_s3_encodes_them(raw, key):
    assert created(notification(s3_record(BUCKET, "", raw_key=raw)))[0].key == key


def test_eventbridge_keys_are_taken_as_they_are():
    assert created(eventbridge(BUCKET, "a+b%20c.jpg"))[0].key == "a+b%20c.jpg"


def test_one_malformed_record_leaves_the_others_readable():
    good, bad = s3_record(BUCKET, "a.jpg"), s3_record(BUCKET, "b.jpg")
    del bad["s3"]["object"]["key"]
    outcomes = parse_body(notification(good, bad, s3_record(BUCKET, "c.jpg")))
    assert [type(o).__name__ for o in outcomes] == ["ObjectCreated", "BadRecord", "ObjectCreated"]
    assert outcomes[1].index == 1 and outcomes[1].reason == "s3.object.key is missing or not a string"
    assert json.loads(outcomes[1].raw)["s3"]["object"]["eTag"] == bad["s3"]["object"]["eTag"]  # kept as received
    assert "203.0.113.9" not in outcomes[1].raw


@pytest.mark.parametrize("mutate, reason", [
    (lambda r: r["s3"]["object"].update(key="%FF%FE.jpg"), "is not URL-encoded UTF-8"),
    (lambda r: r["s3"]["object"].update(key=""), "s3.object.key is missing"),
    (lambda r: r["s3"]["object"].update(size="big"), "object size 'big' is not a whole number"),
    (lambda r: r["s3"].pop("bucket"), "s3.bucket is missing"),
    (lambda r: r.pop("eventName"), "eventName is missing"),
    (lambda r: r.update(s3=[]), "s3 is missing or not an object"),
])
def test_bad_records_say_what_is_wrong(mutate, reason):
    record = s3_record(BUCKET, "a.jpg")
    mutate(record)
    [outcome] = parse_body(notification(record))
    assert isinstance(outcome, BadRecord) and reason in outcome.reason and outcome.index == 0


@pytest.mark.parametrize("body, reason", [
    ("not json", "message body is not JSON"),
    (json.dumps({"Type": "Notification", "Message": "{oops"}), "SNS message is not JSON"),
    ("[]", "the JSON is not an object"),
    (json.dumps({"Records": {"a": 1}}), "Records is not a list"),
    (json.dumps({"JobId": "x"}), "no Records, EventBridge detail or TestEvent"),
])
def test_a_body_that_is_not_an_event_is_one_bad_record_with_the_whole_body(body, reason):
    [outcome] = parse_body(body)
    assert isinstance(outcome, BadRecord) and reason in outcome.reason
    assert outcome.index == -1 and outcome.raw == body


def test_a_record_that_is_not_an_object_is_bad():
    [outcome] = parse_body(json.dumps({"Records": ["x"]}))
    assert isinstance(outcome, BadRecord) and outcome.reason == "record is not a JSON object"


# --- external ids -------------------------------------------------------------------


def external_id(body: str) -> str:
    return created(body)[0].external_id


def test_the_same_upload_has_one_external_id_whatever_the_route():
    record = s3_record(BUCKET, "u/a b.jpg", version="v1", sequencer="0A")
    ids = {external_id(notification(record)), external_id(sns_envelope(notification(record))),
           external_id(eventbridge(BUCKET, "u/a b.jpg", version="v1", sequencer="0A"))}
    assert len(ids) == 1
    [only] = ids
    assert only.startswith("s3:") and len(only) == 67


def test_another_upload_of_the_same_key_is_another_item():
    versioned = {external_id(notification(s3_record(BUCKET, "a.jpg", version=v))) for v in ("v1", "v2")}
    unversioned = {external_id(notification(s3_record(BUCKET, "a.jpg", sequencer=s))) for s in ("0A", "0B")}
    assert len(versioned) == 2 and len(unversioned) == 2


def test_the_null_version_of_an_unversioned_write_falls_back_to_the_sequencer():
    first = created(notification(s3_record(BUCKET, "a.jpg", version="null", sequencer="0A")))[0]
    second = created(notification(s3_record(BUCKET, "a.jpg", version="null", sequencer="0B")))[0]
    assert first.version == "" and first.external_id != second.external_id


def test_without_version_or_sequencer_the_etag_identifies_the_upload():
    one = s3_record(BUCKET, "a.jpg", etag="e1", sequencer="")
    same = s3_record(BUCKET, "a.jpg", etag="e1", sequencer="")
    other = s3_record(BUCKET, "a.jpg", etag="e2", sequencer="")
    assert external_id(notification(one)) == external_id(notification(same)) != external_id(notification(other))


def test_bucket_key_and_upload_cannot_run_into_each_other():
    # keys may hold any character, newlines and quotes included
    a = external_id(notification(s3_record(BUCKET, "x", version="y", sequencer="")))
    b = external_id(notification(s3_record(BUCKET, 'x", "version:y', sequencer="", etag="")))
    c = external_id(notification(s3_record(BUCKET, "x\nversion:y", sequencer="", etag="")))
    d = external_id(notification(s3_record("ugc-uploads2", "x", version="y", sequencer="")))
    assert len({a, b, c, d}) == 4


def test_a_1024_byte_key_still_fits_an_external_id():
    key = "k/" + "é" * 511  # 1,024 bytes of UTF-8
    assert len(external_id(notification(s3_record(BUCKET, key)))) <= 255
