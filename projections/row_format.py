"""What the read model's rows and cells mean, and how they are written as columns (the FORMAT).

A case's rows (projections/case_rows.py) become one SQL row each of three versioned tables; the
summed cells become a snapshot's JSON. Code reads and writes only a generation of its own FORMAT
(projections/runner.py rebuilds one of an older format before reports are answered from it).
"""

import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from domain.canonical_json import compact_json
from domain.clocks import Clock, ClockInputs
from domain.day_spans import DaySpan, Gap
from domain.obligation_status import KIND_BY_NAME
from projections.case_rows import FAMILY_ROW, Cell, ChildRow, ClockRow, FamilyRow, Row, RowKey, cells, clock_cell_of

# What the rows and cells mean. Raise it whenever a change of code makes a row's columns or cells
# mean something else: a generation written in another format is never read (or written) as this
# one. 1 (no "format" in the settings): before duration clocks; 2: deadline and duration clocks,
# each clock's `since_day`; 3: the warnings events drew noted (`notable`) and counted, by code.
FORMAT = 3

# table → (its columns after the key, its key columns)
COLUMNS: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "children": (
        ("status", "nationality", "border_sector", "separation_month", "age_band", "facilitator", "reunified_month"),
        ("case_id", "member_id"),
    ),
    "families": (("registered", "reunified", "services"), ("case_id",)),
    "clocks": (
        # what the case's record says (ClockInputs), then how it reads under the terms (Clock)
        ("anchor", "met_event", "cover", "interrupted", "start_day", "due_day", "met_day", "late", "since_day", "elapsed"),
        ("case_id", "obligation"),
    ),
}
VERSIONED = tuple(COLUMNS)
TABLES: Mapping[type, str] = {ChildRow: "children", FamilyRow: "families", ClockRow: "clocks"}
INTEGER_COLUMNS = frozenset(
    {"registered", "reunified", "anchor", "met_event", "start_day", "due_day", "met_day", "late", "since_day", "elapsed"}
)


def encode(case_id: str, key: RowKey, row: Row) -> tuple[str, tuple[Any, ...]]:
    """(table, key values + column values) of one row."""
    if isinstance(row, ChildRow):
        return "children", (case_id, key[1], *row)
    if isinstance(row, FamilyRow):
        return "families", (case_id, int(row.registered), int(row.reunified), ",".join(row.services))
    clock, inputs = row.clock, row.inputs
    clock_values = (None,) * 6 if clock is None else (
        clock.start, clock.due, clock.met, int(clock.late), clock.since, clock.elapsed
    )
    return "clocks", (case_id, key[1], inputs.anchor, inputs.met, _spans(inputs.cover), _spans(inputs.interrupted), *clock_values)


def _spans(spans: tuple[tuple[int, int | None], ...]) -> str | None:
    return compact_json(spans) if spans else None


def decode(table: str, values: Sequence[Any]) -> tuple[RowKey, Row]:
    """The inverse of `encode`, from (key values + column values)."""
    if table == "children":
        return ("child", values[1]), ChildRow(*values[2:9])
    if table == "families":
        services = tuple(values[3].split(",")) if values[3] else ()
        return ("family", ""), FamilyRow(bool(values[1]), bool(values[2]), services)
    anchor, met_event, cover, interrupted = values[2:6]
    inputs = ClockInputs(
        anchor,
        met_event,
        tuple(DaySpan(first, last) for first, last in json.loads(cover)) if cover else (),
        tuple(Gap(first, last) for first, last in json.loads(interrupted)) if interrupted else (),
    )
    start, due, met, late, since, elapsed = values[6:12]
    obligation = values[1]
    clock = None if start is None else Clock(start, due, met, bool(late), since, elapsed, KIND_BY_NAME[obligation])
    return ("clock", obligation), ClockRow(inputs, clock)


@dataclass
class PageWrite:
    """Everything one page of events changes, written in one transaction with its tracking position."""

    position: int
    closes: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)  # (valid_to, *key)
    inserts: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)  # (*values, valid_from, valid_to)
    notable: list[tuple[int, str]] = field(default_factory=list)  # (position, kind)
    snapshot: Counter[Cell] | None = None
    tracked: bool = True  # False for one worker's share of a bulk load: the tracking comes at its end

    def has_rows(self) -> bool:
        return any(self.closes.values()) or any(self.inserts.values()) or bool(self.notable)


def cells_json(counter: Mapping[Cell, int]) -> str:
    # In the counter's own order: a snapshot is read back into a Counter, and sorting its mixed
    # cells (by repr: None and numbers do not compare) was 85% of the cost of writing one.
    return orjson.dumps([[*cell, count] for cell, count in counter.items() if count]).decode()


def cells_from_json(text: str) -> Counter[Cell]:
    return Counter({tuple(item[:-1]): item[-1] for item in orjson.loads(text)})


def _clock_cells(values: Sequence[Any]) -> tuple[Cell, ...]:
    obligation, start, met, late, since, elapsed = values
    return () if start is None else (clock_cell_of(obligation, start, met, bool(late), since, elapsed),)


# What the report sums from each table's rows that began or ended since a snapshot: the columns
# it needs, and the cells of one row from them (the clocks' without building the row).
DELTA_CELLS: tuple[tuple[str, str, Callable[[Sequence[Any]], tuple[Cell, ...]]], ...] = (
    ("children", ", ".join(COLUMNS["children"][0]), lambda v: cells(("child", ""), ChildRow(*v))),
    ("families", ", ".join(COLUMNS["families"][0]), lambda v: cells(FAMILY_ROW, decode("families", ("", *v))[1])),
    ("clocks", "obligation, start_day, met_day, late, since_day, elapsed", _clock_cells),
)
