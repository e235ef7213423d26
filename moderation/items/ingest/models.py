"""What ingestion could not turn into an item, kept for a person to inspect (``modq ingest rejects``).

An S3 event record that cannot be read (malformed JSON, no key, a key that is
not valid URL-encoded UTF-8, a key ``submit`` refuses) must not block the
records beside it, nor vanish: its raw text is stored here, once per SQS
message and record position, so a redelivered message adds nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from moderation.infra.clock import utcnow
from moderation.infra.schema import Base


class IngestReject(Base):
    __tablename__ = "ingest_rejects"
    __table_args__ = (UniqueConstraint("message_id", "record_index", name="uq_ingest_rejects_record"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    source: Mapped[str] = mapped_column(String(32))  # "s3-events"
    queue_url: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(128))  # SQS MessageId: the same on every redelivery
    record_index: Mapped[int] = mapped_column(Integer)  # position in the message's records; -1: the whole body
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[str] = mapped_column(Text)  # the record (or body) exactly as received
