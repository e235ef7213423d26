"""Every thresholds file modq ships validates cleanly: no error, no warning from the parser, and no rule
under its own min_confidence (what `modq policy simulate` would warn about on every run, issue 14.7)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from moderation.domain import policy
from moderation.policy.replay import unexplorable
from tests.conftest import REPO

SKIP_DIRS = {".git", ".venv", "node_modules", "deploy", ".github", "build", "dist", "tests"}
POLICY_KEYS = {"min_confidence", "default", "labels", "providers", "subjects", "priority", "reasons"}
PROVIDERS = ("rekognition", "local")


def _is_policy(path: Path) -> bool:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError):
        return False  # not YAML modq would read as a policy; a real policy file fails below by name
    return isinstance(doc, dict) and bool(doc) and set(doc) <= POLICY_KEYS and "labels" in doc


def shipped() -> list[Path]:
    """Policy-shaped YAML anywhere in the repository outside tests and tooling (config/, samples/, docs/...)."""
    found = []
    for root, dirs, files in os.walk(REPO):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]  # not into the virtualenv, git or the tests
        found += [Path(root, f) for f in files if f.endswith((".yaml", ".yml")) and _is_policy(Path(root, f))]
    return sorted(found)


def test_the_default_thresholds_file_is_found():
    assert REPO / "config" / "thresholds.yaml" in shipped()


@pytest.mark.parametrize("path", shipped(), ids=lambda p: str(p.relative_to(REPO)))
def test_a_shipped_thresholds_file_validates_cleanly(path):
    loaded = policy.load(path)  # raises, naming every bad key, if it is invalid
    assert loaded.warnings == ()
    floors = {name: loaded.for_provider(name).min_confidence for name in (*PROVIDERS, *loaded.profiles)}
    assert unexplorable(loaded, floors) == []


def test_the_check_catches_a_rule_under_min_confidence():
    """What the shipped file used to have (Self-Harm flag 40 under Rekognition's 50) is what the test refuses."""
    loaded = policy.parse("min_confidence: 50\ndefault: {flag: 80, reject: null}\n"
                          "labels:\n  Self-Harm: {flag: 40, reject: null}\n")
    assert unexplorable(loaded, {"rekognition": loaded.min_confidence}) == [
        "rekognition: Self-Harm flag 40 is below the min_confidence 50 the analyses were made with; labels under "
        "50% were never returned, so replay cannot show its effect"]
