"""What the console shows around an item (issue 17.5, 17.9): the label filter's choices and its check,
platform metadata as text, and where a stale form sends the reviewer back to.

Kept apart from console.py, which several people edit at once; pages.py registers ``as_text`` and
``LABEL_OPTIONS`` for the templates.
"""

from __future__ import annotations

import json
import re
from typing import Any

from moderation.domain import taxonomy


def _options() -> list[tuple[str, str]]:
    """Every v7 label as (name, text shown), each under its parent and indented by its level (no-break
    spaces: an <option> collapses plain ones), for the queue's label dropdown."""
    options = []
    for l1, children in taxonomy.TREE.items():
        options.append((l1, l1))
        for l2, leaves in children.items():
            options.append((l2, INDENT + l2))
            options.extend((l3, 2 * INDENT + l3) for l3 in leaves)
    return options


INDENT = "\u00a0" * 4
LABEL_OPTIONS: list[tuple[str, str]] = _options()


def known_label(value: str | None) -> str | None:
    """The label filter: blank is none; else a v7 label (or a retired v6.1 name), canonically spelt.
    Anything else would silently show an empty queue, so it is refused (422, naming ``label``)."""
    if value is None or not value.strip():
        return None
    found = taxonomy.lookup(value)
    if found is not None:
        return found.name
    alias = taxonomy.resolve_alias(value)
    if alias is not None:
        return alias
    raise ValueError(f"unknown label {value[:64]!r}: choose one of the Rekognition v7 labels the queue's "
                     f"label list offers (e.g. 'Violence', 'Explicit Nudity')")


def as_text(value: Any) -> str:
    """A metadata value as plain text: strings as they are, anything else as compact JSON. The template
    escapes it (autoescape), so a value full of markup shows as text and never becomes HTML."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), sort_keys=True)


ITEM_FORM = re.compile(r"^/items/([^/]{1,64})/")
APPEAL_FORM = re.compile(r"^/appeals/([^/]{1,64})/decision$")
PAGE_FORMS = (("/appeals/", "/appeals"), ("/escalated/", "/escalated"), ("/preferences", "/preferences"))


def retry_url(path: str) -> str:
    """The page whose form was posted with a stale token (an item's or an appeal's, the appeals, escalated or
    preferences page, else the queue's, where every other console form is): reloading it gets a fresh token."""
    item = ITEM_FORM.match(path)
    if item:
        return f"/items/{item.group(1)}"
    appeal = APPEAL_FORM.match(path)
    if appeal:
        return f"/appeals/{appeal.group(1)}"
    return next((page for prefix, page in PAGE_FORMS if path.startswith(prefix)), "/")
