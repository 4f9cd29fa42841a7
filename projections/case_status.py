"""The case-status projection: tails the log into versioned rows, one page per transaction.

For each case event it folds the case's facts one step (or, for a correction or retraction, again
from the case's effective entries), derives the case's rows, and writes only the rows that
changed: the old version ends at this position, the new one begins there. The sums of the rows'
cells are kept as it goes and written as a snapshot now and then. A settlement event re-evaluates
every current obligation clock under the new terms.

State kept in memory (recent cases' facts, the running sums, the terms) is only a cache of what is
in the log and the tables: after any failure it is dropped and read back, so a crash or a
concurrent projector can lose or double nothing.
"""

import logging
from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from domain.case_facts import CaseFacts, Fact
from domain.catalog import AMENDMENTS, SETTLEMENT_EVENTS, Obligation
from domain.events import LedgerEvent, case_stream_id
from domain.family_case import FamilyCase
from domain.organizations import LEDGER_OPERATOR
from domain.terms import Terms, evaluate
from ledger.application import Ledger
from ledger.recorders.base import LoggedEvent
from projections.case_rows import Cell, ClockRow, Row, RowKey, case_rows, cells
from projections.store import PageWrite, ReadModel, encode

log = logging.getLogger(__name__)

NOTABLE = {"EntryCorrected": "corrections", "EntryRetracted": "retractions", "CasesMerged": "merged_cases"}
NOT_CASE_EVENTS = frozenset({"TokenIssued", "TokenRevoked", *SETTLEMENT_EVENTS})
LEDGER_WRITTEN = frozenset({"MergedInto"})  # events the ledger writes itself: never reported late


@dataclass(frozen=True)
class Settings:
    late_report_days: int = 30
    page_size: int = 1000
    snapshot_every: int = 20_000  # positions between snapshots of the summed cells
    cached_cases: int = 100_000

    def as_json(self) -> dict[str, int]:
        return {"late_report_days": self.late_report_days}


@dataclass(slots=True)
class CaseState:
    facts: CaseFacts
    rows: dict[RowKey, Row]


@dataclass
class _Page:
    """The writes of one page in the making; a row begun and ended within it is written once."""

    write: PageWrite
    begun: dict[tuple[str, str, str], list[Any]] = field(default_factory=dict)

    def end(self, table: str, case_id: str, key: str, position: int) -> None:
        pending = self.begun.pop((table, case_id, key), None)
        if pending is not None:
            pending[-1] = position
        else:
            self.write.closes.setdefault(table, []).append((position, case_id, key) if table != "families" else (position, case_id))

    def begin(self, table: str, values: tuple[Any, ...], position: int) -> None:
        row = [*values, position, None]
        self.write.inserts.setdefault(table, []).append(row)  # type: ignore[arg-type]
        self.begun[(table, values[0], values[1] if table != "families" else "")] = row


