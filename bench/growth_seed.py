"""A large, realistic items table made in SQL (issue 19.4): what tests/integration/test_query_plans_pg.py
EXPLAINs and bench/growth.py times.

``seed(url, n)`` fills a migrated PostgreSQL database with ``n`` items in a handful of ``INSERT ... SELECT
generate_series`` statements (about 20 s for a million on two cores, against minutes through the ORM), then
ANALYZEs. The spread is deterministic (from the row number, hashed), so two runs plan alike:

- 5 tenants of very different sizes: tenant 1 holds 55 % of the items, 2 holds 25 %, 3 holds 15 %, 4 holds 5 %,
  5 only 0.2 % (a small platform beside big ones: its pages must not walk everyone's rows);
- created over the last 365 days, evenly; decided 2 s after;
- status: 70 % approved, 10 % rejected, 8 % flagged, 3 % failed, 1 % still queued/processing, 8 % approved
  by a person after a flag (a review row);
- flagged and rejected items carry a ``review_priority`` (1..4, a quarter unranked); 0.5 % of them escalated;
  half of the flagged/rejected items older than a week were reviewed (a ``reviews`` row);
- 50,000 subjects (uploaders) spread across the tenants;
- an analysis and a decision for 30 % of the decided items (the rest: pay-once hits and older rows without
  one), and three audit entries (submit, processing, decide) for every item;
- an alert for every rejected item (published but the last day's), a statement for 1 % of rejected items, a
  notice for 0.1 % of the items (most decided).

Nothing is purged: the retention scan then meets its worst case, every decided item still carrying its data.
"""

from __future__ import annotations

import time

import psycopg

TENANTS = 5

# The row number's hash, 0..9999: spreads statuses over time and tenants instead of in blocks.
_H = "(('x' || substr(md5(g::text), 1, 8))::bit(32)::int & 2147483647) % 10000"

_TENANTS = f"""
INSERT INTO tenants (id, name, created_by, created_at)
SELECT t, 'tenant-' || t, 'bench/growth_seed', now() - interval '400 days'
FROM generate_series(2, {TENANTS}) t
ON CONFLICT (id) DO NOTHING;
SELECT setval('tenants_id_seq', (SELECT max(id) FROM tenants));
"""

# One temporary row per item with the drawn values, so every table below derives from the same draw.
_DRAW = f"""
CREATE TEMP TABLE draw AS
SELECT g,
       md5('item' || g)::uuid::text AS id,
       CASE WHEN g % 500 = 0 THEN 5 WHEN g % 20 < 11 THEN 1 WHEN g % 20 < 16 THEN 2 WHEN g % 20 < 19 THEN 3
            ELSE 4 END AS tenant_id,
       h,
       CASE WHEN h < 7000 THEN 'approved' WHEN h < 8000 THEN 'rejected' WHEN h < 8800 THEN 'flagged'
            WHEN h < 9100 THEN 'failed' WHEN h < 9150 THEN 'queued' WHEN h < 9200 THEN 'processing'
            ELSE 'approved' END AS status,
       h >= 9200 AS reviewed_flag,
       now() - (1 - g::float8 / %(n)s) * interval '365 days' AS created_at  -- in insertion order, as rows arrive
FROM (SELECT g, {_H} AS h FROM generate_series(1, %(n)s) g) s;
"""

_ANALYSES = """
INSERT INTO analyses (id, provider, model_version, content_key, min_confidence, labels, content_types, raw,
                      created_at)
SELECT g, 'local', 'nudenet-3.4', 'sha256:' || md5('c' || g), 50,
       CASE WHEN status IN ('rejected', 'flagged')
            THEN '[{"Name": "Explicit", "Confidence": 91.5, "ParentName": ""}]'::jsonb
            ELSE '[]'::jsonb END,
       '[]'::jsonb, '{"ModerationLabels": []}'::jsonb, created_at + interval '1 second'
FROM draw WHERE status NOT IN ('queued', 'processing', 'failed') AND g % 10 < 3;
SELECT setval('analyses_id_seq', %(n)s + 1);
"""

_ITEMS = """
INSERT INTO items (id, tenant_id, external_id, subject_id, review_priority, media_uri, media_type, status, verdict,
                   failure_reason, metadata, provider, policy_version, analysis_id, content_key, attempts,
                   created_at, updated_at, decided_at, escalated_at)
SELECT id, tenant_id, 'post-' || g, 'user-' || (g % 50000),
       CASE WHEN status IN ('flagged', 'rejected') AND h % 4 > 0 THEN h % 4 END,
       's3://uploads/' || id || '.jpg', CASE WHEN h % 10 = 0 THEN 'video' ELSE 'image' END, status,
       CASE WHEN status IN ('approved', 'flagged', 'rejected') THEN status END,
       CASE WHEN status = 'failed' THEN 'provider timed out' END,
       '{}'::jsonb, 'local', CASE WHEN status NOT IN ('queued', 'processing') THEN 'v1' END,
       CASE WHEN status NOT IN ('queued', 'processing', 'failed') AND g % 10 < 3 THEN g END,
       'sha256:' || md5('c' || g), 1,
       created_at, created_at + interval '2 seconds',
       CASE WHEN status NOT IN ('queued', 'processing', 'failed') THEN created_at + interval '2 seconds' END,
       CASE WHEN status IN ('flagged', 'rejected') AND h % 200 = 7 THEN created_at + interval '1 hour' END
FROM draw;
"""

