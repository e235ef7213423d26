"""The Rekognition v7 moderation label tree, with v6.1 names as aliases.

Sources and spelling caveats are in ../shared/REKOGNITION.md §3. Lookups are
case-insensitive and accept both "Drug" and "Drugs" spellings because AWS's own
documents disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

# L1 -> {L2 -> [L3, ...]}
TREE: dict[str, dict[str, list[str]]] = {
    "Explicit": {
        "Explicit Nudity": [
            "Exposed Male Genitalia",
            "Exposed Female Genitalia",
            "Exposed Buttocks or Anus",
            "Exposed Female Nipple",
        ],
        "Explicit Sexual Activity": [],
        "Sex Toys": [],
    },
    "Non-Explicit Nudity of Intimate parts and Kissing": {
        "Non-Explicit Nudity": [
            "Bare Back",
            "Exposed Male Nipple",
            "Partially Exposed Buttocks",
            "Partially Exposed Female Breast",
            "Implied Nudity",
        ],
        "Obstructed Intimate Parts": ["Obstructed Female Nipple", "Obstructed Male Genitalia"],
        "Kissing on the Lips": [],
    },
    "Swimwear or Underwear": {
        "Female Swimwear or Underwear": [],
        "Male Swimwear or Underwear": [],
    },
    "Violence": {
        "Weapons": [],
        "Graphic Violence": [
            "Weapon Violence",
            "Physical Violence",
            "Self-Harm",
            "Blood & Gore",
            "Explosions and Blasts",
        ],
    },
    "Visually Disturbing": {
        "Death and Emaciation": ["Emaciated Bodies", "Corpses"],
        "Crashes": ["Air Crash"],
    },
    "Drugs & Tobacco": {
        "Products": ["Pills"],
        "Drugs & Tobacco Paraphernalia & Use": ["Smoking"],
    },
    "Alcohol": {"Alcohol Use": ["Drinking"], "Alcoholic Beverages": []},
    "Rude Gestures": {"Middle Finger": []},
    "Gambling": {},
    "Hate Symbols": {"Nazi Party": [], "White Supremacy": [], "Extremist": []},
}

# v6.1 (retired 2024) names -> their closest v7 label. Accepted in thresholds
# files with a warning so old configs keep working.
V61_ALIASES: dict[str, str] = {
    "Nudity": "Explicit Nudity",
    "Graphic Male Nudity": "Exposed Male Genitalia",
    "Graphic Female Nudity": "Exposed Female Genitalia",
    "Sexual Activity": "Explicit Sexual Activity",
    "Illustrated Explicit Nudity": "Explicit Nudity",
    "Adult Toys": "Sex Toys",
    "Suggestive": "Non-Explicit Nudity of Intimate parts and Kissing",
    "Female Swimwear Or Underwear": "Female Swimwear or Underwear",
    "Male Swimwear Or Underwear": "Male Swimwear or Underwear",
    "Partial Nudity": "Non-Explicit Nudity",
    "Barechested Male": "Exposed Male Nipple",
    "Revealing Clothes": "Non-Explicit Nudity",
    "Sexual Situations": "Non-Explicit Nudity of Intimate parts and Kissing",
    "Graphic Violence Or Gore": "Graphic Violence",
    "Self Injury": "Self-Harm",
    "Hanging": "Death and Emaciation",
    "Drugs": "Drugs & Tobacco",
    "Drug Products": "Products",
    "Drug Use": "Drugs & Tobacco Paraphernalia & Use",
    "Drug Paraphernalia": "Drugs & Tobacco Paraphernalia & Use",
    "Tobacco": "Drugs & Tobacco",
    "Tobacco Products": "Products",
}


@dataclass(frozen=True)
class Label:
    name: str
    parent: str  # "" for a top-level label, as Rekognition returns it
    level: int


def _build() -> dict[str, Label]:
    labels: dict[str, Label] = {}
    for l1, children in TREE.items():
        labels[l1] = Label(l1, "", 1)
        for l2, leaves in children.items():
            labels[l2] = Label(l2, l1, 2)
            for l3 in leaves:
                labels[l3] = Label(l3, l2, 3)
    return labels


LABELS: dict[str, Label] = _build()


def normalise(name: str) -> str:
    """Key used for lookups: case-folded, spaces squeezed, "Drug " -> "Drugs "."""
    key = " ".join(name.split()).casefold()
    if key.startswith("drug &"):
        key = "drugs &" + key[len("drug &") :]
    return key


_BY_KEY: dict[str, Label] = {normalise(n): lab for n, lab in LABELS.items()}
_ALIAS_BY_KEY: dict[str, str] = {normalise(k): v for k, v in V61_ALIASES.items()}


def lookup(name: str) -> Label | None:
    """The v7 label for a name as written anywhere (case/spelling tolerant)."""
    return _BY_KEY.get(normalise(name))


def resolve_alias(name: str) -> str | None:
    """The v7 name a retired v6.1 name maps to, or None."""
    return _ALIAS_BY_KEY.get(normalise(name))


def ancestors(name: str) -> list[str]:
    """Canonical names from the label itself up to its L1, most specific first.

    An unknown label (a newer model's name, say) is its own only ancestor.
    """
    label = lookup(name)
    if label is None:
        return [name]
    chain = [label.name]
    while label.parent:
        label = LABELS[label.parent]
        chain.append(label.name)
    return chain


def top_level(name: str) -> str:
    return ancestors(name)[-1]
