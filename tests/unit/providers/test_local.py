"""The offline provider: parity with NudeNet, taxonomy mapping, EXIF, errors, session reuse."""

from __future__ import annotations

import io
import random
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from onnxruntime.capi.onnxruntime_pybind11_state import Fail
from PIL import Image

from moderation.infra.media import imaging
from moderation.domain import taxonomy
from moderation.domain.errors import BadInput, DeploymentFault, TransientFault
from moderation.infra.media.imaging import PreparedImage, S3Object
from moderation.providers import nudenet_model
from moderation.providers.local import LocalProvider, to_labels
from tests.rekognition_shapes import validate_output

REPO = Path(__file__).resolve().parents[3]
SAMPLES = sorted(p for p in (REPO / "samples").iterdir() if p.suffix in (".jpg", ".png"))
ORIENTATION = 0x0112


@pytest.fixture(scope="module")
def reference():
    """NudeNet's own detector, the behaviour we must reproduce."""
    nudenet = pytest.importorskip("nudenet")
    return nudenet.NudeDetector()


def det(cls: str, score: float, box=(0, 0, 10, 10)) -> dict:
    return {"class": cls, "score": score, "box": list(box)}


def by_name(labels) -> dict[str, float]:
    return {label.name: label.confidence for label in labels}


# --- (a) parity with nudenet.NudeDetector ---------------------------------------------------


def test_there_are_real_sample_photos_and_some_have_detections(reference):
    assert len(SAMPLES) >= 4
    assert any(reference.detect(str(path)) for path in SAMPLES), "parity would be vacuous"


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_detections_match_nudenet(path, reference):
    ours = nudenet_model.detect_boxes(Image.open(path))
    theirs = reference.detect(str(path))
    assert [d["class"] for d in ours] == [d["class"] for d in theirs]
    for mine, ref in zip(ours, theirs):
        assert mine["score"] == pytest.approx(ref["score"], abs=0.01)
        assert mine["box"] == pytest.approx(ref["box"], abs=1)


def test_class_order_is_nudenets(reference):
    import nudenet.nudenet as impl

    assert list(nudenet_model.CLASSES) == getattr(impl, "__labels")


# Crops that hit the edge cases of cv2's resize: upscaling, tall, wide, odd sizes.
CROPS = [(0, 0, 512, 512), (100, 50, 190, 130), (0, 0, 120, 500), (30, 0, 512, 97), (1, 1, 321, 320)]


@pytest.mark.parametrize("crop", CROPS)
def test_model_input_matches_nudenet_preprocessing(crop):
    from nudenet.nudenet import _read_image

    rgb = Image.open(REPO / "samples" / "astronaut.jpg").convert("RGB").crop(crop)
    expected = _read_image(np.ascontiguousarray(np.asarray(rgb)[:, :, ::-1]))[0]  # nudenet takes BGR arrays
    np.testing.assert_allclose(nudenet_model.preprocess(rgb), expected, atol=1e-6)


@pytest.mark.parametrize("seed", range(20))
def test_postprocessing_matches_nudenet_on_crowded_outputs(seed):
    """Real photos give one or two boxes; random outputs exercise thresholds and NMS properly."""
    from nudenet.nudenet import _postprocess

    rng = np.random.default_rng(seed)
    width, height = (int(v) for v in rng.integers(80, 2000, 2))
    output = np.zeros((1, 22, 2100), np.float32)
    n = 80
    output[0, 0:2, :n] = rng.uniform(0, 320, (2, n))
    output[0, 2:4, :n] = rng.uniform(1, 120, (2, n))
    output[0, 4:, :n] = rng.uniform(0, 1, (18, n)) * rng.uniform(0, 0.6, n)  # best scores spread over 0..0.6
    output[0, 4:, n:] = rng.uniform(0, 0.19, (18, 2100 - n))
    side = max(width, height)
    expected = _postprocess([output], side - width, side - height, 0, 0, width, height, 320, 320)
    assert len(expected) > 1
    assert any(0.2 <= s < 0.25 for s in output[0, 4:, :n].max(axis=0))  # the band where nudenet's thresholds differ
    assert nudenet_model.postprocess(output, width, height) == expected


