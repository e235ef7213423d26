"""The tests the docs cite as proof exist: README's "Proved by" column and every other `tests/...py::name`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.unit.docs import pages

_FILE = re.compile(r"^((?:[\w.-]+/)*test_\w+\.py)(::\w+)?$")
_NAME = re.compile(r"^::(\w+)$")


def _resolve(ref: str, previous: Path | None) -> Path | None:
    """A cited file: a repository path, or a bare file name beside the previous one or unique under tests/."""
    if "/" in ref:
        return pages.REPO / ref
    if previous is not None and (previous.parent / ref).exists():
        return previous.parent / ref
    found = list((pages.REPO / "tests").rglob(ref))
    return found[0] if len(found) == 1 else None


def cited_tests(page: Path) -> list[tuple[str, Path | None, str | None]]:
    """(as written, file, test name or None) for each test a page cites, in order."""
    cited, current = [], None
    for span in pages.code(page):
        if match := _FILE.match(span):
            current = _resolve(match[1], current)
            cited.append((span, current, match[2][2:] if match[2] else None))
        elif (match := _NAME.match(span)) and current is not None:
            cited.append((span, current, match[1]))
    return cited


def missing(page: Path) -> list[str]:
    problems = []
    for written, path, test in cited_tests(page):
        if path is None or not path.is_file():
            problems.append(f"{written}: no such test file")
        elif test and not re.search(rf"^(async )?def {test}\(", path.read_text(), re.MULTILINE):
            problems.append(f"{written}: no test {test} in {path.relative_to(pages.REPO)}")
    return problems


def test_readme_cites_its_guarantees_proofs():
    assert len(cited_tests(pages.REPO / "README.md")) > 30


@pytest.mark.parametrize("page", pages.PAGES, ids=pages.name)
def test_every_cited_test_exists(page):
    assert missing(page) == []
