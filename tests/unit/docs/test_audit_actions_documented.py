"""docs/api.md's table of audit actions is exactly the actions modq writes (``AuditAction``)."""

from __future__ import annotations

import re

from moderation.items.models import AuditAction
from tests.unit.docs import pages

API = pages.REPO / "docs" / "api.md"


def documented_actions() -> list[str]:
    """The backquoted names in the first column of the table in docs/api.md's "Audit trail" section."""
    section = pages.text(API).split("### Audit trail", 1)[1].split("\n#", 1)[0]
    table = [line for line in section.splitlines() if line.startswith("|")]
    rows = table[2:]  # below the header and its |---| line
    return [name for row in rows for name in re.findall(r"`([^`]+)`", row.split("|")[1])]


def test_the_audit_trail_section_lists_every_action_modq_writes_once():
    documented = documented_actions()
    assert sorted(documented) == sorted(a.value for a in AuditAction), (
        "docs/api.md \"Audit trail\" and moderation.items.models.AuditAction differ: "
        f"undocumented {sorted(set(AuditAction) - set(documented))}, "
        f"not written by modq {sorted(set(documented) - {a.value for a in AuditAction})}")
