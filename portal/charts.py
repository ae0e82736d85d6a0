"""Daily bar charts for the analytics page, laid out here and drawn as inline SVG by
``templates/portal/_daily_chart.html``: no JavaScript, no chart library, nothing that a strict CSP stops.

Geometry only: the figures are ``telemetry.selectors.app_analytics``'s rows, the same the API answers.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

# The plot is an SVG whose viewBox is SLOT units per day by HEIGHT, stretched by CSS to its box's width at a
# fixed height (preserveAspectRatio="none"), so the bars always fill the width; the axis labels are in
# separate SVGs without a viewBox (pixel and percentage positions), so their text is never stretched.
SLOT = 10
HEIGHT = 190  # also the plot's CSS height in pixels: y positions are pixels for the value labels
PAD = 8  # above the top gridline and below the baseline, room for the value labels' halves
GRIDLINES = 4
MAX_DATE_LABELS = 6  # spread evenly over a longer range
EVERY_DAY_LABELLED = 8  # a week (or a day more) names every day


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    day: str  # YYYY-MM-DD
    value: int


@dataclass(frozen=True)
class Tick:
    position: float  # y in pixels for the value axis, x in percent of the width for the date axis
    label: str
    anchor: str = "middle"  # SVG text-anchor: the first and last dates stay inside the chart
    minor: bool = False  # a date label left out on a phone, where six would collide


@dataclass
class DailyChart:
    metric: str
    label: str  # "Downloads"
    unit: str  # "downloads", for "12 downloads"
    start: str
    end: str
    # A sum over days means something for downloads and crashes; active users are distinct devices per day
    # (one device active all month counts every day), so their headline is the daily average.
    additive: bool
    total: int
    peak: int
    peak_day: str | None
    bars: list[Bar] = field(default_factory=list)
    value_ticks: list[Tick] = field(default_factory=list)
    date_ticks: list[Tick] = field(default_factory=list)
    width: int = 0  # of the viewBox: SLOT per day
    height: int = HEIGHT
    baseline: int = HEIGHT - PAD

    @property
    def average(self) -> float:
        return self.total / len(self.bars) if self.bars else 0.0

    @property
    def headline_text(self) -> str:
        """The figure shown big above the chart: the total, or for a non-additive metric the daily average."""
        if self.additive:
            return f"{self.total:,}"
        return f"{self.average:,.1f}".removesuffix(".0")

    @property
    def headline_note(self) -> str:
        return "in total" if self.additive else "a day on average"

    @property
    def summary(self) -> str:
        """What the chart shows, in words (the SVG's ``<desc>``)."""
        days = len(self.bars)
        if not self.total:
            return f"No {self.unit} on any of the {days} days from {self.start} to {self.end}."
        overall = (
            f"{self.total:,} {self.unit} over {days} days"
            if self.additive
            else f"On average {self.headline_text} {self.unit} a day over {days} days"
        )
        return (
            f"{overall} from {self.start} to {self.end}; "
            f"the most on one day: {self.peak:,} on {self.peak_day}."
        )


def axis_maximum(peak: int) -> int:
    """The top of the value axis: ``GRIDLINES`` times the smallest round step (1, 2, 2.5 or 5 × 10ⁿ, whole
    numbers only) that reaches ``peak``, so every gridline falls on a round number (``GRIDLINES`` for an
    empty chart)."""
    if peak <= 0:
        return GRIDLINES
    needed = peak / GRIDLINES
    magnitude = 10 ** math.floor(math.log10(needed))
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * magnitude
        if step >= needed and step == int(step):
            return max(1, int(step)) * GRIDLINES
    raise AssertionError("unreachable: 10 × magnitude always reaches the step")


def _short(value: int) -> str:
    for size, suffix in ((1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k")):
        if value >= size:
            scaled = value / size
            return f"{scaled:.1f}".rstrip("0").rstrip(".") + suffix
    return str(value)


def _date_label(day: dt.date, *, with_year: bool) -> str:
    return f"{day:%b} {day.day}" + (f" {day.year}" if with_year else "")


def daily_chart(*, rows: list[dict], metric: str, label: str, unit: str, additive: bool = True) -> DailyChart:
    """Lay out one metric of ``rows`` (one per day, oldest first, zero-filled) as a bar chart; ``additive``
    False for a figure whose sum over days means nothing (distinct devices a day)."""
    values = [int(row[metric]) for row in rows]
    days = [dt.date.fromisoformat(row["date"]) for row in rows]
    peak = max(values, default=0)
    chart = DailyChart(
        metric=metric,
        label=label,
        unit=unit,
        additive=additive,
        start=rows[0]["date"] if rows else "",
        end=rows[-1]["date"] if rows else "",
        total=sum(values),
        peak=peak,
        peak_day=rows[values.index(peak)]["date"] if peak else None,
    )
    if not rows:
        return chart
    top_value = axis_maximum(peak)
    plot_height = HEIGHT - 2 * PAD
    chart.width = SLOT * len(rows)
    gap = 2 if len(rows) <= 120 else 0  # thin days touch: a gap would leave only the gap visible
    for index, (day, value) in enumerate(zip(days, values, strict=True)):
        height = plot_height * value / top_value
        chart.bars.append(
            Bar(
                x=index * SLOT + gap / 2,
                y=round(PAD + plot_height - height, 2),
                width=SLOT - gap,
                height=round(height, 2),
                day=day.isoformat(),
                value=value,
            )
        )
    for step in range(GRIDLINES + 1):
        y = round(PAD + plot_height - plot_height * step / GRIDLINES, 2)
        chart.value_ticks.append(Tick(y, _short(top_value * step // GRIDLINES)))
    with_year = days[0].year != days[-1].year
    if len(days) <= EVERY_DAY_LABELLED:
        indexes = list(range(len(days)))
    else:
        spacing = (len(days) - 1) / (MAX_DATE_LABELS - 1)
        indexes = sorted({round(i * spacing) for i in range(MAX_DATE_LABELS)})
    kept_on_phone = {indexes[0], indexes[len(indexes) // 2], indexes[-1]}
    edges = len(days) > EVERY_DAY_LABELLED  # thin bars: the end labels align with the plot's edges
    for index in indexes:
        text = _date_label(days[index], with_year=with_year)
        minor = index not in kept_on_phone
        if edges and index == indexes[0]:
            chart.date_ticks.append(Tick(0, text, "start"))
        elif edges and index == indexes[-1]:
            chart.date_ticks.append(Tick(100, text, "end"))
        else:
            chart.date_ticks.append(Tick(round(100 * (index + 0.5) / len(days), 2), text, minor=minor))
    return chart
