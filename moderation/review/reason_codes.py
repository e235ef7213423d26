"""A review's reason code (issue 17.6): one of the codes the item's tenant's active policy lists (``reasons:``),
alongside the free-text reason, which stays required.

Any category's code is accepted, not only those of the categories that fired on the item: a reviewer often sees
a violation the model did not flag (an item flagged for Alcohol that shows graphic violence), and forcing a code
of a category that fired would record a wrong reason. The console offers the codes of the categories that fired
first (``options``), the others after them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from moderation.domain.errors import BadInput
from moderation.domain.reasons import CODE_MAX, ReasonCodes, is_slug
from moderation.domain.tenancy import Scope
from moderation.items import models as m

if TYPE_CHECKING:
    from moderation.bootstrap import Runtime


def checked(rt: Runtime, s: Session, item_id: str, code: str | None, scope: Scope) -> str | None:
    """``code`` if the policy of the item's tenant lists it (None: no code); BadInput naming ``reason_code``.
    A missing item (or one outside ``scope``) is left for the review to refuse as not found."""
    if code is None:
        return None
    if not is_slug(code):
        raise BadInput(f"reason_code: {str(code)[:CODE_MAX + 1]!r} is not a reason code (lowercase letters, digits "
                       f"and hyphens, 1-{CODE_MAX} characters)")
    # The tenant alone, not the row: loading the Item here would let the review's locking read (lock_item, next)
    # keep these attributes, and check a lease or an escalation as it was before the lock.
    tenant_id = s.scalar(select(m.Item.tenant_id).where(m.Item.id == item_id))
    if tenant_id is None or not scope.covers(tenant_id):
        return code
    codes = rt.active_policy(tenant_id).reasons
    if not codes.known(code):
        listed = ", ".join(codes.all()) or "none: the policy has no reasons section"
        raise BadInput(f"reason_code: unknown code {code!r} (the policy's codes: {listed})")
    return code


def options(codes: ReasonCodes, fired: Iterable[str]) -> dict[str, Any]:
    """What the console's select offers: ``fired`` (category -> codes, of the categories that fired on the item)
    and ``other`` (every other code, each once)."""
    first = codes.for_labels(fired)
    shown = {code for listed in first.values() for code in listed}
    return {"fired": first, "other": [code for code in codes.all() if code not in shown]}
