"""docker-compose.yml, read statically (no Docker here): health, shutdown, one image, metrics, build context.

The observability profile's wiring (Prometheus and Grafana with deploy/'s files) is
checked here too; the dashboard's queries in test_dashboard.py.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import PurePosixPath

import pytest
import yaml

from config.settings import Settings
from tests.conftest import REPO

COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES: dict[str, dict] = COMPOSE["services"]
PROMETHEUS = yaml.safe_load((REPO / "deploy" / "prometheus" / "prometheus.yml").read_text())
DASHBOARD_PROVIDERS = yaml.safe_load(
    (REPO / "deploy" / "grafana" / "provisioning" / "dashboards" / "modq.yml").read_text())
MODQ = {name for name, svc in SERVICES.items() if svc.get("command", [""])[0] in ("modq", "celery")}
CELERY_WORKERS = {name for name in MODQ if SERVICES[name]["command"][:4] == ["celery", "-A", "worker", "worker"]}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")
_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def seconds(duration: str) -> float:
    """A compose duration (Go syntax: 1m30s, 150s, 17m30s) in seconds."""
    parts = _DURATION.findall(duration)
    assert parts and "".join(n + u for n, u in parts) == duration, f"not a duration: {duration!r}"
    return sum(float(n) * _UNITS[u] for n, u in parts)


def environment(name: str) -> dict[str, str]:
    """The service's environment as the container sees it with nothing set on the host: ${VAR:-default} -> default."""
    env = SERVICES[name].get("environment") or {}
    return {k: re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(v)) for k, v in env.items()}


def settings_of(name: str) -> Settings:
    """What modq reads in that service: the same validation as at start-up."""
    env = environment(name)
    return Settings(**{k[5:].lower(): v for k, v in env.items() if k.startswith("MODQ_") and v != ""})


def one_shot(name: str) -> bool:
    """Runs to completion (restart "no") and every service after it waits for that, not for health."""
    svc = SERVICES[name]
    waits = [deps[name] for deps in (s.get("depends_on") or {} for s in SERVICES.values()) if name in deps]
    return svc.get("restart") == "no" and bool(waits) and all(
        w.get("condition") == "service_completed_successfully" for w in waits)


LONG_RUNNING = sorted(name for name in SERVICES if not one_shot(name))


def queues(name: str) -> set[str]:
    argv = SERVICES[name]["command"]
    return set(argv[argv.index("-Q") + 1].split(","))


def test_only_migrate_runs_once():
    assert [name for name in SERVICES if one_shot(name)] == ["migrate"]


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_every_long_running_service_has_a_healthcheck(name):
    check = SERVICES[name].get("healthcheck")
    assert check and not check.get("disable"), f"{name}: no healthcheck"
    assert check["test"][0] in ("CMD", "CMD-SHELL") and len(check["test"]) > 1


def test_dependencies_wait_for_health_or_completion():
    for name, svc in SERVICES.items():
        for dep, how in (svc.get("depends_on") or {}).items():
            expected = "service_completed_successfully" if one_shot(dep) else "service_healthy"
            assert how.get("condition") == expected, f"{name} -> {dep}"


def test_celery_healthchecks_ping_their_own_node():
    """A worker answers as celery@<hostname>, beat (with remote control on) as celerybeat@<hostname>."""
    for name in CELERY_WORKERS:
        assert "inspect ping --destination celery@$$HOSTNAME" in SERVICES[name]["healthcheck"]["test"][1], name
    beats = [name for name in MODQ if SERVICES[name]["command"][:4] == ["celery", "-A", "worker", "beat"]]
    assert beats == ["beat"]
    assert "--enable-remote-control" in SERVICES["beat"]["command"]
    assert "inspect ping --destination celerybeat@$$HOSTNAME" in SERVICES["beat"]["healthcheck"]["test"][1]


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_every_long_running_service_has_a_grace_period(name):
    assert seconds(SERVICES[name]["stop_grace_period"]) >= 10, name


@pytest.mark.parametrize("name", sorted(CELERY_WORKERS))
def test_worker_grace_period_outlasts_its_longest_task(name):
    """Warm shutdown waits for running tasks; the grace period must not cut one short.

    An image task is bounded by its processing lease (past it a duplicate delivery may take the item
    over); an offline video is decoded and analysed in one task holding a lease of the reaper's
    delay plus the processing lease (moderation/video/services.py).
    """
    s = settings_of(name)
    longest = s.processing_lease_seconds
    if "videos" in queues(name):
        longest = s.reaper_stuck_after_seconds + s.processing_lease_seconds
    assert seconds(SERVICES[name]["stop_grace_period"]) > longest


