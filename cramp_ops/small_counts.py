"""The report's one rule for small numbers: counts below 5 are shown as "<5", and no rate,
share or chart shows more than that.

* A count of 0 to 4 is shown as "<5"; a chart draws it as a hatched bar up to 5 ("somewhere
  below here"), never at its height.
* A rate (part / whole) is shown as a whole percentage only when the part and the rest of the
  whole are both at least 5. When one side is below 5 and the whole is shown next to it, the rate
  becomes a bound computed from the threshold, not from the small count: "<3%" for fewer than 5
  of 160 is exactly what "<5 of 160" says. When both sides are below 5, or the whole is, the rate
  is "—": any number there would give the small count away.
* A median is shown only over at least 5 conversations.
* Lists are complete (every topic, tier, day and configured channel, zeros included) and sorted by
  what is shown, so neither a row's presence nor its place gives a small count away.

What this does not stop: a suppressed cell can sometimes be worked out by subtracting the cells
that are shown from a total that is shown (a day's total minus its other tiers). The report says
so; it keeps small numbers off the page, it is not a full disclosure-control method.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import median
from typing import Hashable, List, Mapping, Optional, Sequence, TypeVar

Key = TypeVar("Key", bound=Hashable)

MIN_COUNT = 5
SMALL = f"<{MIN_COUNT}"
NOT_SHOWN = "—"


@dataclass(frozen=True)
class Shown:
    """A figure as the report may show it: its text, and where a chart may draw it.

    `value` is None when the exact figure is withheld; a chart then draws the range [low, high]
    hatched (solid below `low`)."""

    text: str
    value: Optional[float]
    low: float = 0.0
    high: float = 0.0

    @property
    def top(self) -> float:
        return self.value if self.value is not None else self.high


def count(n: int) -> Shown:
    if n < MIN_COUNT:
        return Shown(SMALL, None, 0.0, float(MIN_COUNT))
    return Shown(str(n), float(n))


def rate(part: int, whole: int) -> Shown:
    """`part / whole` as a percentage, a bound, or "—" (see the module's rule)."""
    rest = whole - part
    if whole < MIN_COUNT or (part < MIN_COUNT and rest < MIN_COUNT):
        return Shown(NOT_SHOWN, None)
    if part < MIN_COUNT:
        bound = MIN_COUNT / whole
        return Shown(f"<{math.ceil(bound * 100)}%", None, 0.0, bound)
    if rest < MIN_COUNT:
        bound = 1 - MIN_COUNT / whole
        return Shown(f">{math.floor(bound * 100)}%", None, bound, 1.0)
    return Shown(f"{round(part / whole * 100)}%", part / whole)


def order_by_shown(keys: Sequence[Key], counts: Mapping[Key, int]) -> List[Key]:
    """`keys` largest shown count first; the withheld ones after, in their given order (sorting
    them by their true counts would tell which of them are larger, or zero)."""

    def shown(key: Key) -> int:
        return counts.get(key, 0) if counts.get(key, 0) >= MIN_COUNT else 0

    return sorted(keys, key=lambda k: (-shown(k), keys.index(k)))


def median_of(values: Sequence[int]) -> Shown:
    """The median of per-conversation figures, over at least MIN_COUNT conversations."""
    if len(values) < MIN_COUNT:
        return Shown(NOT_SHOWN, None)
    middle = median(values)
    return Shown(f"{middle:g}", float(middle))
