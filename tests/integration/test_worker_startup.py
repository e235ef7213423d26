"""A worker with bad configuration refuses to start, naming the bad key."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.integration


def start_worker(env_overrides: dict[str, str], tmp_path) -> subprocess.CompletedProcess:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("MODQ_")}
    env.update({"MODQ_BROKER_URL": os.environ["MODQ_BROKER_URL"], "MODQ_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    env.update(env_overrides)
    cmd = [sys.executable, "-m", "celery", "-A", "worker", "worker", "-Q", "images", "-P", "solo", "--without-gossip"]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    "thresholds, message",
    [
        ("labels: {Explicit: {flag: 150}}", "labels.Explicit.flag: 150 is outside 0-100"),
        ("labels: {Explicitt: {flag: 50}}", "labels.Explicitt: unknown moderation label"),
        ("labels: [", "not valid YAML"),
    ],
)
def test_bad_thresholds_stop_the_worker(tmp_path, thresholds, message):
    path = tmp_path / "thresholds.yaml"
    path.write_text(thresholds)
    result = start_worker({"MODQ_THRESHOLDS": str(path)}, tmp_path)
    assert result.returncode != 0
    assert message in result.stderr + result.stdout


def test_bad_setting_stops_the_worker(tmp_path):
    result = start_worker({"MODQ_PROVIDER": "azure"}, tmp_path)
    assert result.returncode != 0 and "MODQ_PROVIDER" in result.stderr
