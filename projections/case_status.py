"""The case-status projection: tails the log into versioned rows, one page per transaction.

For each case event it notes the warnings its receipt gave (domain/sequence_warnings.py, derived
from the case as it stood), folds the case's facts one step (or, for a correction or retraction, again
from the case's effective entries), derives the case's rows, and writes only the rows that
changed: the old version ends at this position, the new one begins there. The sums of the rows'
cells are kept as it goes and written as a snapshot now and then. A settlement event re-evaluates
every current obligation clock under the new terms.

State kept in memory (recent cases' facts, the running sums, the terms) is only a cache of what is
in the log and the tables: after any failure it is dropped and read back, so a crash or a
concurrent projector can lose or double nothing.
"""

import gc
import logging
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from eventsourcing.persistence import PersistenceError

from domain.case_facts import EVERYTHING, CaseFacts, Fact
from domain.catalog import AMENDMENTS, SETTLEMENT_EVENTS
from domain.vocabulary import Obligation
from domain.events import case_stream_id
from domain.family_case import FamilyCase
from domain.organizations import LEDGER_OPERATOR
from domain.sequence_warnings import sequence_warnings
from domain.clocks import evaluate
from domain.terms import Terms
from domain.values import utc_text
from ledger.application import Ledger
from projections.case_rows import Cell, ClockRow, Row, RowKey, case_rows, cells, update_rows
from projections.projection_faults import EventNotProjected
from projections.read_model import ReadModel
from projections.page_rows import OpenRows, PageRows
from projections.projection_settings import NOT_CASE_EVENTS, Partition, ProjectionSettings
from projections.recorded import Recorded, read_recorded, segments
from projections.row_format import TABLES, PageWrite, decode, encode

log = logging.getLogger(__name__)

NOTABLE = {"EntryCorrected": "corrections", "EntryRetracted": "retractions", "CasesMerged": "merged_cases"}
LEDGER_WRITTEN = frozenset({"MergedInto"})  # events the ledger writes itself: never reported late


# A partitioned worker hands on its cells at agreed positions: (position, change since the last).
CellsOut = Callable[[int, Counter[Cell]], None]


@dataclass(slots=True)
class ProjectedCase:
    """One case as the projector keeps it in its cache: its entries, facts and current rows."""

    case: FamilyCase  # its entries: a correction or retraction is folded without reading the log
    facts: CaseFacts
    rows: dict[RowKey, Row]


