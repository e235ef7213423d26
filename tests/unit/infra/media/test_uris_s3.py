"""``media.s3_uri`` is the inverse of ``media.parse`` for every S3 key (S3 upload events deliver any key)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moderation.infra.media import uris as media

# Any character but control characters (``parse`` refuses those) and lone surrogates (not text).
_CHARS = st.characters(blacklist_categories=("Cc", "Cs"))


@settings(max_examples=500, deadline=None)
@given(key=st.text(_CHARS, min_size=1, max_size=80),
       version=st.one_of(st.just(""), st.text(_CHARS, min_size=1, max_size=40)))
def test_parse_gives_back_exactly_the_key_and_version(key, version):
    uri = media.s3_uri("ugc-uploads", key, version)
    ref = media.parse(uri, Path("/"))
    assert (ref.bucket, ref.key, ref.version) == ("ugc-uploads", key, version)
    assert ref.uri == uri  # canonical: parsing it again changes nothing


@settings(max_examples=300, deadline=None)
@given(key=st.text(st.sampled_from("a/%?# +"), min_size=1, max_size=12))
def test_keys_made_of_the_characters_parse_treats_specially_round_trip(key):
    """The general property above rarely draws "//" or a trailing "/" from all of unicode: draw them often."""
    ref = media.parse(media.s3_uri("ugc-uploads", key), Path("/"))
    assert ref.key == key


@pytest.mark.parametrize("key, uri", [
    ("u/cat.jpg", "s3://b-1/u/cat.jpg"),  # ordinary keys look as before
    ("u/a b+c.jpg", "s3://b-1/u/a b+c.jpg"),  # spaces and "+" stay readable
    ("u/café 写真.jpg", "s3://b-1/u/café 写真.jpg"),
    ("u/100%.jpg", "s3://b-1/u/100%25.jpg"),  # parse would %-decode it
    ("u/a%20b.jpg", "s3://b-1/u/a%2520b.jpg"),
    ("u/q?x#y.jpg", "s3://b-1/u/q%3Fx%23y.jpg"),  # neither a query nor a fragment
    ("//abs.jpg", "s3://b-1/%2F%2Fabs.jpg"),  # leading slashes are part of the key
    ("u//x.jpg", "s3://b-1/u/%2Fx.jpg"),  # parse refuses empty segments ("//", a trailing "/") as typed
    ("u///x.jpg", "s3://b-1/u/%2F%2Fx.jpg"),
    ("u/folder/", "s3://b-1/u/folder%2F"),
    ("/", "s3://b-1/%2F"),
    ("u/x.jpg ", "s3://b-1/u/x.jpg%20"),  # a trailing space would be stripped
])
def test_only_what_parse_would_change_is_escaped(key, uri):
    assert media.s3_uri("b-1", key) == uri
    assert media.parse(uri, Path("/")).key == key


def test_versions_are_escaped_where_the_query_needs_it():
    uri = media.s3_uri("b-1", "k.jpg", "3/L4kqtJl+cpX%&#=")
    assert uri == "s3://b-1/k.jpg?versionId=3/L4kqtJl+cpX%25%26%23="
    assert media.parse(uri, Path("/")).version == "3/L4kqtJl+cpX%&#="
