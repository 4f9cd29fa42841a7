"""How the case-status projection runs: its settings, and one worker's share of a shared rebuild."""

from dataclasses import dataclass

from domain.catalog import SETTLEMENT_EVENTS
from domain.events import case_stream_id

NOT_CASE_EVENTS = frozenset({"TokenIssued", "TokenRevoked", *SETTLEMENT_EVENTS})


@dataclass(frozen=True)
class ProjectionSettings:
    """How the projector pages, snapshots and caches; `as_json` is what a generation records (what
    changes its rows' meaning)."""

    late_report_days: int = 30
    page_size: int = 2000
    snapshot_every: int = 5_000  # positions between kept snapshots of the summed cells
    head_snapshot_after: int = 500  # positions since the last snapshot before a caught-up one writes its head
    cached_cases: int = 10_000  # each ~15 KB with its entries and rows: the bound on a rebuild's memory
    settling_batch: int = 5_000  # rows a bulk load writes at a time while a settlement event re-reads the clocks

    def as_json(self) -> dict[str, int]:
        return {"late_report_days": self.late_report_days}


@dataclass(frozen=True)
class Partition:
    """One worker's share of a rebuild shared by `count` processes: the cases whose stream falls to
    `index`. Every worker also reads the settlement's events (each re-reads its own clocks under new
    terms); the first one alone notes what is not a case's (terms, tokens) in the data quality."""

    index: int
    count: int

    @property
    def nibbles(self) -> list[int]:
        """The last hex digits of the stream ids this worker owns (the log is read by them)."""
        return [nibble for nibble in range(16) if nibble % self.count == self.index]

    @property
    def topics(self) -> list[str]:
        """What it reads of other streams."""
        return sorted(NOT_CASE_EVENTS if self.index == 0 else SETTLEMENT_EVENTS)

    def owns(self, case_id: str) -> bool:
        return (case_stream_id(case_id).int & 0xF) % self.count == self.index
