"""Reviewer preferences (issue 17.8-9): built-in defaults < tenant defaults < the reviewer's own; only known
keys with true/false; tenant defaults set by an admin of that tenant, audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from moderation.domain.errors import BadInput
from moderation.domain.tenancy import DEFAULT_TENANT_ID, EVERY_TENANT, Scope
from moderation.infra.db import transaction
from moderation.items.models import AuditEvent
from moderation.review import preferences
from moderation.review.models import ReviewerPreferences, TenantReviewDefaults
from moderation.review.services import NotFound
from moderation.tenants import services as tenants

ALICE = "alice (token 2)"
DEFAULT = Scope(tenant_ids=frozenset({DEFAULT_TENANT_ID}))


def test_built_in_defaults_are_the_cautious_ones(sqlite_url):
    assert preferences.effective(sqlite_url, ALICE, DEFAULT_TENANT_ID) == {
        "blur_by_default": True, "grayscale_after_reveal": False, "video_muted": True, "shortcuts": True}


def test_tenant_defaults_then_own_settings_win(sqlite_url):
    preferences.set_tenant_defaults(sqlite_url, DEFAULT_TENANT_ID, {"grayscale_after_reveal": True,
                                                                    "shortcuts": False}, "root (token 1)",
                                    admin=True, scope=DEFAULT)
    preferences.set_own(sqlite_url, ALICE, {"shortcuts": True, "video_muted": False})
    layers = preferences.layers(sqlite_url, ALICE, DEFAULT_TENANT_ID)
    assert layers["tenant_defaults"] == {"grayscale_after_reveal": True, "shortcuts": False}
    assert layers["own"] == {"shortcuts": True, "video_muted": False}
    assert layers["effective"] == {"blur_by_default": True, "grayscale_after_reveal": True, "video_muted": False,
                                   "shortcuts": True}
    # another reviewer of the tenant gets its defaults; a reviewer of another tenant does not
    assert preferences.effective(sqlite_url, "bob (token 3)", DEFAULT_TENANT_ID)["shortcuts"] is False
    other = tenants.create(sqlite_url, "forum", "test")["id"]
    assert preferences.effective(sqlite_url, "carol (token 4)", other)["shortcuts"] is True


def test_own_settings_are_replaced_and_a_key_left_out_follows_the_tenant(sqlite_url):
    preferences.set_own(sqlite_url, ALICE, {"blur_by_default": False})
    preferences.set_own(sqlite_url, ALICE, {"shortcuts": False})
    assert preferences.layers(sqlite_url, ALICE, DEFAULT_TENANT_ID)["own"] == {"shortcuts": False}
    assert preferences.effective(sqlite_url, ALICE, DEFAULT_TENANT_ID)["blur_by_default"] is True


@pytest.mark.parametrize("settings, message", [
    ({"blur": True}, "blur: unknown preference"),
    ({"shortcuts": "false"}, "shortcuts: must be true or false"),
    ({"video_muted": 0}, "video_muted: must be true or false"),
    ({"grayscale_after_reveal": None}, "grayscale_after_reveal: must be true or false"),
    (["shortcuts"], "preferences: an object of"),
])
def test_bad_keys_and_values_are_refused_naming_the_key_and_nothing_is_stored(sqlite_url, settings, message):
    with pytest.raises(BadInput, match=message):
        preferences.set_own(sqlite_url, ALICE, settings)
    with pytest.raises(BadInput, match=message):
        preferences.set_tenant_defaults(sqlite_url, DEFAULT_TENANT_ID, settings, "root (token 1)", admin=True,
                                        scope=DEFAULT)
    with transaction(sqlite_url) as s:
        assert s.scalars(select(ReviewerPreferences)).all() == []
        assert s.scalars(select(TenantReviewDefaults)).all() == []
        assert s.scalars(select(AuditEvent)).all() == []


def test_a_setting_stored_then_retired_is_ignored_not_an_error(sqlite_url):
    with transaction(sqlite_url) as s:
        s.add(ReviewerPreferences(reviewer=ALICE, settings={"autoplay": True, "shortcuts": False, "video_muted": "x"}))
    assert preferences.layers(sqlite_url, ALICE, DEFAULT_TENANT_ID)["own"] == {"shortcuts": False}


def test_tenant_defaults_are_audited_and_only_for_an_admin_of_that_tenant(sqlite_url):
    other = tenants.create(sqlite_url, "forum", "test")["id"]
    with pytest.raises(NotFound):  # an admin of the default tenant only: forum is not theirs, as if missing
        preferences.set_tenant_defaults(sqlite_url, other, {"shortcuts": False}, "root (token 1)", admin=True,
                                        scope=DEFAULT)
    with pytest.raises(NotFound):
        preferences.tenant_defaults(sqlite_url, other, scope=DEFAULT)
    with pytest.raises(PermissionError):
        preferences.set_tenant_defaults(sqlite_url, DEFAULT_TENANT_ID, {"shortcuts": False}, ALICE, admin=False,
                                        scope=DEFAULT)
    view = preferences.set_tenant_defaults(sqlite_url, other, {"shortcuts": False}, "ops (token 5)", admin=True,
                                           scope=EVERY_TENANT)
    assert view["settings"] == {"shortcuts": False} and view["updated_by"] == "ops (token 5)"
    with transaction(sqlite_url) as s:
        (event,) = s.scalars(select(AuditEvent)).all()
        assert (event.action, event.tenant_id, event.actor) == ("review_defaults", other, "ops (token 5)")
        assert event.reason == "reviewer defaults: shortcuts=false"


def test_which_tenants_defaults_apply():
    assert preferences.tenant_of(Scope(tenant_ids=frozenset({7}))) == 7
    assert preferences.tenant_of(Scope(tenant_ids=frozenset({DEFAULT_TENANT_ID, 8}))) == DEFAULT_TENANT_ID
    assert preferences.tenant_of(Scope(tenant_ids=frozenset({7, 8}))) is None  # default's are not theirs to read
    assert preferences.tenant_of(EVERY_TENANT) == DEFAULT_TENANT_ID