# --- (b) end to end on real photos ----------------------------------------------------------


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_real_photo_end_to_end(path, reference):
    analysis = LocalProvider().analyze_image(imaging.prepare(path.read_bytes()), 0)
    validate_output("DetectModerationLabels", analysis.raw)
    assert analysis.provider == "local"
    assert analysis.model_version == analysis.raw["ModerationModelVersion"] == "nudenet-3.4.2-320n"
    assert analysis.raw["ModerationLabels"] == analysis.labels_as_dicts()
    assert analysis.labels == to_labels(reference.detect(str(path)), 0)


def test_raw_with_every_mapped_label_validates(monkeypatch):
    detections = [det(cls, 0.3 + i / 50) for i, cls in enumerate(nudenet_model.CLASSES)]
    monkeypatch.setattr(nudenet_model, "detect_boxes", lambda img, threads=1: detections)
    analysis = LocalProvider().analyze_pil(Image.new("RGB", (100, 100)), 0)
    validate_output("DetectModerationLabels", analysis.raw)
    every_mapped = {name for _, chain in CHAINS for name in chain} | {"Male Swimwear or Underwear"}
    assert {label["Name"] for label in analysis.raw["ModerationLabels"]} == every_mapped
    assert analysis.raw["ModerationLabels"] == analysis.labels_as_dicts()


# --- (c) class -> taxonomy mapping ----------------------------------------------------------

EXPLICIT = ["Explicit Nudity", "Explicit"]
SWIMWEAR = "Swimwear or Underwear"
CHAINS = [
    ("FEMALE_GENITALIA_EXPOSED", ["Exposed Female Genitalia", *EXPLICIT]),
    ("MALE_GENITALIA_EXPOSED", ["Exposed Male Genitalia", *EXPLICIT]),
    ("BUTTOCKS_EXPOSED", ["Exposed Buttocks or Anus", *EXPLICIT]),
    ("ANUS_EXPOSED", ["Exposed Buttocks or Anus", *EXPLICIT]),
    ("FEMALE_BREAST_EXPOSED", ["Exposed Female Nipple", *EXPLICIT]),
    ("MALE_BREAST_EXPOSED",
     ["Exposed Male Nipple", "Non-Explicit Nudity", "Non-Explicit Nudity of Intimate parts and Kissing"]),
    ("FEMALE_BREAST_COVERED", ["Female Swimwear or Underwear", SWIMWEAR]),
    ("FEMALE_GENITALIA_COVERED", ["Female Swimwear or Underwear", SWIMWEAR]),
    ("BUTTOCKS_COVERED", [SWIMWEAR]),  # alone: sex unknown, only the L1 label
    ("ANUS_COVERED", [SWIMWEAR]),
]
IGNORED = ["FACE_FEMALE", "FACE_MALE", "FEET_COVERED", "FEET_EXPOSED",
           "ARMPITS_COVERED", "ARMPITS_EXPOSED", "BELLY_COVERED", "BELLY_EXPOSED"]


def test_tables_cover_every_model_class():
    assert sorted([c for c, _ in CHAINS] + IGNORED) == sorted(nudenet_model.CLASSES)


@pytest.mark.parametrize("cls,chain", CHAINS)
def test_class_maps_to_leaf_and_every_ancestor(cls, chain):
    labels = {label.name: label for label in to_labels([det(cls, 0.61234)], 0)}
    assert sorted(labels) == sorted(chain)
    for i, name in enumerate(chain):
        assert labels[name].parent_name == (chain[i + 1] if i + 1 < len(chain) else "")
        assert labels[name].taxonomy_level == taxonomy.lookup(name).level == len(chain) - i
        assert labels[name].confidence == 61.234


@pytest.mark.parametrize("cls", IGNORED)
def test_ignored_classes_give_no_label(cls):
    assert to_labels([det(cls, 0.99)], 0) == []


