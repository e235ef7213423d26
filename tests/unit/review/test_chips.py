"""Queue chips: fired labels first, no ancestor repeated at the same confidence."""

from __future__ import annotations

import pytest

from moderation.review.chips import chips


def labs(*pairs):
    return [{"Name": name, "Confidence": confidence} for name, confidence in pairs]


@pytest.mark.parametrize("labels, fired, expected", [
    # the example of issue 17: the L2 shown, not its L1 at the same confidence
    (labs(("Explicit Nudity", 97.2), ("Explicit", 97.2)), ["Explicit Nudity"], ["Explicit Nudity 97 *"]),
    # the ancestor's rule fired: the descendant stands for it, among the fired
    (labs(("Explicit", 97.0), ("Explicit Nudity", 97.0), ("Alcohol", 99.0)), ["Explicit"],
     ["Explicit Nudity 97 *", "Alcohol 99"]),
    # a whole chain at one confidence: only the leaf
    (labs(("Violence", 88), ("Graphic Violence", 88), ("Self-Harm", 88)), ["Self-Harm"], ["Self-Harm 88 *"]),
    # the same after rounding (97.4 and 96.6 both show as 97)
    (labs(("Explicit", 97.4), ("Explicit Nudity", 96.6)), [], ["Explicit Nudity 97"]),
    # a different confidence says something: both stay
    (labs(("Explicit", 99), ("Explicit Nudity", 80)), ["Explicit"], ["Explicit 99 *", "Explicit Nudity 80"]),
    # fired labels first, in the decision's order, even when others are more confident
    (labs(("Alcohol", 99), ("Hate Symbols", 60), ("Weapons", 70), ("Violence", 70)), ["Hate Symbols", "Weapons"],
     ["Hate Symbols 60 *", "Weapons 70 *", "Alcohol 99"]),
    # the rest by confidence, three at most
    (labs(("Alcohol", 60), ("Gambling", 90), ("Rude Gestures", 75), ("Hate Symbols", 50)), [],
     ["Gambling 90", "Rude Gestures 75", "Alcohol 60"]),
    # an unknown label (a newer model's) is shown as it is
    (labs(("Brand New Label", 91)), [], ["Brand New Label 91"]),
    # siblings at one confidence are not ancestors of each other
    (labs(("Weapons", 80), ("Graphic Violence", 80), ("Violence", 80)), ["Violence"],
     ["Weapons 80 *", "Graphic Violence 80 *"]),
    # nothing detected
    ([], [], []),
    # a label listed twice (video: several detections) counts once, at its highest confidence
    (labs(("Smoking", 40), ("Smoking", 65)), [], ["Smoking 65"]),
])
def test_chips(labels, fired, expected):
    shown = [f"{c['name']} {c['confidence']:.0f}{' *' if c['fired'] else ''}" for c in chips(labels, fired)]
    assert shown == expected
