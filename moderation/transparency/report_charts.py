"""The transparency report's charts (PNG, matplotlib's Agg canvas: no display, no pyplot state): one a table,
and ``overview.png`` with the main ones on one page (README shows it). Heavy to import (matplotlib: ~0.4 s):
``modq transparency report`` imports it only when it runs."""

from __future__ import annotations

import io
import textwrap
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from moderation.transparency.report import HOUR, Report, Table

# Colour-blind-safe (Okabe-Ito), one meaning each across charts.
BLUE, ORANGE, GREEN, RED, GREY, PURPLE, SKY = "#0072B2", "#E69F00", "#009E73", "#D55E00", "#999999", "#CC79A7", "#56B4E9"
PALETTE = (BLUE, ORANGE, GREEN, RED, PURPLE, SKY, GREY)
# Outcomes keep one colour in every chart: a restriction red, content left up green, undecided grey.
COLOURS = {"rejected": RED, "approved": GREEN, "flagged": ORANGE, "open": GREY, "overturned": RED,
           "upheld": BLUE, "sent": GREEN, "pending": GREY, "withdrawn": ORANGE,
           # automation: machine blue, a person's confirmation orange, a person alone purple
           "AUTOMATED_DECISION_FULLY": BLUE, "automatic": BLUE, "AUTOMATED_DECISION_PARTIALLY": ORANGE,
           "AUTOMATED_DECISION_NOT_AUTOMATED": PURPLE, "human review": PURPLE}
WRAP = 24  # characters a label line
TICKS = [(1 / 3600, "1 s"), (1 / 60, "1 min"), (1.0, "1 h"), (24.0, "1 day"), (720.0, "30 days")]

_NAMES = {
    "DECISION_GROUND_ILLEGAL_CONTENT": "illegal content",
    "DECISION_GROUND_INCOMPATIBLE_CONTENT": "incompatible with terms",
    "STATEMENT_CATEGORY_OTHER_VIOLATION_TC": "Other violation of terms and conditions",
    "AUTOMATED_DECISION_FULLY": "fully automated",
    "AUTOMATED_DECISION_PARTIALLY": "partially automated",
    "AUTOMATED_DECISION_NOT_AUTOMATED": "not automated",
}


def name(code: Any) -> str:
    """'STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH' -> 'Illegal or harmful speech'."""
    text = str(code)
    if text in _NAMES:
        return _NAMES[text]
    if text.startswith("STATEMENT_CATEGORY_"):
        return text.removeprefix("STATEMENT_CATEGORY_").replace("_", " ").capitalize()
    return text


def _wrap(label: str) -> str:
    return textwrap.fill(label, WRAP)


def _empty(ax: Axes) -> bool:
    """Say so on the axes when there is nothing to draw."""
    ax.text(0.5, 0.5, "nothing in this period", ha="center", va="center", transform=ax.transAxes, color=GREY)
    ax.set_xticks([])
    ax.set_yticks([])
    return True


def _counts() -> MaxNLocator:
    """Ticks of a count axis: whole numbers in steps of 1, 2 or 5 (times a power of ten)."""
    return MaxNLocator(integer=True, steps=[1, 2, 5, 10])


def _stack(ax: Axes, labels: list[str], series: dict[str, list[float]], horizontal: bool) -> None:
    """Stacked bars: one bar a label, one segment a series, each in its own colour."""
    base = [0.0] * len(labels)
    for index, (label, values) in enumerate(series.items()):
        colour = COLOURS.get(label, PALETTE[index % len(PALETTE)])
        if horizontal:
            ax.barh(labels, values, left=base, color=colour, label=label)
        else:
            ax.bar(labels, values, bottom=base, color=colour, label=label)
        base = [b + v for b, v in zip(base, values)]
    (ax.xaxis if horizontal else ax.yaxis).set_major_locator(_counts())  # counts
    if len(series) > 1:
        ax.legend(fontsize="small", frameon=False)


def _pivot(rows: list[tuple[Any, ...]], key: int, part: int, value: int) -> tuple[list[str], dict[str, list[float]]]:
    keys = list(dict.fromkeys(name(r[key]) for r in rows))
    series: dict[str, list[float]] = {}
    for r in rows:
        series.setdefault(name(r[part]), [0.0] * len(keys))[keys.index(name(r[key]))] += r[value]
    return keys, series


def categories(ax: Axes, t: Table) -> None:
    if not t.rows and _empty(ax):
        return
    keys, series = _pivot(t.rows, 0, 1, 2)
    order = sorted(range(len(keys)), key=lambda i: sum(s[i] for s in series.values()))  # largest on top
    _stack(ax, [_wrap(keys[i]) for i in order], {k: [v[i] for i in order] for k, v in series.items()}, True)
    ax.set_xlabel("restrictive decisions")
    ax.set_ylabel("DSA category")


def decisions(ax: Axes, t: Table) -> None:
    if not t.rows and _empty(ax):
        return
    keys, series = _pivot(t.rows, 0, 1, 3)
    _stack(ax, keys, series, False)
    ax.set_xlabel("decided by")
    ax.set_ylabel("decisions")


