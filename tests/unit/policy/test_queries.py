"""``policy.queries``: the rows replay streams, and their count (the total of simulate's progress bar)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from moderation.policy import queries as replay_db
from moderation.review import services as review
from tests.review_items import decided_item


def test_count_is_how_many_rows_stream(rt, media_root, fake_provider):
    url = rt.settings.database_url
    assert replay_db.count(url) == 0
    ids = [decided_item(rt, media_root, fake_provider, label, 70) for label in ("Hate Symbols", None, "Weapons")]
    review.review(rt, ids[0], "alice", "rejected", "a hate symbol", admin=True)
    assert replay_db.count(url) == len(list(replay_db.rows(url))) == 3
    since = datetime.now(UTC) - timedelta(hours=1)
    assert replay_db.count(url, since) == len(list(replay_db.rows(url, since))) == 3
    later = datetime.now(UTC) + timedelta(hours=1)
    assert replay_db.count(url, later) == len(list(replay_db.rows(url, later))) == 0
