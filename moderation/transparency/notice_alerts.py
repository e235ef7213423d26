"""The outbox row that tells the platform a notice was answered: kind ``notice``, the webhook event
``notice.decided`` (and SNS), so it can inform the notifier of the decision and whether automated means were
used (Art. 16(5) and (6) DSA).

It names the notice, the item and the decision; never the reviewer, nor the notifier's name or e-mail address
(the platform has them, and SNS subscribers and webhook logs need not).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from moderation.alerts.models import Alert
from moderation.alerts.services import subject_line
from moderation.infra.clock import aware
from moderation.transparency.models import Notice

KIND = "notice"


def notice_alert(notice: Notice, item: Any, decided_at: datetime) -> Alert:
    """``item``: the notice's item (``id``, ``tenant_id``, ``external_id``, ``media_type``)."""
    message = {"notice_id": notice.id, "item_id": item.id, "external_id": item.external_id,
               "decision": notice.outcome, "automated": bool(notice.automated),
               "trusted_flagger": bool(notice.trusted_flagger), "received_at": aware(notice.received_at).isoformat(),
               "decided_at": aware(decided_at).isoformat(), "kind": KIND}
    attributes = {"kind": KIND, "verdict": notice.outcome, "automated": str(bool(notice.automated)).lower(),
                  "top_label": "", "media_type": item.media_type}
    return Alert(item_id=item.id, tenant_id=item.tenant_id, kind=KIND,
                 # Answered again after an undo: a new row (a review id can come back, so the time too).
                 dedup_id=f"notice:{notice.id}:{notice.decision_ref}:{aware(decided_at).timestamp():.6f}"[:128],
                 subject=subject_line(f"modq notice decided: {notice.outcome} [{item.external_id or item.id}]"),
                 message=message, attributes=attributes)