class CaseStatusProjector:
    """Projects the log into one generation of the read model (see the module's docstring)."""

    def __init__(
        self,
        ledger: Ledger,
        model: ReadModel,
        generation: int,
        settings: ProjectionSettings | None = None,
        partition: tuple[Partition, CellsOut] | None = None,
    ) -> None:
        """With a `partition`, this projector is one worker of a shared bulk load: it projects only
        its partition's cases, writes no tracking position and no snapshot, and hands its cells,
        as changes, to whoever sums every worker's (see projections/partitioned.py)."""
        self.ledger = ledger
        self.model = model
        self.generation = generation
        self.settings = settings or ProjectionSettings()
        self.partition, self._cells_out = partition if partition is not None else (None, None)
        self._late = timedelta(days=self.settings.late_report_days)
        self._late_cutoff = ("", "")
        self.reset()

    def _late_before(self, recorded_at: str) -> str:
        """An event that occurred before this instant was reported late (the ledger's instants
        are fixed-width UTC text, so they compare as strings; a batch shares one recorded_at)."""
        if self._late_cutoff[0] != recorded_at:
            self._late_cutoff = (recorded_at, utc_text(_instant(recorded_at) - self._late))
        return self._late_cutoff[1]

    def reset(self) -> None:
        """Reads the projection's state back from the tables and the log (after start or failure)."""
        self.open_rows: OpenRows | None = None  # bulk mode's rows not yet written
        self.position = self.model.tracked(self.generation)
        self.cells: Counter[Cell] = self.model.cells_at(self.generation, self.position)
        self.terms: Terms = self.ledger.reader.terms_at(self.position)
        self.last_snapshot = self.model.latest_snapshot(self.generation)
        self.cases: OrderedDict[str, ProjectedCase] = OrderedDict()

    # --- running ---------------------------------------------------------------------------------

    def bulk_load(self, progress: Callable[[int], None] | None = None, until: int | None = None) -> int:
        """Projects the log (up to position `until`) into this (fresh, unread) generation writing each
        row version once, then writes the rows still current. A failure leaves the generation
        unfinished: discard it."""
        if self.position:
            raise ValueError("a bulk load starts from an empty generation")
        self.open_rows = {}
        try:
            with _fewer_collections():
                done = self.catch_up(progress, until)
            if self._cells_out is not None and self.last_snapshot != self.position:
                self._hand_on_cells()
            page = PageWrite(self.position)
            for (table, _, _), row in self.open_rows.items():
                page.inserts.setdefault(table, []).append(row)
            self.model.write_rows(self.generation, page)
        finally:
            self.open_rows = None
        return done

    def catch_up(self, progress: Callable[[int], None] | None = None, until: int | None = None) -> int:
        """Projects everything appended so far (or up to `until`); the number of events read."""
        head = self.ledger.reader.tree_size() if until is None else until
        done = 0
        while self.position < head:
            end = min(self.position + self.settings.page_size, head)
            if self.partition is None:
                rows = self.ledger.reader.recorded_between(self.position, end)
            else:  # its own streams' events and the settlement's (a page may hold none of them)
                rows = self.ledger.reader.recorded_between(self.position, end, self.partition.nibbles, self.partition.topics)
            if not rows and self.partition is None:
                break
            try:
                for segment, through in segments(rows, self.position, end):
                    self._project(read_recorded(segment), through)
            except BaseException:
                if self.open_rows is None:
                    self.reset()
                raise
            done += len(rows)
            if progress:
                progress(self.position)
        if self.open_rows is None and self.position - self.last_snapshot >= self.settings.head_snapshot_after:
            # Caught up: reports as of now start from here instead of summing the rows since.
            self.model.write_head_snapshot(self.generation, self.position, self.cells)
            self.last_snapshot = self.position
        return done

    def _project(self, recorded: Sequence[Recorded], position: int) -> None:
        """Projects `recorded`, a page's events (or the part of a page a settlement event splits off)
        up to and including `position`."""
        if self.open_rows is None:
            page = PageRows(PageWrite(position))
        else:
            page = PageRows(PageWrite(position, tracked=self.partition is None), self.open_rows, bulk=True)
        notes_all = self.partition is None or self.partition.index == 0
        for event in recorded:
            try:
                if notes_all or event.type not in NOT_CASE_EVENTS:
                    self._notable(event, page)
                if event.type in SETTLEMENT_EVENTS:
                    self._terms_changed(self.terms.then(event.type, event.data), event.position, page)
                elif event.type not in NOT_CASE_EVENTS:
                    self._case_event(event, page)
            except PersistenceError:
                raise  # the database, not this event (a case's earlier events are read as it goes)
            except Exception as error:
                raise EventNotProjected(event.position, error) from error
        # A settlement event re-reads many clocks: snapshot after it, so later reports need not
        # sum its rows again.
        settling = bool(recorded) and recorded[0].type in SETTLEMENT_EVENTS
        if self.partition is not None:  # every worker decides alike, from what every worker reads
            self.position = position
            if page.write.has_rows():
                self.model.write_page(self.generation, page.write)
            if settling or position - self.last_snapshot >= self.settings.snapshot_every:
                self._hand_on_cells()
            return
        settled = settling and sum(map(len, page.write.inserts.values())) > 100
        if settled or page.write.position - self.last_snapshot >= self.settings.snapshot_every:
            page.write.snapshot = Counter(self.cells)
        self.model.write_page(self.generation, page.write)
        self.position = page.write.position
        if page.write.snapshot is not None:
            self.last_snapshot = self.position

    def _hand_on_cells(self) -> None:
        """A worker's cells since it last handed them on, summed with the other workers' elsewhere."""
        assert self._cells_out is not None
        self._cells_out(self.position, self.cells)
        self.cells = Counter()
        self.last_snapshot = self.position

    def _notable(self, event: Recorded, page: PageRows) -> None:
        kind = NOTABLE.get(event.type)
        if kind is not None:
            self._note(event.position, kind, page)
        if event.organization != LEDGER_OPERATOR and event.type not in LEDGER_WRITTEN and event.recorded_at:
            if event.occurred_at < self._late_before(event.recorded_at):
                self._note(event.position, "late_reports", page)

    def _note(self, position: int, kind: str, page: PageRows) -> None:
        page.write.notable.append((position, kind))
        self.cells[("data_quality", kind)] += 1

    def _case_event(self, event: Recorded, page: PageRows) -> None:
        position = event.position
        state = self._case(event.case_id, position - 1, event.version == 1, page)
        # The warnings its receipt gave, from the case as it stood: counted in the data quality.
        for warning in sequence_warnings(state.case, event.type, event.occurred_at, event.data):
            self._note(position, warning.code, page)
        state.case.record_entry(event)  # type: ignore[arg-type]
        if event.type in AMENDMENTS:  # the past changed: fold the case's effective entries again
            state.facts = CaseFacts.of_case(state.case)
            touched = EVERYTHING
        else:
            touched = state.facts.apply(Fact(event.type, event.occurred_at, event.version, event.organization, event.data))
            if not touched:
                return  # nothing the rows read has changed
        before = update_rows(state.rows, state.facts, self.terms, touched)
        self._changed(event.case_id, before, state.rows, position, page)

    def _case(self, case_id: str, position: int, first: bool, page: PageRows) -> ProjectedCase:
        state = self.cases.get(case_id)
        if state is None:
            case = FamilyCase.before_any_event(case_id) if first else self._replayed(case_id, position)
            facts = CaseFacts.of_case(case)
            state = ProjectedCase(case, facts, case_rows(facts, self.terms))
            self.cases[case_id] = state
            while len(self.cases) > self.settings.cached_cases:
                evicted, old = self.cases.popitem(last=False)
                page.flush(evicted, old.rows)
        else:
            self.cases.move_to_end(case_id)
        return state

    def _replayed(self, case_id: str, position: int) -> FamilyCase:
        """The case from its events among positions 1..position."""
        case = None
        for event in self.ledger.reader.stream_through(case_stream_id(case_id), position):
            case = event.mutate(case)
        if case is None:
            return FamilyCase.before_any_event(case_id)
        assert isinstance(case, FamilyCase)
        return case

    def _changed(
        self, case_id: str, old: Mapping[RowKey, Row | None], new: Mapping[RowKey, Row], position: int, page: PageRows
    ) -> None:
        """Writes the rows that changed among those `old` holds (each key that may have changed,
        with its row before it; None: there was none), as `new` now has them."""
        for key, before in old.items():
            after = new.get(key)
            if before is after or before == after:  # most rows a fact may touch are carried over unchanged
                continue
            if before is not None:
                page.end(TABLES[type(before)], case_id, key[1], position)
                _count(self.cells, cells(key, before), -1)
            if after is not None:
                table, values = encode(case_id, key, after)
                page.begin(table, values, position)
                _count(self.cells, cells(key, after), 1)

    def _terms_changed(self, terms: Terms, position: int, page: PageRows) -> None:
        """New terms: the current clocks of the obligations they touch are read again under them."""
        touched = terms.changed_obligations(self.terms)
        if touched:
            for case_id, key, row in self._current_clocks(sorted(touched)):
                assert isinstance(row, ClockRow)
                new = ClockRow(row.inputs, evaluate(Obligation(key[1]), row.inputs, terms))
                if new != row:
                    self._changed(case_id, {key: row}, {key: new}, position, page)
                    cached = self.cases.get(case_id)
                    if cached is not None:
                        cached.rows[key] = new
                    elif page.bulk:  # rows stay open for cached cases only: this one is written now
                        page.flush(case_id, {key: new})
                        if page.pending() >= self.settings.settling_batch:
                            self._write_ahead(page)
        self.terms = terms

    def _write_ahead(self, page: PageRows) -> None:
        """Bulk mode: the page's rows so far, written before the rest of it (no one reads these
        tables yet), so that a settlement event re-reading every case's clocks holds a batch of
        them in memory, not all."""
        self.model.write_page(self.generation, PageWrite(page.write.position, page.write.closes, page.write.inserts, tracked=False))
        page.write.closes, page.write.inserts = {}, {}
        page.written.clear()  # in the tables now: a change ends them there

    def _current_clocks(self, obligations: list[str]) -> Iterator[tuple[str, RowKey, Row]]:
        """The current clock rows: in the tables (read as they are used: there may be millions), and
        in bulk mode also those still open in memory (each current row is in exactly one of the
        two; the open ones listed first, as re-reading a clock opens a row in its place)."""
        opened: list[tuple[str, RowKey, Row]] = []
        if self.open_rows is not None:
            wanted = set(obligations)
            opened = [
                (case_id, *decode("clocks", values[:-2]))
                for (table, case_id, key), values in self.open_rows.items()
                if table == "clocks" and key in wanted
            ]
        for clock in self.model.current_clocks(self.generation, obligations):
            if self.partition is None or self.partition.owns(clock[0]):  # the tables hold every worker's rows
                yield clock
        yield from opened


def _count(counts: Counter[Cell], cells: Iterable[Cell], step: int) -> None:
    """Counter.update / subtract for a row's few cells, without their per-call checks (a row
    changes for nearly every event a projection reads)."""
    for cell in cells:
        counts[cell] += step


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """A bulk load allocates millions of short-lived objects while it holds a large cache of cases;
    at the default thresholds the cyclic collector rescans that cache thousands of times (a quarter
    of a rebuild's CPU, measured with gc.callbacks). Its objects are freed by reference counting
    anyway, so collecting rarely keeps memory where it was."""
    before = gc.get_threshold()
    gc.set_threshold(50_000, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*before)