@pytest.mark.parametrize("score,confidence", [(0.7307430505752563, 73.074), (0.123456, 12.346), (1.0, 100.0),
                                              (0.25, 25.0), (0.000004, 0.0)])
def test_confidence_is_score_times_100_rounded_to_3_places(score, confidence):
    assert by_name(to_labels([det("FEMALE_BREAST_EXPOSED", score)], 0))["Exposed Female Nipple"] == confidence


@pytest.mark.parametrize("detections,expected", [
    pytest.param([det("BUTTOCKS_COVERED", 0.6), det("FEMALE_BREAST_COVERED", 0.3)],
                 {"Female Swimwear or Underwear": 60.0, SWIMWEAR: 60.0}, id="female-context"),
    pytest.param([det("BUTTOCKS_COVERED", 0.6), det("MALE_BREAST_EXPOSED", 0.3)],
                 {"Male Swimwear or Underwear": 60.0, SWIMWEAR: 60.0, "Exposed Male Nipple": 30.0,
                  "Non-Explicit Nudity": 30.0, "Non-Explicit Nudity of Intimate parts and Kissing": 30.0},
                 id="male-context"),
    pytest.param([det("ANUS_COVERED", 0.5), det("MALE_GENITALIA_EXPOSED", 0.4)],
                 {"Male Swimwear or Underwear": 50.0, SWIMWEAR: 50.0, "Exposed Male Genitalia": 40.0,
                  "Explicit Nudity": 40.0, "Explicit": 40.0}, id="anus-male-context"),
    pytest.param([det("BUTTOCKS_COVERED", 0.6), det("FEMALE_GENITALIA_EXPOSED", 0.3), det("MALE_BREAST_EXPOSED", 0.3)],
                 {"Female Swimwear or Underwear": 60.0, "Male Swimwear or Underwear": 60.0, SWIMWEAR: 60.0,
                  "Exposed Female Genitalia": 30.0, "Explicit Nudity": 30.0, "Explicit": 30.0,
                  "Exposed Male Nipple": 30.0, "Non-Explicit Nudity": 30.0,
                  "Non-Explicit Nudity of Intimate parts and Kissing": 30.0}, id="both-sexes"),
    pytest.param([det("BUTTOCKS_COVERED", 0.6), det("FACE_FEMALE", 0.9), det("FEET_EXPOSED", 0.8)],
                 {SWIMWEAR: 60.0}, id="faces-and-feet-do-not-decide"),
])
def test_covered_buttocks_sex_comes_from_other_boxes(detections, expected):
    assert by_name(to_labels(detections, 0)) == expected


@pytest.mark.parametrize("detections,expected", [
    pytest.param([det("FEMALE_BREAST_EXPOSED", 0.41), det("BUTTOCKS_EXPOSED", 0.87),
                  det("MALE_GENITALIA_EXPOSED", 0.55)],
                 {"Exposed Female Nipple": 41.0, "Exposed Buttocks or Anus": 87.0, "Exposed Male Genitalia": 55.0,
                  "Explicit Nudity": 87.0, "Explicit": 87.0}, id="explicit-siblings"),
    pytest.param([det("FEMALE_BREAST_COVERED", 0.35), det("BUTTOCKS_COVERED", 0.72),
                  det("FEMALE_GENITALIA_COVERED", 0.5)],
                 {"Female Swimwear or Underwear": 72.0, SWIMWEAR: 72.0}, id="swimwear"),
    pytest.param([det("FEMALE_BREAST_EXPOSED", 0.3), det("FEMALE_BREAST_EXPOSED", 0.8),
                  det("FEMALE_BREAST_EXPOSED", 0.5)],
                 {"Exposed Female Nipple": 80.0, "Explicit Nudity": 80.0, "Explicit": 80.0}, id="same-class-boxes"),
])
def test_parent_confidence_is_max_of_children_and_one_entry_per_name(detections, expected):
    labels = to_labels(detections, 0)
    assert by_name(labels) == expected
    assert len(labels) == len({label.name for label in labels})


