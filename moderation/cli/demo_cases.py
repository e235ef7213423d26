"""What `modq demo` moderates, and how each outcome comes about honestly.

Two phases, each run by a real worker of its own (``moderation/cli/demo.py``):

* ``recorded``: a worker with ``MODQ_PROVIDER=recorded`` replays the answers in
  ``samples/recorded/detect-moderation-labels.json``, written by hand in
  Rekognition's response shape (not answers from AWS), for copies of three
  sample photos: two end ``flagged`` for a reviewer, one ``approved`` with a
  label the thresholds ignore;
* ``offline``: a worker with the offline model (NudeNet) judges the sample
  photos (``approved``: it finds nothing to moderate in them), a text file
  named ``.jpg`` (``failed``, with the reason) and the re-upload of an image
  banked as known-bad (``rejected`` by the hash bank, before any model call).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw

from moderation.items.banks import services as banks
from moderation.cli.bank import identify
from moderation.cli.common import operator

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples"
ANSWERS = SAMPLES / "recorded" / "detect-moderation-labels.json"
PHOTOS = ("*.jpg", "*.jpeg", "*.png")
BROKEN = "not-really-a-photo.jpg"
KNOWN_BAD = "known-bad.png"  # banked as rejected; never submitted itself
REUPLOAD = "reupload-of-known-bad.png"  # the same bytes under another name: what the bank catches
REPLAYED = "replayed"  # sub-directory of the media root for the recorded phase's copies
BANK_NOTE = "modq demo: a stand-in for known-bad content (a generated poster)"


@dataclass(frozen=True)
class Phase:
    name: str  # on the progress bar
    worker_env: dict[str, str]  # the provider its worker runs with
    files: list[Path] = field(default_factory=list)  # under the media root, in submit order


def prepare(settings) -> list[Phase]:
    """Copy the media under ``settings.media_root``, bank the known-bad image; the phases in run order."""
    root = Path(settings.media_root)
    root.mkdir(parents=True, exist_ok=True)
    recorded = Phase("recorded answers (replayed, not AWS)",
                     {"MODQ_PROVIDER": "recorded", "MODQ_RECORDED_ANSWERS": str(ANSWERS)},
                     replayed_copies(root))
    offline = Phase("offline model (NudeNet)", {"MODQ_PROVIDER": "local"},
                    prepare_media(root) + [bank_known_bad(root, settings)])
    return [recorded, offline]


def prepare_media(root: Path) -> list[Path]:
    """The sample photos and one broken file, copied into ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    files = sorted(p for pattern in PHOTOS for p in SAMPLES.glob(pattern))
    if not files:
        raise SystemExit(f"no sample images found in {SAMPLES}")
    for src in files:
        shutil.copy2(src, root / src.name)
    broken = root / BROKEN
    broken.write_text("this is a text file with a .jpg name\n")
    return [root / f.name for f in files] + [broken]


def replayed_copies(root: Path) -> list[Path]:
    """A copy of each sample the answers file has an answer for, under ``root/replayed``."""
    doc = json.loads(ANSWERS.read_text())
    target = root / REPLAYED
    target.mkdir(parents=True, exist_ok=True)
    copies = []
    for entry in doc["answers"].values():
        shutil.copy2(SAMPLES / entry["file"], target / entry["file"])
        copies.append(target / entry["file"])
    return copies


def bank_known_bad(root: Path, settings) -> Path:
    """Draw the known-bad stand-in, bank it as rejected (as `modq bank add FILE --verdict rejected` does) and
    write its re-upload: the same bytes under another name. Returns the re-upload's path."""
    original = root / KNOWN_BAD
    poster(original)
    key, pdq = identify(KNOWN_BAD, settings)
    banks.bank(settings.database_url, key, "rejected", note=BANK_NOTE, source="demo", added_by=operator(), pdq=pdq)
    reupload = root / REUPLOAD
    shutil.copyfile(original, reupload)
    return reupload


def poster(path: Path) -> None:
    """A plain generated image (no photo, nothing to moderate in it): what the bank is told is known-bad."""
    img = Image.new("RGB", (360, 240), (120, 20, 30))
    draw = ImageDraw.Draw(img)
    draw.rectangle((12, 12, 347, 227), outline=(250, 220, 220), width=4)
    draw.text((40, 90), "KNOWN-BAD STAND-IN", fill=(255, 255, 255))
    draw.text((40, 120), "banked as rejected by modq demo", fill=(255, 230, 230))
    img.save(path, "PNG")


def how_decided(view: dict) -> str:
    """What decided an item, read from its stored outcome (never from the plan)."""
    reasons = " ".join(view["reasons"])
    if view["status"] == "failed":
        return "media check (bad input)" if view["provider"] != "recorded" else "recorded provider (no answer)"
    if "hash bank entry" in reasons:
        return "hash bank (no model call)"
    reused = " (earlier analysis reused)" if "reused" in reasons else ""
    if view["provider"] == "recorded":
        return "recorded answer, replayed (not AWS)" + reused
    if view["provider"] == "local":
        return "offline model (NudeNet)" + reused
    return view["provider"] or "-"
