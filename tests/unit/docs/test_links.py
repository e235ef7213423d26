"""Every relative link in README.md and docs/*.md reaches a file, and its #anchor a heading there."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from tests.unit.docs import pages


def broken_links(page) -> list[str]:
    broken = []
    for target in pages.links(page):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / unquote(path)).resolve() if path else page
        if not dest.exists():
            broken.append(f"{target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in {pages.slug(h) for h in pages.headings(dest)}:
            broken.append(f"{target}: no heading with that anchor in {dest.name}")
    return broken


@pytest.mark.parametrize("page", pages.PAGES, ids=pages.name)
def test_relative_links_reach_their_file_and_heading(page):
    assert broken_links(page) == []


def test_the_guarantees_table_is_kept_once_in_readme():
    assert "## What modq guarantees" in pages.text(pages.REPO / "README.md")
    for page in pages.PAGES[1:]:
        assert "| # | Guarantee |" not in pages.text(page), f"{pages.name(page)} repeats README's guarantees table"