@pytest.mark.parametrize("min_confidence,expected", [
    (0, {"Exposed Female Nipple", "Exposed Buttocks or Anus", "Explicit Nudity", "Explicit"}),
    (50, {"Exposed Female Nipple", "Exposed Buttocks or Anus", "Explicit Nudity", "Explicit"}),
    (60, {"Exposed Buttocks or Anus", "Explicit Nudity", "Explicit"}),
    (90.5, {"Exposed Buttocks or Anus", "Explicit Nudity", "Explicit"}),  # inclusive, like MinConfidence
    (90.6, set()),
])
def test_min_confidence_drops_labels_below_it(min_confidence, expected):
    detections = [det("FEMALE_BREAST_EXPOSED", 0.5), det("BUTTOCKS_EXPOSED", 0.905)]
    assert set(by_name(to_labels(detections, min_confidence))) == expected


@pytest.mark.parametrize("seed", range(30))
def test_label_tree_invariants_on_random_detections(seed):
    """Whatever the boxes and threshold: parents present, never below a child, equal to the best child."""
    rng = random.Random(seed)
    detections = [det(rng.choice(nudenet_model.CLASSES), rng.uniform(0.25, 1)) for _ in range(rng.randint(0, 8))]
    min_confidence = rng.uniform(0, 100)
    kept = by_name(to_labels(detections, min_confidence))
    everything = to_labels(detections, 0)
    for label in to_labels(detections, min_confidence):
        assert label.confidence >= min_confidence
        if label.parent_name:
            assert kept[label.parent_name] >= label.confidence
    for label in everything:
        children = [c.confidence for c in everything if c.parent_name == label.name]
        if children:
            assert label.confidence == max(children)


def test_min_confidence_outside_0_100_is_bad_input():
    with pytest.raises(BadInput, match="MinConfidence"):
        LocalProvider().analyze_pil(Image.new("RGB", (100, 100)), 101)


# --- (d) EXIF orientation -------------------------------------------------------------------

# Orientation tag -> how a camera stores an upright scene for it (inverse of exif_transpose).
STORED_AS = {6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270, 3: Image.Transpose.ROTATE_180}


@pytest.mark.parametrize("orientation", sorted(STORED_AS))
def test_exif_orientation_is_applied_before_the_model(orientation, monkeypatch):
    upright = Image.open(REPO / "samples" / "astronaut.jpg").convert("RGB").crop((0, 0, 512, 420))
    stored = upright.transpose(STORED_AS[orientation])
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    buf = io.BytesIO()
    stored.save(buf, "JPEG", quality=95, exif=exif.tobytes())

    seen = []
    real = nudenet_model.detect_boxes

    def recording(img, threads=1):
        seen.append(real(img, threads))
        return seen[-1]

    monkeypatch.setattr(nudenet_model, "detect_boxes", recording)
    LocalProvider().analyze_image(imaging.prepare(buf.getvalue()), 0)

    expected = real(upright)
    ignoring_exif = real(stored)  # what nudenet.NudeDetector would analyse
    assert expected and [d["box"] for d in ignoring_exif] != [d["box"] for d in expected], "test cannot discriminate"
    assert [d["class"] for d in seen[0]] == [d["class"] for d in expected]
    for got, want in zip(seen[0], expected):
        assert got["box"] == pytest.approx(want["box"], abs=3)
        assert got["score"] == pytest.approx(want["score"], abs=0.03)


# --- (e) bad input --------------------------------------------------------------------------


