"""README.md and docs/*.md as the docs tests read them: whole text, code lines, headings, links."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
PAGES = (REPO / "README.md", *sorted((REPO / "docs").glob("*.md")))

_FENCE = re.compile(r"^\s*(```|~~~)")
_INLINE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
_LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)\)")


def text(page: Path) -> str:
    return page.read_text(encoding="utf-8")


def all_text() -> str:
    return "\n".join(text(page) for page in PAGES)


def name(page: Path) -> str:
    return str(page.relative_to(REPO))


def _split(page: Path) -> tuple[list[str], list[str]]:
    """(lines inside fenced code blocks, lines outside them)."""
    inside, outside, fenced = [], [], False
    for line in text(page).splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        elif fenced:
            inside.append(line)
        else:
            outside.append(line)
    return inside, outside


def code(page: Path) -> list[str]:
    """Every code block line and every inline code span of a page."""
    inside, outside = _split(page)
    return inside + [span for line in outside for span in _INLINE.findall(line)]


def headings(page: Path) -> list[str]:
    return [line.lstrip("#").strip() for line in _split(page)[1] if re.match(r"^#{1,6} ", line)]


def links(page: Path) -> list[str]:
    return [target for line in _split(page)[1] for target in _LINK.findall(line)]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
