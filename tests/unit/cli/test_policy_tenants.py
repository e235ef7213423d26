"""`modq policy ... --tenant NAME` (issue 16.2): apply, show, history, diff, simulate, recommend and
--reevaluate per tenant; without --tenant, the deployment's policy; an unknown tenant exits 2 naming it."""

from __future__ import annotations

import json

import pytest
import structlog.testing
from typer.testing import CliRunner

from moderation.cli.main import app
from moderation.domain import policy
from moderation.policy import versions as policy_store
from moderation.tenants import services as tenants
from tests.unit.policy.test_reevaluate import LENIENT, STRICT
from tests.unit.policy.test_tenant_policy import tenant_item, verdicts

runner = CliRunner()
V_STRICT, V_LENIENT = policy.parse(STRICT).version, policy.parse(LENIENT).version
UNKNOWN = "error: tenant: no tenant named 'nosuch' (`modq tenants list` shows them)"


@pytest.fixture
def ids(cli_env) -> dict[str, int]:
    url = cli_env.settings.database_url
    return {"default": 1, **{name: tenants.create(url, name, "test")["id"] for name in ("kids", "art")}}


@pytest.fixture
def files(tmp_path):
    (tmp_path / "strict.yaml").write_text(STRICT)
    (tmp_path / "lenient.yaml").write_text(LENIENT)
    return {"strict": str(tmp_path / "strict.yaml"), "lenient": str(tmp_path / "lenient.yaml")}


def run(*args: str):
    return runner.invoke(app, ["policy", *args])


def test_apply_show_history_and_diff_per_tenant(cli_env, ids, files):
    done = run("apply", files["strict"], "--tenant", "kids", "--note", "kids are stricter")
    assert done.exit_code == 0 and f"version {V_STRICT} is now active for tenant kids" in done.stdout, done.output
    again = run("apply", files["strict"], "--tenant", "kids")
    assert f"version {V_STRICT} is already active for tenant kids; nothing changed" in again.stdout
    assert run("apply", files["lenient"]).exit_code == 0  # the deployment's
    assert json.loads(run("show", "--tenant", "kids").stdout)["version"] == V_STRICT
    assert json.loads(run("show", "--tenant", "art").stdout)["version"] == V_LENIENT  # inherited
    assert json.loads(run("show").stdout)["version"] == V_LENIENT
    kids = json.loads(run("history", "--tenant", "kids", "--json").stdout)
    assert [(h["version"], h["note"]) for h in kids] == [(V_STRICT, "kids are stricter")]
    assert [h["version"] for h in json.loads(run("history", "--json").stdout)] == [V_LENIENT]
    art = run("history", "--tenant", "art")
    assert f"tenant art has no version of its own; the deployment's policy decides its items ({V_LENIENT})" \
        in " ".join(art.stdout.split()), art.output
    diff = run("diff", V_LENIENT, "--tenant", "kids")  # V2: the tenant's active policy
    assert f"{V_LENIENT} -> {V_STRICT}" in diff.stdout and "labels.Hate Symbols: flag 90, reject - -> flag 40, " \
        "reject 60" in diff.stdout, diff.output
    assert "no changes" in run("diff", V_LENIENT, "--tenant", "art").stdout


def test_reevaluate_and_simulate_look_only_at_the_tenants_items(cli_env, ids, files, media_root, fake_provider):
    items = {name: tenant_item(cli_env, media_root, fake_provider, tid) for name, tid in ids.items()}
    sim = run("simulate", files["strict"], "--tenant", "kids", "--json")
    assert sim.exit_code == 0, sim.output
    report = json.loads(sim.stdout)
    assert (report["items"], report["changed"]) == (1, 1)
    assert json.loads(run("simulate", files["strict"], "--json").stdout)["items"] == 3  # nobody has their own yet
    with structlog.testing.capture_logs():  # (the CLI sends logs to stderr; the runner would mix them in)
        done = run("apply", files["strict"], "--tenant", "kids", "--reevaluate", "--json")
    assert done.exit_code == 0, done.output
    outcome = json.loads(done.stdout)
    assert (outcome["tenant"], outcome["reevaluated"]["examined"], outcome["reevaluated"]["rejected"]) == (
        "kids", 1, 1)
    assert [v for v, _ in verdicts(cli_env, items.values())] == ["flagged", "rejected", "flagged"]
    # The deployment's version now decides default and art only.
    assert json.loads(run("simulate", files["strict"], "--json").stdout)["items"] == 2


def test_recommend_starts_from_the_tenants_policy(cli_env, ids, files, tmp_path):
    policy_store.apply(cli_env.settings.database_url, STRICT, author="kids-admin", tenant_id=ids["kids"])
    out = tmp_path / "candidate.yaml"
    done = runner.invoke(app, ["policy", "recommend", "--target-precision", "0.9", "--tenant", "kids",
                               "--out", str(out), "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["from_version"] == V_STRICT
    assert "--tenant kids" in out.read_text()


@pytest.mark.parametrize("args", [
    ["apply", "<strict>", "--tenant", "nosuch"], ["show", "--tenant", "nosuch"], ["history", "--tenant", "nosuch"],
    ["diff", V_STRICT, "--tenant", "nosuch"], ["simulate", "<strict>", "--tenant", "nosuch"],
    ["recommend", "--target-precision", "0.9", "--tenant", "nosuch"],
])
def test_an_unknown_tenant_exits_2_naming_it_and_stores_nothing(cli_env, ids, files, args):
    done = run(*[files["strict"] if a == "<strict>" else a for a in args])
    assert (done.exit_code, done.stderr.strip()) == (2, UNKNOWN), done.output
    assert policy_store.history(cli_env.settings.database_url) == []
