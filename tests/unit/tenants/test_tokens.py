"""Tokens: shown once, stored hashed, revocable; console sessions tied to them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from moderation.domain.tenancy import DEFAULT_TENANT_ID, Scope
from moderation.tenants import tokens
from moderation.domain.errors import BadInput
from moderation.items import models as m
from moderation.infra.clock import utcnow
from moderation.infra.db import transaction
from moderation.tenants.models import ConsoleSession


@pytest.fixture
def url(sqlite_url) -> str:
    return sqlite_url


def test_token_is_random_prefixed_and_only_its_hash_is_stored(url):
    token_id, token = tokens.create(url, "alice", "reviewer", created_by="ops")
    assert token.startswith("modq_") and len(token) > 40
    with transaction(url) as s:
        dump = " ".join(str(v) for row in s.execute(text("SELECT * FROM api_tokens")) for v in row)
    assert token not in dump and token[5:] not in dump and tokens.digest(token) in dump
    assert tokens.authenticate(url, token) == tokens.Principal(token_id, "alice", "reviewer",
                                                               Scope(tenant_ids=frozenset({DEFAULT_TENANT_ID})))


@pytest.mark.parametrize("presented", [None, "", "modq_wrong", "not-even-prefixed", "modq_" + "x" * 200])
def test_unknown_tokens_are_refused(url, presented):
    tokens.create(url, "alice", "reviewer", created_by="ops")
    assert tokens.authenticate(url, presented) is None


@pytest.mark.parametrize("name, role, message", [
    ("alice", "superuser", "unknown role"), ("", "admin", "1-128"), ("system", "admin", "not 'system'"),
    ("x" * 129, "admin", "1-128"), ("tab\there", "admin", "printable"), ("cli:root", "admin", "cli:"),
])
def test_bad_names_and_roles(url, name, role, message):
    with pytest.raises(BadInput, match=message):
        tokens.create(url, name, role, created_by="ops")


def test_revoke_by_id_or_name_is_audited(url):
    first_id, first = tokens.create(url, "ci", "ingest", created_by="ops")
    _, second = tokens.create(url, "ci", "ingest", created_by="ops")
    _, other = tokens.create(url, "bob", "reviewer", created_by="ops")
    assert tokens.revoke(url, str(first_id), actor="ops") == [first_id]
    assert tokens.authenticate(url, first) is None and tokens.authenticate(url, second) is not None
    assert len(tokens.revoke(url, "ci", actor="ops")) == 1
    assert tokens.authenticate(url, second) is None and tokens.authenticate(url, other) is not None
    assert tokens.revoke(url, "ci", actor="ops") == []
    with transaction(url) as s:
        actions = [(e.actor, e.action) for e in s.scalars(select(m.AuditEvent).order_by(m.AuditEvent.id))]
    assert actions.count(("ops", "token_create")) == 3 and actions.count(("ops", "token_revoke")) == 2
    assert [t["revoked"] for t in tokens.list_tokens(url)] == [True, True, False]


def test_sessions(url):
    _, token = tokens.create(url, "alice", "reviewer", created_by="ops")
    principal = tokens.authenticate(url, token)
    secret, csrf = tokens.open_session(url, principal, hours=1)
    found = tokens.session(url, secret)
    assert found.principal == principal and found.csrf_token == csrf
    assert tokens.session(url, "guess") is None and tokens.session(url, None) is None
    with transaction(url) as s:
        assert secret not in str(s.scalar(select(ConsoleSession.session_hash)))
        s.scalar(select(ConsoleSession)).expires_at = utcnow() - timedelta(seconds=1)
    assert tokens.session(url, secret) is None  # expired
    secret, _ = tokens.open_session(url, principal, hours=1)
    tokens.close_session(url, secret)
    assert tokens.session(url, secret) is None


def test_same_secret():
    assert tokens.same_secret("abc", "abc")
    assert not tokens.same_secret("abc", "abd") and not tokens.same_secret("abc", None)
    assert not tokens.same_secret("", "") and not tokens.same_secret("abc", "\ud800")


def test_the_actor_names_the_token_and_fits_the_columns_that_hold_it():
    assert tokens.Principal(7, "alice", "reviewer").actor == "alice (token 7)"
    long = tokens.Principal(123456, "n" * 128, "reviewer").actor
    assert len(long) == tokens.ACTOR_MAX and long.endswith("n (token 123456)")  # the name is cut, never the id
