"""docker-compose.yml and the Dockerfile name things that exist."""

from __future__ import annotations

import importlib
import re

import click
import pytest
import typer
import yaml

from config.settings import Settings
from tests.conftest import REPO

COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
WITH_COMMAND = {name: svc["command"] for name, svc in SERVICES.items() if "command" in svc}


def test_required_services_present():
    assert {"redis", "postgres", "migrate", "worker", "beat"} <= set(SERVICES)


def _resolve_modq(args: list[str]) -> click.Command:
    from moderation.cli.main import app

    command = typer.main.get_command(app)
    for word in args:
        if word.startswith("-") or not isinstance(command, click.Group):
            break
        assert word in command.commands, f"`modq {' '.join(args)}`: no command {word!r}"
        command = command.commands[word]
    return command


@pytest.mark.parametrize("service", sorted(WITH_COMMAND))
def test_every_command_names_an_existing_entry_point(service):
    argv = WITH_COMMAND[service]
    if argv[0] == "modq":
        assert not isinstance(_resolve_modq(argv[1:]), click.Group), f"{service}: incomplete modq command"
    elif argv[0] == "celery":
        module = argv[argv.index("-A") + 1]
        celery_app = importlib.import_module(module).app
        sub = argv[argv.index("-A") + 2]
        assert sub in ("worker", "beat")
        if "-Q" in argv:
            from worker.app import QUEUES

            for queue in argv[argv.index("-Q") + 1].split(","):
                assert queue in QUEUES, f"{service}: unknown queue {queue!r}"
        assert celery_app.main == "modq"
    else:
        pytest.fail(f"{service}: unexpected entry point {argv[0]!r}")


def test_modq_environment_variables_are_real_settings():
    fields = set(Settings.model_fields)
    for name, svc in SERVICES.items():
        for var in (svc.get("environment") or {}):
            if var.startswith("MODQ_"):
                assert var[5:].lower() in fields, f"{name}: {var} is not a setting"


def test_dockerfile_copies_paths_that_exist():
    for line in (REPO / "Dockerfile").read_text().splitlines():
        match = re.match(r"COPY (.+) \S+$", line)
        if match:
            for path in match.group(1).split():
                assert (REPO / path).exists(), f"Dockerfile copies missing {path}"
