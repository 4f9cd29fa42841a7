"""What changed between two compliance reports: every number that differs, by section.

Drawn from the two reports' JSON forms, so "what changed since D" is exactly the report as of
now minus the report as of D, each reproducible on its own.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

# The sections of the report that hold numbers, in the order they are shown.
SECTIONS = (
    "children",
    "families",
    "obligations",
    "reunified_by_facilitator",
    "breakdowns",
    "reunified_by_month",
    "data_quality",
)


@dataclass(frozen=True, slots=True)
class Change:
    section: str
    measure: str  # the path below the section, e.g. "remaining_by_status.informed"
    before: float | None
    after: float | None

    @property
    def difference(self) -> float | None:
        if self.before is None or self.after is None:
            return None
        return self.after - self.before


def report_changes(earlier: Mapping[str, Any], later: Mapping[str, Any]) -> list[Change]:
    """The numbers that differ, section by section; a value absent on one side counts as 0
    (a breakdown key or month that had no child yet), or as None for a median."""
    changes = []
    for section in SECTIONS:
        before = dict(_numbers(earlier.get(section, {})))
        after = dict(_numbers(later.get(section, {})))
        # The report's own order (the later report's first), then what only the earlier one had.
        for measure in list(after) + [measure for measure in before if measure not in after]:
            absent = None if measure.endswith("median_days") else 0
            old, new = before.get(measure, absent), after.get(measure, absent)
            if old != new:
                changes.append(Change(section, measure, old, new))
    return changes


def _numbers(value: Any, path: str = "") -> Iterator[tuple[str, float | None]]:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            yield from _numbers(inner, f"{path}.{key}" if path else str(key))
    elif value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        yield path, value