_DECISIONS = """
INSERT INTO decisions (item_id, analysis_id, verdict, reasons, policy_version, decided_at)
SELECT id, g, CASE WHEN reviewed_flag THEN 'flagged' ELSE status END,
       CASE WHEN status IN ('rejected', 'flagged') OR reviewed_flag
            THEN '[{"label": "Explicit", "action": "flag", "confidence": 91.5, "threshold": 80,
                   "text": "Explicit 91.5 >= flag 80"}]'::jsonb ELSE '[]'::jsonb END,
       'v1', created_at + interval '2 seconds'
FROM draw WHERE status NOT IN ('queued', 'processing', 'failed') AND g % 10 < 3;
"""

_REVIEWS = """
INSERT INTO reviews (item_id, reviewer, verdict, reason, previous_status, reviewed_at, alert_ids)
SELECT id, 'rev-' || (g % 7), status, 'looked at it', CASE WHEN reviewed_flag THEN 'flagged' ELSE status END,
       created_at + interval '1 day', '[]'::jsonb
FROM draw
WHERE reviewed_flag OR (status IN ('flagged', 'rejected') AND created_at < now() - interval '7 days' AND g % 2 = 0);
"""

_AUDIT = """
INSERT INTO audit_events (item_id, tenant_id, at, actor, action, from_status, to_status, verdict, reason,
                          policy_version)
SELECT id, NULL, created_at + (k || ' seconds')::interval, 'system',
       (ARRAY['submit', 'processing', 'decide'])[k + 1],
       (ARRAY[NULL, 'queued', 'processing'])[k + 1], (ARRAY['queued', 'processing', status])[k + 1],
       CASE WHEN k = 2 THEN status END, NULL, 'v1'
FROM draw, generate_series(0, 2) k
WHERE k = 0 OR status NOT IN ('queued', 'processing');
"""

_ALERTS = """
INSERT INTO alerts (item_id, tenant_id, kind, dedup_id, subject, message, attributes, created_at, published_at,
                    attempts)
SELECT id, tenant_id, 'item.rejected', 'decide:' || id, 'modq: item rejected', '{}'::jsonb, '{}'::jsonb,
       created_at + interval '3 seconds',
       CASE WHEN created_at < now() - interval '1 day' THEN created_at + interval '4 seconds' END, 1
FROM draw WHERE status = 'rejected';
"""

_STATEMENTS = """
INSERT INTO statements (puid, tenant_id, item_id, decision, decision_ref, body, created_at, state, attempts,
                        sent_at)
SELECT 'modq-' || id, tenant_id, id, 'rejected', 'decide:' || id, '{}'::jsonb, created_at + interval '3 seconds',
       CASE WHEN created_at < now() - interval '1 day' THEN 'sent' ELSE 'pending' END, 0,
       CASE WHEN created_at < now() - interval '1 day' THEN created_at + interval '1 minute' END
FROM draw WHERE status = 'rejected' AND h % 10 = 3;
"""

_NOTICES = """
INSERT INTO notices (id, tenant_id, item_id, explanation, good_faith, trusted_flagger, csam, filed_by, received_at,
                     decided_at, outcome)
SELECT md5('notice' || g)::uuid::text, tenant_id, id, 'reported', true, false, false, 'platform',
       created_at + interval '1 hour',
       CASE WHEN created_at < now() - interval '2 days' THEN created_at + interval '1 day' END,
       CASE WHEN created_at < now() - interval '2 days' THEN 'kept' END
FROM draw WHERE h % 1000 = 11;
"""

STEPS = (("tenants", _TENANTS), ("draw", _DRAW), ("analyses", _ANALYSES), ("items", _ITEMS),
         ("decisions", _DECISIONS), ("reviews", _REVIEWS), ("audit_events", _AUDIT), ("alerts", _ALERTS),
         ("statements", _STATEMENTS), ("notices", _NOTICES))


# Tables whose plain indexes are dropped for the load and made again after it, from their own definitions
# (what the migrations created): building an index once over sorted rows is several times faster than
# updating it a million times. Constraints' indexes (primary keys, unique) stay.
BULK = ("items", "audit_events", "analyses", "decisions", "alerts")
_PLAIN_INDEXES = """
SELECT i.indexname, i.indexdef FROM pg_indexes i
WHERE i.schemaname = 'public' AND i.tablename = ANY(%s)
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
"""


def seed(url: str, n: int, log=lambda line: None) -> dict[str, float]:
    """Fill the migrated database at ``url`` (SQLAlchemy or libpq form) with ``n`` items; seconds per step."""
    timings: dict[str, float] = {}
    with psycopg.connect(libpq(url)) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '256MB'")
        # No per-row foreign-key triggers: every reference is drawn from the same rows (superuser only).
        conn.execute("SET session_replication_role = replica")
        indexes = conn.execute(_PLAIN_INDEXES, (list(BULK),)).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        for name, sql in STEPS:
            started = time.perf_counter()
            for statement in filter(str.strip, sql.split(";")):
                conn.execute(statement.replace("%(n)s", str(int(n))))
            timings[name] = time.perf_counter() - started
            log(f"seeded {name} in {timings[name]:.1f} s")
        conn.execute("DROP TABLE draw")
        started = time.perf_counter()
        for _, definition in indexes:
            conn.execute(definition)
        timings["indexes"] = time.perf_counter() - started
        log(f"made {len(indexes)} indexes again in {timings['indexes']:.1f} s")
        conn.commit()
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        started = time.perf_counter()
        conn.execute("VACUUM ANALYZE")  # fresh statistics and a visibility map, as autovacuum would leave them
        timings["vacuum analyze"] = time.perf_counter() - started
    return timings


def libpq(url: str) -> str:
    """``postgresql+psycopg://...`` as psycopg takes it."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)
