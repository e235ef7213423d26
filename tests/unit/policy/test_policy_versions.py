"""Versioned policies: apply/history/diff (store and CLI), workers' refresh, replay from the DB, /v1/policy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from moderation.domain import policy
from moderation.policy import versions as policy_store
from moderation.cli.main import app
from moderation.domain.errors import ConfigError
from moderation.items import models as m
from moderation.infra.db import transaction
from tests.review_items import decided_item

runner = CliRunner()
STRICT = "min_confidence: 50\ndefault: {flag: 80, reject: null}\nlabels:\n  Hate Symbols: {flag: 40, reject: 60}\n"
LENIENT = "min_confidence: 50\ndefault: {flag: 80, reject: null}\nlabels:\n  Hate Symbols: {flag: 90, reject: null}\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_apply_is_versioned_and_idempotent(rt):
    url = rt.settings.database_url
    first = policy_store.apply(url, STRICT, author="ann", note="stricter")
    assert first.created and first.version == policy.parse(STRICT).version
    assert not policy_store.apply(url, "# same meaning\n" + STRICT, author="bob").created
    policy_store.apply(url, LENIENT, author="bob")
    policy_store.apply(url, STRICT, author="ann", note="roll back")  # an older version again: a rollback
    hist = policy_store.history(url)
    assert [(h.version, h.author, h.note) for h in hist] == [
        (first.version, "ann", "roll back"), (policy.parse(LENIENT).version, "bob", ""), (first.version, "ann", "stricter")]
    assert policy_store.active_text(url) == (first.version, STRICT)


def test_apply_rejects_a_bad_file_naming_the_key(rt):
    with pytest.raises(ConfigError, match="labels.Hate Symbols: unknown key 'flagg'"):
        policy_store.apply(rt.settings.database_url, "labels:\n  Hate Symbols: {flagg: 3}\n")
    assert policy_store.history(rt.settings.database_url) == []


def test_diff_names_each_change():
    old = policy.parse(STRICT)
    new = policy.parse(LENIENT.replace("min_confidence: 50", "min_confidence: 55") +
                       "providers:\n  rekognition:\n    default: {flag: 70, reject: null}\n")
    assert policy_store.diff(old, new) == [
        "min_confidence: 50 -> 55",
        "labels.Hate Symbols: flag 40, reject 60 -> flag 90, reject -",
        "providers.rekognition: profile added",
        "providers.rekognition.min_confidence: 50 -> 55",
        "providers.rekognition.default: flag 80, reject - -> flag 70, reject -",
        "providers.rekognition.labels.Hate Symbols: flag 40, reject 60 -> flag 90, reject -",
    ]


def test_decisions_follow_the_active_version_without_a_restart(make_settings, rt, media_root, fake_provider):
    rt.settings = make_settings(policy_refresh_seconds=0)
    before = decided_item(rt, media_root, fake_provider, "Hate Symbols", 70)
    applied = policy_store.apply(rt.settings.database_url, STRICT, author="ann")
    after = decided_item(rt, media_root, fake_provider, "Hate Symbols", 70)
    with transaction(rt.settings.database_url) as s:
        got = {i: (s.get(m.Item, i).verdict, s.get(m.Item, i).policy_version) for i in (before, after)}
    assert got[before] == ("flagged", rt.policy.version)
    assert got[after] == ("rejected", applied.version)


def test_the_active_policy_is_cached_for_the_refresh_interval(rt):
    assert rt.settings.policy_refresh_seconds == 10
    assert rt.active_policy() is rt.policy  # nothing applied: the MODQ_THRESHOLDS file
    policy_store.apply(rt.settings.database_url, STRICT, author="ann")
    assert rt.active_policy() is rt.policy  # still within the refresh interval
    rt._active = (rt._active[0], rt._active[1] - 10)
    assert rt.active_policy().version == policy.parse(STRICT).version



def test_diff_names_priority_changes():
    old = policy.parse(STRICT)  # no section: the default ranking
    new = policy.parse(STRICT + "priority: {Self-Harm: 1, Alcohol: 2, default: 5}\n")
    assert policy_store.diff(old, new) == [
        "priority.Alcohol: - -> 2", "priority.Explicit: 3 -> -", "priority.Hate Symbols: 2 -> -",
        "priority.Non-Explicit Nudity of Intimate parts and Kissing: 3 -> -", "priority.Violence: 2 -> -",
        "priority.default: - -> 5"]
    assert policy_store.diff(old, policy.parse(STRICT)) == []

def test_cli_apply_history_show_diff(cli_env, tmp_path, monkeypatch):
    monkeypatch.setenv("USER", "carol")
    strict, lenient = write(tmp_path, "strict.yaml", STRICT), write(tmp_path, "lenient.yaml", LENIENT)
    v_strict, v_lenient = policy.parse(STRICT).version, policy.parse(LENIENT).version
    done = runner.invoke(app, ["policy", "apply", str(strict), "--note", "hate symbols stricter"])
    assert done.exit_code == 0 and f"version {v_strict} is now active" in done.stdout, done.output
    again = runner.invoke(app, ["policy", "apply", str(strict)])
    assert again.exit_code == 0 and "already active; nothing changed" in again.stdout
    assert runner.invoke(app, ["policy", "apply", str(lenient), "--author", "dan"]).exit_code == 0
    hist = json.loads(runner.invoke(app, ["policy", "history", "--json"]).stdout)
    assert [(h["version"], h["author"], h["note"]) for h in hist] == [
        (v_lenient, "dan", ""), (v_strict, "carol", "hate symbols stricter")]
    assert json.loads(runner.invoke(app, ["policy", "show"]).stdout)["version"] == v_lenient
    assert json.loads(runner.invoke(app, ["policy", "show", v_strict[:6]]).stdout)["version"] == v_strict
    diff = runner.invoke(app, ["policy", "diff", v_strict, v_lenient])
    assert "labels.Hate Symbols: flag 40, reject 60 -> flag 90, reject -" in diff.stdout, diff.output
    bad = runner.invoke(app, ["policy", "apply", str(write(tmp_path, "bad.yaml", "min_confidence: 150\n"))])
    assert bad.exit_code == 2 and "min_confidence: 150 is outside 0-100" in bad.stderr


def test_cli_simulate_from_stored_analyses(cli_env, tmp_path, media_root, fake_provider):
    from moderation.review import services as review

    rt = cli_env
    ids = [decided_item(rt, media_root, fake_provider, label, conf)
           for label, conf in (("Hate Symbols", 70), ("Hate Symbols", 55), (None, 0))]
    review.review(rt, ids[0], "alice", "rejected", "a hate symbol", admin=True)
    result = runner.invoke(app, ["policy", "simulate", str(write(tmp_path, "s.yaml", STRICT)), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["items"] == 3 and doc["matrix"]["flagged"]["rejected"] == 1
    assert doc["matrix"]["approved"]["approved"] == 1 and doc["drivers"] == {"Hate Symbols": 1}
    assert doc["rates"]["candidate"]["rejected"] == pytest.approx(1 / 3)
    assert doc["reviewed"] == 1 and doc["quality"]["all"]["candidate"]["tp"] == 1
    text = runner.invoke(app, ["policy", "simulate", str(write(tmp_path, "s.yaml", STRICT)), "--since", "1h"])
    assert text.exit_code == 0 and "1 would change" in text.stdout, text.output
    assert runner.invoke(app, ["policy", "simulate", str(tmp_path / "s.yaml"), "--since", "soon"]).exit_code == 2



def test_diff_names_transparency_changes():
    old = policy.parse(STRICT)  # no section: the built-in mapping
    new = policy.parse(STRICT + "transparency: {restriction: disabled}\n")
    assert policy_store.diff(old, new) == [
        "transparency.restriction: ['DECISION_VISIBILITY_CONTENT_REMOVED'] -> ['DECISION_VISIBILITY_CONTENT_DISABLED']"]
    assert old.version != new.version