class CaseStatusProjector:
    def __init__(self, ledger: Ledger, model: ReadModel, generation: int, settings: Settings | None = None) -> None:
        self.ledger = ledger
        self.model = model
        self.generation = generation
        self.settings = settings or Settings()
        self._late = timedelta(days=self.settings.late_report_days)
        self.reset()

    def reset(self) -> None:
        """Reads the projection's state back from the tables and the log (after start or failure)."""
        self.position = self.model.tracked(self.generation)
        self.cells: Counter[Cell] = self.model.cells_at(self.generation, self.position)
        self.terms: Terms = self.ledger.terms_at(self.position)
        self.last_snapshot = self.model.latest_snapshot(self.generation)
        self.cases: OrderedDict[str, CaseState] = OrderedDict()

    # --- running ---------------------------------------------------------------------------------

    def catch_up(self, progress: Callable[[int], None] | None = None) -> int:
        """Projects everything appended so far; the number of events projected."""
        head = self.ledger.store.tree_size()
        done = 0
        while self.position < head:
            page = self.ledger.store.logged_after(self.position, self.settings.page_size)
            if not page:
                break
            try:
                for chunk in _chunks(page):
                    self._project(chunk)
            except BaseException:
                self.reset()
                raise
            done += len(page)
            if progress:
                progress(self.position)
        return done

    def _project(self, logged: Sequence[LoggedEvent]) -> None:
        page = _Page(PageWrite(logged[-1].position))
        for entry in logged:
            event: LedgerEvent = self.ledger.decode(entry.stored)
            position = entry.position
            self._notable(event, entry, page)
            if event.type in SETTLEMENT_EVENTS:
                self._terms_changed(self.terms.then(event.type, event.data), position, page)
            elif event.type not in NOT_CASE_EVENTS:
                self._case_event(event, position, page)
        if page.write.position - self.last_snapshot >= self.settings.snapshot_every:
            page.write.snapshot = Counter(self.cells)
        self.model.write_page(self.generation, page.write)
        self.position = page.write.position
        if page.write.snapshot is not None:
            self.last_snapshot = self.position

    def _notable(self, event: LedgerEvent, entry: LoggedEvent, page: _Page) -> None:
        kinds = [NOTABLE[event.type]] if event.type in NOTABLE else []
        if event.organization != LEDGER_OPERATOR and event.type not in LEDGER_WRITTEN and entry.recorded_at:
            if _instant(entry.recorded_at) - _instant(event.occurred_at) > self._late:
                kinds.append("late_reports")
        for kind in kinds:
            page.write.notable.append((entry.position, kind))
            self.cells[("data_quality", kind)] += 1

    def _case_event(self, event: LedgerEvent, position: int, page: _Page) -> None:
        state = self._case(event.case_id, position - 1)
        if event.type in AMENDMENTS:  # the past changed: fold the case's effective entries again
            state.facts = self._facts(event.case_id, position)
        else:
            state.facts.apply(Fact(event.type, event.occurred_at, event.originator_version, event.organization, event.data))
        rows = case_rows(state.facts, self.terms)
        self._changed(event.case_id, state.rows, rows, position, page)
        state.rows = rows

    def _case(self, case_id: str, position: int) -> CaseState:
        state = self.cases.get(case_id)
        if state is None:
            facts = self._facts(case_id, position)
            state = CaseState(facts, case_rows(facts, self.terms))
            self.cases[case_id] = state
            while len(self.cases) > self.settings.cached_cases:
                self.cases.popitem(last=False)
        else:
            self.cases.move_to_end(case_id)
        return state

    def _facts(self, case_id: str, position: int) -> CaseFacts:
        """The case's facts from its events among positions 1..position."""
        case = None
        for event in self.ledger.stream_through(case_stream_id(case_id), position):
            case = event.mutate(case)
        if case is None:
            return CaseFacts(case_id)
        assert isinstance(case, FamilyCase)
        return CaseFacts.of_case(case)

    def _changed(self, case_id: str, old: dict[RowKey, Row], new: dict[RowKey, Row], position: int, page: _Page) -> None:
        for key in old.keys() | new.keys():
            before, after = old.get(key), new.get(key)
            if before == after:
                continue
            if before is not None:
                table, _ = encode(case_id, key, before)
                page.end(table, case_id, key[1], position)
                for cell in cells(key, before):
                    self.cells[cell] -= 1
            if after is not None:
                table, values = encode(case_id, key, after)
                page.begin(table, values, position)
                for cell in cells(key, after):
                    self.cells[cell] += 1

    def _terms_changed(self, terms: Terms, position: int, page: _Page) -> None:
        """New terms: every current clock is read again under them; cached cases are dropped."""
        if terms == self.terms:
            return
        for case_id, key, row in self.model.current_rows(self.generation, "clocks"):
            assert isinstance(row, ClockRow)
            clock = evaluate(Obligation(key[1]), row.inputs, terms)
            if clock != row.clock:
                self._changed(case_id, {key: row}, {key: ClockRow(row.inputs, clock)}, position, page)
        self.terms = terms
        self.cases.clear()


def _chunks(page: Sequence[LoggedEvent]) -> list[Sequence[LoggedEvent]]:
    """A settlement event gets a page of its own: it re-reads the clocks as the tables hold them."""
    chunks: list[Sequence[LoggedEvent]] = []
    start = 0
    for i, entry in enumerate(page):
        if entry.stored.topic in SETTLEMENT_EVENTS:
            if i > start:
                chunks.append(page[start:i])
            chunks.append(page[i : i + 1])
            start = i + 1
    if start < len(page):
        chunks.append(page[start:])
    return chunks


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
