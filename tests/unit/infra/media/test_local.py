"""local.confine: a file that is not there is refused naming the media root it was looked for under."""

from __future__ import annotations

import os

import pytest

from moderation.domain.errors import RefusedSubmission
from moderation.infra.media import local


def test_a_missing_file_names_the_media_root_and_its_setting(media_root):
    root = os.path.realpath(media_root)
    with pytest.raises(RefusedSubmission) as info:
        local.confine("samples/astronaut.jpg", media_root)
    assert str(info.value) == f"no such file under the media root '{root}' (MODQ_MEDIA_ROOT): 'samples/astronaut.jpg'"


def test_a_media_root_that_does_not_exist_says_so(tmp_path):
    root = tmp_path / "media"  # the default, relative to wherever modq runs: often not there
    with pytest.raises(RefusedSubmission) as info:
        local.confine("a.jpg", root)
    assert str(info.value) == (f"no such file under the media root '{os.path.realpath(root)}' (MODQ_MEDIA_ROOT); "
                               "that directory does not exist: 'a.jpg'")
