import pytest

from moderation.domain import taxonomy


def test_tree_has_the_documented_size():
    levels = [label.level for label in taxonomy.LABELS.values()]
    assert (levels.count(1), levels.count(2), levels.count(3)) == (10, 20, 22)


@pytest.mark.parametrize(
    "name, chain",
    [
        ("Smoking", ["Smoking", "Drugs & Tobacco Paraphernalia & Use", "Drugs & Tobacco"]),
        ("exposed female nipple", ["Exposed Female Nipple", "Explicit Nudity", "Explicit"]),
        ("Gambling", ["Gambling"]),
        ("Something New", ["Something New"]),
    ],
)
def test_ancestors(name, chain):
    assert taxonomy.ancestors(name) == chain


def test_every_parent_exists_one_level_up():
    for label in taxonomy.LABELS.values():
        if label.parent:
            assert taxonomy.LABELS[label.parent].level == label.level - 1
        else:
            assert label.level == 1


def test_aliases_point_at_real_v7_labels():
    for old, new in taxonomy.V61_ALIASES.items():
        assert taxonomy.lookup(new) is not None, old