def _truncated_jpeg() -> bytes:
    data = (REPO / "samples" / "astronaut.jpg").read_bytes()
    return data[: len(data) // 3]


@pytest.mark.parametrize("data,fmt", [
    pytest.param(b"\xff\xd8\xff" + bytes(range(256)) * 4, "jpeg", id="jpeg-header-garbage"),
    pytest.param(b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "png", id="png-header-garbage"),
    pytest.param(b"this is not an image at all", "", id="text"),
    pytest.param(_truncated_jpeg(), "jpeg", id="truncated-jpeg"),
])
def test_undecodable_bytes_are_bad_input_with_a_reason(data, fmt):
    with pytest.raises(BadInput) as caught:
        LocalProvider().analyze_image(PreparedImage(data=data, format=fmt), 0)
    message = str(caught.value)
    assert message.startswith(f"cannot decode {fmt or 'image'} data ({len(data)} bytes): ")
    assert len(message) > len(f"cannot decode {fmt} data ({len(data)} bytes): ") + 5  # Pillow's reason follows


def test_s3_only_image_is_a_programming_error():
    with pytest.raises(RuntimeError, match="local provider needs bytes"):
        LocalProvider().analyze_image(PreparedImage(s3=S3Object("bucket", "key.jpg")), 0)


def test_onnxruntime_failure_is_transient(monkeypatch):
    class BrokenSession:
        def get_inputs(self):
            return [type("Input", (), {"name": "images"})()]

        def run(self, *args, **kwargs):
            raise Fail("[ONNXRuntimeError] : 1 : FAIL : simulated")

    monkeypatch.setattr(nudenet_model, "get_session", lambda threads=1: BrokenSession())
    with pytest.raises(TransientFault, match="onnxruntime failed: Fail"):
        LocalProvider().analyze_pil(Image.new("RGB", (100, 100)), 0)


def test_missing_model_file_is_a_deployment_fault(monkeypatch, tmp_path):
    monkeypatch.setattr(nudenet_model, "_SESSIONS", {})
    monkeypatch.setattr(nudenet_model, "model_path", lambda: tmp_path / "320n.onnx")
    with pytest.raises(DeploymentFault, match="320n.onnx"):
        LocalProvider().analyze_pil(Image.new("RGB", (100, 100)), 0)


# --- (f) one session per process ------------------------------------------------------------


@pytest.fixture
def created_sessions(monkeypatch) -> list[ort.InferenceSession]:
    """Empty the process cache and record every InferenceSession built from now on."""
    monkeypatch.setattr(nudenet_model, "_SESSIONS", {})
    created = []
    real = ort.InferenceSession

    def recording(*args, **kwargs):
        created.append(real(*args, **kwargs))
        return created[-1]

    monkeypatch.setattr(nudenet_model.ort, "InferenceSession", recording)
    return created


def test_providers_and_calls_share_one_session(created_sessions):
    photo = Image.open(REPO / "samples" / "astronaut.jpg")
    for provider in (LocalProvider(), LocalProvider(threads=1)):
        provider.analyze_pil(photo, 0)
        provider.analyze_pil(photo, 0)
    assert len(created_sessions) == 1


def test_concurrent_first_calls_create_one_session(created_sessions):
    start = threading.Barrier(4)

    def first_call(_):
        start.wait()
        return nudenet_model.get_session(1)

    with ThreadPoolExecutor(4) as pool:
        sessions = list(pool.map(first_call, range(4)))
    assert len(created_sessions) == 1
    assert all(s is created_sessions[0] for s in sessions)


@pytest.mark.parametrize("threads", [1, 2])
def test_session_uses_configured_threads_without_spinning(threads, created_sessions):
    LocalProvider(threads=threads).analyze_pil(Image.new("RGB", (100, 100)), 0)
    options = created_sessions[0].get_session_options()
    assert options.intra_op_num_threads == threads
    assert options.inter_op_num_threads == 1
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert options.get_session_config_entry("session.inter_op.allow_spinning") == "0"
    assert Path(created_sessions[0]._model_path) == nudenet_model.model_path()


def test_model_loads_from_the_wheel_without_importing_nudenet_or_cv2():
    code = (
        "import sys; from PIL import Image; from moderation.providers.local import LocalProvider;"
        "LocalProvider().analyze_pil(Image.new('RGB', (100, 100)), 0);"
        "print(sorted(m for m in ('cv2', 'nudenet') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