def test_one_image_built_once():
    builders = [name for name, svc in SERVICES.items() if "build" in svc]
    assert builders == ["migrate"], "build the modq image in one service only"
    image = SERVICES["migrate"]["image"]
    for name in MODQ - {"migrate"}:
        assert SERVICES[name]["image"] == image, name
        assert SERVICES[name].get("pull_policy") == "never", f"{name}: {image} is built here, never pulled"


def test_metrics_port_only_where_it_is_served():
    """Celery workers serve MODQ_METRICS_PORT; the API serves /metrics on its own port; beat and migrate none."""
    for name, svc in SERVICES.items():
        env = svc.get("environment") or {}
        assert ("MODQ_METRICS_PORT" in env) == (name in CELERY_WORKERS), name
        assert ("MODQ_METRICS_HOST" in env) == (name in CELERY_WORKERS), name
        if name in CELERY_WORKERS:
            assert not svc.get("ports"), f"{name}: the exporter has no authentication; publish nothing"


@pytest.mark.parametrize("name", sorted(MODQ))
def test_service_environment_is_valid_settings(name):
    settings_of(name)


def test_prometheus_scrapes_every_exporter():
    exporters = {name: int(SERVICES[name]["environment"]["MODQ_METRICS_PORT"]) for name in CELERY_WORKERS}
    discovered = {}
    for job in PROMETHEUS["scrape_configs"]:
        for sd in job.get("dns_sd_configs", []):
            discovered.update({service: sd["port"] for service in sd["names"]})
    assert discovered == exporters


def _mounts(name: str) -> dict[str, str]:
    """Bind mounts of repository paths: container path -> repository path."""
    found = {}
    for volume in SERVICES[name].get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith("./"):
            assert (REPO / source).exists(), f"{name} mounts missing {source}"
            found[target] = source[2:]
    return found


def test_observability_profile_provisions_prometheus_and_grafana():
    profiled = {name: svc["profiles"] for name, svc in SERVICES.items() if "profiles" in svc}
    assert profiled == {"prometheus": ["observability"], "grafana": ["observability"]}
    assert _mounts("prometheus")["/etc/prometheus/prometheus.yml"] == "deploy/prometheus/prometheus.yml"
    grafana = _mounts("grafana")
    assert grafana["/etc/grafana/provisioning"] == "deploy/grafana/provisioning"
    (provider,) = DASHBOARD_PROVIDERS["providers"]
    dashboards = provider["options"]["path"]
    assert grafana[dashboards] == "deploy/grafana/dashboards"
    home = SERVICES["grafana"]["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert (REPO / grafana[dashboards] / PurePosixPath(home).relative_to(dashboards)).is_file()
    assert SERVICES["grafana"]["depends_on"] == {"prometheus": {"condition": "service_healthy"}}
    for name in profiled:
        assert all(p.startswith("127.0.0.1:") for p in SERVICES[name].get("ports", [])), f"{name}: loopback only"


# --- build context ------------------------------------------------------------------------


def _dockerignore() -> list[str]:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    return [line.strip().lstrip("/") for line in lines if line.strip() and not line.lstrip().startswith("#")]


def ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule, simplified: the last pattern matching the path or a parent decides; ! re-includes."""
    parts = PurePosixPath(path).parts
    candidates = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    result = False
    for pattern in patterns:
        negate, pattern = pattern.startswith("!"), pattern.lstrip("!")
        forms = {pattern, pattern.removeprefix("**/")}
        if any(fnmatch.fnmatchcase(c, f) for c in candidates for f in forms):
            result = not negate
    return result


def test_dockerignore_keeps_local_state_out_of_the_build_context():
    patterns = _dockerignore()
    for path in (".venv/bin/python", ".git/HEAD", "var/modq.db", "media/x.jpg", "tests/conftest.py",
                 "moderation/__pycache__/x.pyc", ".pytest_cache/v"):
        assert ignored(path, patterns), path


def test_dockerfile_copies_nothing_the_build_context_leaves_out():
    patterns, copied = _dockerignore(), []
    for line in (REPO / "Dockerfile").read_text().splitlines():
        match = re.match(r"COPY (.+) \S+$", line)
        if match:
            copied += match.group(1).split()
    assert {"requirements.txt", "moderation", "worker", "config"} <= set(copied)
    for path in copied:
        files = [path] if (REPO / path).is_file() else [
            str(p.relative_to(REPO)) for p in (REPO / path).rglob("*") if p.is_file() and "__pycache__" not in p.parts]
        assert files and not [f for f in files if ignored(f, patterns)], f"{path} is excluded from the build context"
