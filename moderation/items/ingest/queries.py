"""What the ingest side shows an operator: the event records it could not ingest."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from moderation.infra.db import transaction
from moderation.items.ingest.models import IngestReject


def recent_rejects(database_url: str, limit: int = 20) -> list[dict[str, Any]]:
    """Rejected event records, newest first, each with its raw record (``modq ingest rejects``)."""
    with transaction(database_url) as s:
        rows = s.scalars(select(IngestReject).order_by(IngestReject.id.desc()).limit(limit))
        return [{"id": r.id, "received_at": r.received_at.isoformat(), "source": r.source,
                 "message_id": r.message_id, "record_index": r.record_index, "reason": r.reason, "raw": r.raw}
                for r in rows]
