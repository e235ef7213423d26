"""Context in the console's queue (issue 17.5, 17.9): blurred thumbnails, chips (fired labels first, no
ancestor repeated), and the label filter as a taxonomy dropdown (an unknown label is 422 naming it)."""

from __future__ import annotations

import re

import pytest


def test_the_queue_shows_blurred_thumbnails_and_fired_chips(client, sign_in, flagged):
    item_id = flagged("Graphic Violence", 60)  # the fake lists "Violence" too, at 60
    sign_in()
    html = client.get("/").text
    assert f'<span class="thumb thumb-small blurred"><img src="/media/{item_id}"' in html
    chips = re.findall(r'<span class="chip([^"]*)"[^>]*>([^<]+)</span>', html)
    assert chips == [(" chip-fired", "Graphic Violence 60%")]  # not also "Violence 60%"


def test_the_label_filter_is_a_taxonomy_dropdown(client, sign_in, flagged):
    violent, hateful = flagged("Graphic Violence", 80), flagged("Hate Symbols", 70)
    sign_in()
    html = client.get("/", params={"label": "violence"}).text  # any spelling of a known label
    select = html[html.index('<select name="label" id="label-filter">'):]
    select = select[:select.index("</select>")]
    options = re.findall(r'<option value="([^"]*)"', select)
    assert options[0] == "" and "Explicit Nudity" in options and "Self-Harm" in options and len(options) == 1 + 52
    assert re.search(r'<option value="Violence" selected>Violence</option>', select)
    assert violent[:8] in html and hateful[:8] not in html
    assert client.get("/", params={"label": "Drugs"}).status_code == 200  # a v6.1 name: its v7 label


@pytest.mark.parametrize("method, path", [("get", "/"), ("get", "/items/x"), ("post", "/next")])
def test_an_unknown_label_is_422_naming_label(client, sign_in, method, path):
    csrf = sign_in()
    if method == "get":
        response = client.get(path, params={"label": "Violense"})
    else:
        response = client.post(path, data={"csrf": csrf, "label": "Violense"})
    assert response.status_code == 422
    assert "label" in response.json()["message"] and "unknown label 'Violense'" in response.json()["message"]
