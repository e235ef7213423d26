"""The commands the docs show exist: every `modq ...` names real subcommands and options, every
`-Q`/`--queues` names real queues, and a compose service said to take a queue does (docker-compose.yml)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer.main
import yaml

from moderation.cli.main import app
from tests.unit.docs import pages
from worker.app import QUEUES

ROOT = typer.main.get_command(app)
_OPTION = re.compile(r"^\[?(--?[a-zA-Z][\w-]*)")


def modq_invocations(page: Path) -> list[str]:
    """`modq ...` as a code line or inline code starts it (`$ ` prompts dropped, `;` and `&&` split)."""
    found = []
    for line in pages.code(page):
        line = line.strip().removeprefix("$ ")
        if line.startswith("modq "):
            found += [part.strip() for part in re.split(r";|&&", line) if part.strip().startswith("modq ")]
    return found


def _words(command: str) -> list[str]:
    try:
        return shlex.split(command, comments=True)
    except ValueError:  # an inline span cut mid-quote
        return command.split()


def problem(command: str) -> str | None:
    """Why ``command`` is not one the ``modq`` CLI accepts (None: it is)."""
    node, words = ROOT, _words(command)[1:]
    while words and hasattr(node, "commands") and not words[0].startswith("-"):
        if words[0] not in node.commands:
            return f"{command!r}: no command {words[0]!r} (has {', '.join(sorted(node.commands))})"
        node, words = node.commands[words[0]], words[1:]
    known = {opt for param in node.params for opt in (*param.opts, *getattr(param, "secondary_opts", ()))}
    for word in words:
        match = _OPTION.match(word)
        if match and match[1].split("=")[0] not in known | {"--help"}:
            return f"{command!r}: {node.name} has no option {match[1]} (has {', '.join(sorted(known))})"
    return None


def compose_queues() -> dict[str, set[str]]:
    """Compose service -> the queues its Celery worker consumes."""
    services = yaml.safe_load((pages.REPO / "docker-compose.yml").read_text())["services"]
    queues = {}
    for name, service in services.items():
        command = service.get("command") or []
        if "-Q" in command:
            queues[name] = set(command[command.index("-Q") + 1].split(","))
    return queues


def test_the_docs_show_modq_commands():
    assert sum(len(modq_invocations(page)) for page in pages.PAGES) > 50


@pytest.mark.parametrize("page", pages.PAGES, ids=pages.name)
def test_every_modq_command_shown_exists_with_its_options(page):
    assert [p for p in map(problem, modq_invocations(page)) if p] == []


def test_a_misspelt_command_or_option_is_caught():
    assert "no command 'retries'" in problem("modq items retries --all-failed")
    assert "no option --all" in problem("modq items retry --all --since 2h")
    assert problem('modq policy apply c.yaml --note "recommend --target-precision 0.7"') is None


@pytest.mark.parametrize("page", pages.PAGES, ids=pages.name)
def test_queues_named_in_commands_exist(page):
    named = [q for line in pages.code(page) for arg in re.findall(r"(?:-Q|--queues)[ =]([\w,]+)", line)
             for q in arg.split(",")]
    assert set(named) <= set(QUEUES)


@pytest.mark.parametrize("page", pages.PAGES, ids=pages.name)
def test_a_compose_service_said_to_take_a_queue_consumes_it(page):
    """A paragraph naming one `<queue>` queue and compose services: those services consume that queue."""
    takes = compose_queues()
    wrong = []
    for paragraph in pages.text(page).split("\n\n"):
        queues = set(re.findall(r"`(\w+)` queue", paragraph)) & set(QUEUES)
        if len(queues) != 1 or "compose" not in paragraph:
            continue
        queue = queues.pop()
        for service in set(re.findall(r"`([\w-]+)`", paragraph)) & set(takes):
            if queue not in takes[service]:
                wrong.append(f"compose {service} does not consume {queue}: {paragraph[:80]!r}...")
    assert wrong == []
