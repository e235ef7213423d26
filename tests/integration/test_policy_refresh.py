"""A running worker picks up a newly applied policy version without a restart
(MODQ_POLICY_REFRESH_SECONDS=1), and every decision records its version."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
import uuid

import pytest

from moderation.domain import policy
from moderation.policy import versions as policy_store
from tests.conftest import REPO, png_bytes
from tests.fakes.providers import labels_for
from tests.integration.conftest import WorkerProcess, wait_terminal
from tests.integration.fresh_pg import fresh_database

pytestmark = pytest.mark.integration
STRICT = "min_confidence: 50\ndefault: {flag: 80, reject: null}\nlabels:\n  Hate Symbols: {flag: 50, reject: 70}\n"


def submit(env: dict[str, str], name: str) -> str:
    done = subprocess.run([sys.executable, "-c", "from moderation.cli.main import main; main()", "submit", name, "--json"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.split('"item_id": "')[1].split('"')[0]


def test_worker_uses_a_new_version_within_the_refresh_interval(worker_env, rekognition, media_dir, tmp_path):
    data = png_bytes(240, 180, (20, 30, 240))
    name = f"policy-{uuid.uuid4().hex[:8]}.png"
    (media_dir / name).write_bytes(data)
    rekognition.set_bytes_labels(hashlib.sha256(data).hexdigest(),
                                 [lab.to_dict() for lab in labels_for("Nazi Party", 72)])
    with fresh_database("modq_policy") as url:
        # own database and key prefix: no other test's worker can take these tasks
        env = {**worker_env, "MODQ_DATABASE_URL": url, "MODQ_POLICY_REFRESH_SECONDS": "1",
               "MODQ_BROKER_KEY_PREFIX": f"policy-{uuid.uuid4().hex[:6]}:"}
        proc = WorkerProcess(env, tmp_path / "worker.log", queues="images")
        try:
            first = submit(env, name)
            before = wait_terminal(url, [first])[first]
            applied = policy_store.apply(url, STRICT, author="it", note="stricter on hate symbols")
            time.sleep(1.5)
            second = submit(env, name)
            after = wait_terminal(url, [second])[second]
        finally:
            proc.stop()
    file_version = policy.load(REPO / "config" / "thresholds.yaml").version
    assert (before.status, before.policy_version) == ("flagged", file_version), proc.output()[-2000:]
    assert (after.status, after.policy_version) == ("rejected", applied.version), proc.output()[-2000:]