def automation(ax: Axes, t: Table) -> None:
    if not any(r[2] for r in t.rows) and _empty(ax):
        return
    bases = list(dict.fromkeys(r[0] for r in t.rows))
    left = dict.fromkeys(bases, 0.0)
    for index, (basis, level, count, share) in enumerate(t.rows):
        named = share >= 0.15  # room for its name in the bar; a narrower one is named in the legend
        ax.barh(_wrap(basis), 100 * share, left=left[basis], color=COLOURS.get(level, PALETTE[index % len(PALETTE)]),
                edgecolor="white",
                label=None if named or not count else f"{name(level)} ({count})")
        if share >= 0.04:
            label = f"{textwrap.fill(name(level), 10)}\n{100 * share:.0f}%" if named else f"{100 * share:.0f}%"
            ax.text(left[basis] + 50 * share, bases.index(basis), label, ha="center", va="center", color="white",
                    fontsize="small", fontweight="bold")
        left[basis] += 100 * share
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small", frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)
    ax.set_xlim(0, 100)
    ax.set_xlabel("share of decisions (%)")


def times(ax: Axes, t: Table) -> None:
    rows = [r for r in t.rows if r[1]]
    if not rows and _empty(ax):
        return
    labels = [textwrap.fill(f"{r[0]} (n={r[1]})", 18) for r in rows]
    at = range(len(rows))
    # Seconds for a model, days for an appeal: a log scale shows both, each bar labelled in its own unit.
    for offset, column, colour, label in ((-0.2, 2, BLUE, "median"), (0.2, 3, ORANGE, "p90")):
        values = [max(r[column], 1.0) / HOUR for r in rows]
        bars = ax.barh([i + offset for i in at], values, height=0.4, color=colour, label=label)
        ax.bar_label(bars, [duration(r[column]) for r in rows], padding=2, fontsize="x-small")
    ax.set_xscale("log")
    longest = max(max(r[3] or 0, 1.0) for r in rows) / HOUR
    ticks = [(v, n) for v, n in TICKS if v <= longest * 3] or TICKS[:1]
    ax.set_xticks([v for v, _ in ticks], [n for _, n in ticks])
    ax.minorticks_off()
    ax.set_xlim(1 / HOUR, longest * 4)
    ax.set_yticks(list(at), labels)
    ax.invert_yaxis()
    ax.set_xlabel("time to decision (log scale)")
    ax.legend(fontsize="small", frameon=False, loc="upper right")


def duration(seconds: float) -> str:
    """45 s, 2.5 min, 3.2 h, 2.1 d."""
    for unit, size in (("d", 86400), ("h", HOUR), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"


def notices(ax: Axes, t: Table) -> None:
    if not t.rows and _empty(ax):
        return
    keys, series = _pivot(t.rows, 0, 1, 2)
    _stack(ax, keys, series, False)
    ax.set_xlabel("notifier")
    ax.set_ylabel("notices received")


def _bars(ax: Axes, t: Table, xlabel: str, ylabel: str) -> None:
    labels, values = [str(r[0]) for r in t.rows], [r[1] for r in t.rows]
    bars = ax.bar(labels, values, color=[COLOURS.get(label, BLUE) for label in labels])
    ax.bar_label(bars, fontsize="small")
    ax.tick_params(axis="x", labelsize="small")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, max([*values, 1]) * 1.15)  # all zero: still an axis from 0 up, not around 0
    ax.yaxis.set_major_locator(_counts())


def appeals(ax: Axes, t: Table) -> None:
    _bars(ax, t, "appeals", "count")


def statements(ax: Axes, t: Table) -> None:
    _bars(ax, t, "submission state", "statements of reasons")


DRAW: dict[str, Callable[[Axes, Table], None]] = {
    "categories": categories, "decisions": decisions, "automation": automation, "time_to_decision": times,
    "notices": notices, "appeals": appeals, "statements": statements}
OVERVIEW = ("categories", "automation", "time_to_decision", "notices", "appeals", "statements")


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def chart(report: Report, table: str) -> bytes:
    figure = _figure(8, 5)
    ax = figure.add_subplot()
    DRAW[table](ax, report.tables[table])
    ax.set_title(report.tables[table].title)
    ax.grid(axis="both", alpha=0.25)
    return _png(figure)


def span(report: Report) -> str:
    """'1 Jul 2026 to 30 Sep 2026' for [2026-07-01, 2026-10-01): the last day shown is the last one counted."""
    start, end = report.period.start, report.period.end
    if start.time() == end.time() == datetime.min.time():
        last = end - timedelta(days=1)
        return f"{start.day} {start:%b %Y} to {last.day} {last:%b %Y}"
    return f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC"


def overview(report: Report) -> bytes:
    p = report.period
    figure = _figure(15, 9.5)
    who = "every tenant" if p.scope.all else f"tenant {p.tenant}"
    figure.suptitle(f"Transparency report, {span(report)} ({who})", fontsize="x-large")
    for index, table in enumerate(OVERVIEW, start=1):
        ax = figure.add_subplot(2, 3, index)
        DRAW[table](ax, report.tables[table])
        ax.set_title(report.tables[table].title, fontsize="medium")
        ax.grid(alpha=0.25)
    return _png(figure)


def charts(report: Report) -> dict[str, bytes]:
    """Every chart by file name: ``<table>.png`` for each table drawn, then ``overview.png``."""
    drawn = {f"{t}.png": chart(report, t) for t in DRAW if t in report.tables}
    return {**drawn, "overview.png": overview(report)}
