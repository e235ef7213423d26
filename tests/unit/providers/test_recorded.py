"""RecordedProvider: answers replayed from a file, checked against botocore's model, labelled as recorded."""

from __future__ import annotations

import hashlib
import json

import pytest

from moderation.bootstrap import build_provider
from moderation.domain.errors import BadInput, DeploymentFault
from moderation.infra.media.imaging import prepare
from moderation.providers.recorded import RecordedProvider, load
from tests.conftest import REPO, SAMPLES, jpeg_bytes
from tests.settings_cases import assert_refused

ANSWERS = SAMPLES / "recorded" / "detect-moderation-labels.json"
WEAPONS = {"ModerationLabels": [
    {"Confidence": 74.2, "Name": "Weapons", "ParentName": "Violence", "TaxonomyLevel": 2},
    {"Confidence": 74.2, "Name": "Violence", "ParentName": "", "TaxonomyLevel": 1},
    {"Confidence": 31.0, "Name": "Alcohol", "ParentName": "", "TaxonomyLevel": 1}],
    "ModerationModelVersion": "7.0", "ContentTypes": []}


def answers_file(tmp_path, answers: dict, name: str = "answers.json"):
    path = tmp_path / name
    path.write_text(json.dumps({"answers": answers}))
    return path


def test_every_shipped_answer_is_for_a_sample_file_and_says_it_is_not_from_aws():
    doc = json.loads(ANSWERS.read_text())
    assert "NOT answers from AWS" in doc["about"]
    answers, version = load(ANSWERS)  # each response checked against botocore's service model
    assert len(answers) == len(doc["answers"]) >= 2 and version.startswith("recorded-")
    for sha, entry in doc["answers"].items():
        assert hashlib.sha256((SAMPLES / entry["file"]).read_bytes()).hexdigest() == sha, entry["file"]


def test_a_known_image_gets_its_answer_as_provider_recorded_above_min_confidence(tmp_path):
    data = jpeg_bytes()
    image = prepare(data)
    provider = RecordedProvider(answers_file(tmp_path, {hashlib.sha256(data).hexdigest(): {"response": WEAPONS}}))
    analysis = provider.analyze_image(image, 50)
    assert analysis.provider == "recorded" and analysis.model_version == provider.model_version
    assert [(lab.name, lab.confidence) for lab in analysis.labels] == [("Weapons", 74.2), ("Violence", 74.2)]
    assert analysis.raw["ModerationModelVersion"] == "7.0" and "no call was made" in analysis.raw["Replayed"]["note"]


def test_content_with_no_answer_fails_with_its_sha256_and_the_file(tmp_path):
    path = answers_file(tmp_path, {})
    image = prepare(jpeg_bytes(color=(1, 2, 3)))
    with pytest.raises(BadInput, match=f"no answer for this content \\(sha256 {image.sha256}\\) in {path}"):
        RecordedProvider(path).analyze_image(image, 50)


def test_video_frames_are_refused_plainly(tmp_path):
    with pytest.raises(BadInput, match="whole images only"):
        RecordedProvider(answers_file(tmp_path, {})).analyze_pil(None, 50)


def test_the_model_version_changes_with_the_file(tmp_path):
    key = "a" * 64
    first = RecordedProvider(answers_file(tmp_path, {key: {"response": WEAPONS}}, "one.json")).model_version
    edited = dict(WEAPONS, ModerationLabels=WEAPONS["ModerationLabels"][:2])
    second = RecordedProvider(answers_file(tmp_path, {key: {"response": edited}}, "two.json")).model_version
    assert first != second  # paying once never reuses an analysis from an edited file


@pytest.mark.parametrize("answers, message", [
    ({"not-a-sha": {"response": WEAPONS}}, "the key must be the content's sha256"),
    ({"b" * 64: {"answer": WEAPONS}}, "has no 'response' object"),
    ({"b" * 64: {"response": {"ModerationLabels": [{"Name": "Weapons", "Confidence": "high"}]}}},
     "is not a DetectModerationLabels response: Parameter validation failed: Invalid type for parameter "
     "ModerationLabels[0].Confidence, value: high"),
    ({"b" * 64: {"response": {"ModerationLabels": [], "Labels": []}}},
     "Unknown parameter in input: \"Labels\""),
    ({"b" * 64: {"response": {"ModerationLabels": [{"Name": "Weapons", "Confidence": 150.0}]}}},
     "Confidence of 0-100"),
])
def test_a_file_that_is_not_rekognition_shaped_is_a_deployment_fault_naming_the_entry(tmp_path, answers, message):
    path = answers_file(tmp_path, answers)
    with pytest.raises(DeploymentFault, match="MODQ_RECORDED_ANSWERS") as info:
        load(path)
    assert message in str(info.value) and str(path) in str(info.value)


def test_an_unreadable_file_is_a_deployment_fault(tmp_path):
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(DeploymentFault, match="cannot read"):
        RecordedProvider(tmp_path / "bad.json").model_version


def test_the_runtime_builds_it_from_the_settings(make_settings):
    provider = build_provider(make_settings(provider="recorded", recorded_answers=ANSWERS))
    assert provider.name == "recorded" and provider.model_version.startswith("recorded-")
    assert provider.reads_s3_directly is False  # S3 media is downloaded: its bytes name the answer


@pytest.mark.parametrize("env, message", [
    ({"MODQ_PROVIDER": "recorded"}, "MODQ_PROVIDER=recorded needs MODQ_RECORDED_ANSWERS"),
    ({"MODQ_PROVIDER": "recorded", "MODQ_RECORDED_ANSWERS": str(REPO / "nope.json")},
     f"MODQ_RECORDED_ANSWERS: no such file: {REPO / 'nope.json'}"),
])
def test_settings_refuse_the_recorded_provider_without_its_file(monkeypatch, env, message):
    assert_refused(monkeypatch, env, message)
