"""find_item: an item by id, external id or an id prefix of 4+ characters; a prefix of several items names
some of them."""

from __future__ import annotations

import pytest

from moderation.domain.errors import AmbiguousRef
from moderation.infra.db import transaction
from moderation.items import models as m
from moderation.items.queries import item_id_for

IDS = ["abcd1111-0000-4000-8000-000000000001", "abcd2222-0000-4000-8000-000000000002",
       "abce3333-0000-4000-8000-000000000003"]
OTHER = "ffff0000-0000-4000-8000-000000000009"


def put(url: str, item_id: str, external_id: str | None = None) -> None:
    with transaction(url) as s:
        s.add(m.Item(id=item_id, external_id=external_id, media_uri="a.jpg", media_type="image"))


@pytest.fixture
def url(sqlite_url):
    for n, item_id in enumerate(IDS):
        put(sqlite_url, item_id, f"post-{n}")
    put(sqlite_url, OTHER, "abce")
    return sqlite_url


@pytest.mark.parametrize("ref, expected", [
    (IDS[0], IDS[0]),
    ("post-1", IDS[1]),
    ("abcd1", IDS[0]),
    ("ffff", OTHER),  # four characters are enough
    ("FFFF", OTHER),  # ids are lowercase hex
    ("abce", OTHER),  # an external id wins over an id prefix
    ("abce3", IDS[2]),
    ("fff", None),  # three are not
    ("abcd3", None),
    ("a_c%", None),  # LIKE wildcards are characters here
])
def test_find_item(url, ref, expected):
    assert item_id_for(url, ref) == expected


def test_a_prefix_of_several_items_names_them(url):
    with pytest.raises(AmbiguousRef) as info:
        item_id_for(url, "abcd")
    assert info.value.candidates == IDS[:2]
    assert str(info.value) == f"id prefix 'abcd' matches several items: {IDS[0]}, {IDS[1]}; give more characters"


def test_many_candidates_are_cut_short(url):
    for n in range(3, 9):
        put(url, f"abcd{n}{n}{n}{n}-0000-4000-8000-00000000000{n}")
    with pytest.raises(AmbiguousRef) as info:
        item_id_for(url, "abcd")
    assert str(info.value).count("abcd") == 1 + 5 and ", ...; give more characters" in str(info.value)
