"""Days as spans: what a case's record says was in force or interrupted, and the first day of a
period it leaves uncovered or falls within an interruption (DOMAIN.md §5's duration clocks).

A span is (first day, last day), inclusive, as proleptic ordinals; a last day of None is not over.
The record's side (`parole_cover`, `care_gaps`) knows nothing of terms; the clock's side
(`first_uncovered`, `first_interrupted`) nothing of events.
"""

from collections.abc import Iterable
from typing import NamedTuple


class DaySpan(NamedTuple):
    """Days in force: first..last, inclusive."""

    first: int
    last: int


class Gap(NamedTuple):
    """Days interrupted: first..last, inclusive; last None while not over."""

    first: int
    last: int | None


def parole_cover(grants: Iterable[tuple[int, int]], ended: Iterable[int]) -> tuple[DaySpan, ...]:
    """The days a parole was in force, as sorted, merged (first, last) spans, from the grants'
    (first day, valid until) and the days ParoleExpired says a parole ended: an expiry ends every
    grant in force on its day; a grant first in force after it is a parole anew."""
    ends = sorted(ended)
    spans = []
    for first, last in grants:
        cut = next((day for day in ends if day >= first), None)
        if cut is not None:
            last = min(last, cut)
        if last >= first:
            spans.append((first, last))
    merged: list[DaySpan] = []
    for first, last in sorted(spans):
        if merged and first <= merged[-1].last + 1:
            merged[-1] = DaySpan(merged[-1].first, max(merged[-1].last, last))
        else:
            merged.append(DaySpan(first, last))
    return tuple(merged)


def care_gaps(interrupted: Iterable[int], started: Iterable[int]) -> tuple[Gap, ...]:
    """The days the case's own care was interrupted: from each interruption to the day before the
    next start after it (None: not resumed), as (first, last) spans."""
    starts = sorted(started)
    gaps = []
    for day in sorted(set(interrupted)):
        resumed = next((start for start in starts if start > day), None)
        gaps.append(Gap(day, None if resumed is None else resumed - 1))
    return tuple(gaps)


def first_uncovered(cover: Iterable[DaySpan], start: int, last: int) -> int | None:
    """The first day of start..last that no (first, last) span of `cover` holds; None if all are held."""
    day = start
    for first, through in sorted(cover):
        if first > day:
            break
        day = max(day, through + 1)
        if day > last:
            return None
    return day if day <= last else None


def first_interrupted(gaps: Iterable[Gap], start: int, last: int) -> int | None:
    """The first day of start..last within a (first, last or None: not over) span of `gaps`."""
    return min(
        (max(start, first) for first, through in gaps if first <= last and (through is None or through >= start)),
        default=None,
    )
