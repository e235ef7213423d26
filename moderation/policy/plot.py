"""A category's precision/recall curve (``curves.Curve``) drawn as a PNG with matplotlib's Agg canvas: no
display, no pyplot state. Heavy to import (matplotlib: ~0.4 s): commands import it only when asked to plot."""

from __future__ import annotations

import io
import math
import re

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from moderation.policy.curves import Curve

PRECISION, RECALL = "#1f6feb", "#d97706"  # the console's Tuning page uses the same two colours


def file_name(curve: Curve) -> str:
    """'Drugs & Tobacco' -> 'drugs-tobacco.png'."""
    return re.sub(r"[^a-z0-9]+", "-", curve.category.lower()).strip("-") + ".png"


def _nan(value: float | None) -> float:
    return math.nan if value is None else value


def png(curve: Curve) -> bytes:
    """Precision and recall against the flag threshold, the current and candidate thresholds marked."""
    figure = Figure(figsize=(7, 4.5), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    xs = [p.threshold for p in curve.points]
    # A point's value holds from the point before it up to it (every threshold in between flags the same items).
    ax.plot(xs, [_nan(p.quality.precision) for p in curve.points], color=PRECISION, label="precision",
            drawstyle="steps-pre")
    ax.plot(xs, [_nan(p.quality.recall) for p in curve.points], color=RECALL, label="recall", drawstyle="steps-pre")
    same = curve.current is not None and curve.current == curve.candidate
    marks = [("current", curve.current, "-"), ("candidate", None if same else curve.candidate, "--")]
    for name, threshold, style in marks:
        if threshold is None:
            continue
        label = f"{'current = candidate' if same else name} flag {threshold:g}"
        ax.axvline(threshold, color="#444444", linestyle=style, linewidth=1.2, label=label)
        at = [p for p in curve.points if p.threshold == threshold]
        for p in at:
            ax.plot([threshold] * 2, [_nan(p.quality.precision), _nan(p.quality.recall)], "o", color="#444444")
    if curve.reject is not None and curve.points and curve.reject < curve.points[-1].threshold:
        ax.axvline(curve.reject, color="#b42318", linestyle=":", linewidth=1.2,
                   label=f"reject {curve.reject:g}: flat past it (rejected anyway)")
    ax.set_xlabel("flag threshold (label confidence, %)")
    ax.set_ylabel("precision / recall")
    ax.set_ylim(-0.02, 1.05)
    ax.grid(alpha=0.3)
    ax.set_title(f"{curve.category}: {curve.support} reviewed {curve.provider} items")
    ax.legend(loc="lower left", fontsize="small")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
