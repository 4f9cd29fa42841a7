"""Forgetting finished: no copy of a destroyed case key left in the database's files.

`ledger forget` destroys a case's keys in the transaction that records PersonalDataForgotten
(ledger/application.py), so the data is unreadable through the ledger from that commit on. The
keys' old bytes may still be in the files for a while: in older WAL frames (SQLite), in dead row
versions (PostgreSQL), kept there for readers whose snapshot began before the forgetting (an
export, a report, `pg_dump`). finish_erasure removes them, waiting (bounded) for such readers to
end, and says whether it could: a destroyed key's row stays zeroed in the case-key table until
then, so any later start-up (the API's, every CLI command's) and `ledger verify` see the work left
and finish it, even after the forgetting process was killed.

Erasures.left_behind finds forgettings whose keys were never destroyed at all: an earlier version of
the ledger recorded PersonalDataForgotten and destroyed the keys afterwards, and a process killed
in between left them live. `ledger verify` reports those, and `ledger forget CASE --finish`
destroys them (Erasures.destroy).
"""

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import StoredEvent

from domain.events import case_stream_id
from ledger.personal_data import key_ids_sealed_in
from ledger.recorders.base import LedgerRecorder

# How long `ledger forget` waits by default for older readers, and start-up at most.
FORGET_WAIT_SECONDS = 60.0
START_UP_WAIT_SECONDS = 2.0
# One attempt waits this long at most: on SQLite the checkpoint holds off appends meanwhile.
ATTEMPT_SECONDS = 0.5
PAUSE_SECONDS = 0.5
FORGOTTEN = "PersonalDataForgotten"


@dataclass(frozen=True, slots=True)
class Erasure:
    finished: bool
    cases: tuple[str, ...]  # the cases whose destroyed keys it was about (none: nothing to do)
    held_by: tuple[str, ...] = ()  # when not finished: what still holds an old copy, in words


def finish_erasure(
    store: LedgerRecorder, wait_seconds: float, progress: Callable[[float, tuple[str, ...]], None] | None = None
) -> Erasure:
    """Removes the old bytes of every destroyed key, trying again until `wait_seconds` have
    passed; `progress(seconds waited, what holds them)` after each attempt that could not."""
    started = time.monotonic()
    while True:
        waited = time.monotonic() - started
        attempt = store.erase_destroyed_keys(min(ATTEMPT_SECONDS, max(0.0, wait_seconds - waited)))
        waited = time.monotonic() - started
        if attempt.done or waited >= wait_seconds:
            return Erasure(attempt.done, attempt.cases, attempt.held_by)
        if progress is not None:
            progress(waited, attempt.held_by)
        time.sleep(min(PAUSE_SECONDS, wait_seconds - waited))


@dataclass(frozen=True, slots=True)
class LeftBehind:
    """Live keys of a forgotten case that sealed its personal data before it was forgotten."""

    case_id: str
    forgotten_at: int  # the position of the case's last PersonalDataForgotten
    key_ids: tuple[str, ...]


class Erasures:
    """The case keys a forgetting destroys, as the operator's commands see them: those destroyed but
    still in the database's files, those an interrupted forgetting left live, and the work that
    finishes both. A service of the Ledger (`ledger.erasures`)."""

    def __init__(
        self, store: LedgerRecorder, decode: Callable[[StoredEvent], Any], merged_into: Callable[[str], tuple[str, ...]]
    ) -> None:
        self._store = store
        self._decode = decode
        self._merged_into = merged_into  # a case's family: the cases merged into it (LogReader.merged_into)

    def destroyed(self) -> dict[str, list[str]]:
        """case_id → the key ids destroyed but not yet erased from the database's files."""
        return self._store.destroyed_case_keys()

    def finish(self, wait_seconds: float, progress: Callable[[float, tuple[str, ...]], None] | None = None) -> Erasure:
        """finish_erasure on this ledger's database."""
        return finish_erasure(self._store, wait_seconds, progress)

    def left_behind(self, case_ids: Iterable[str] | None = None) -> list[LeftBehind]:
        """Forgotten cases (these, or all) whose keys from before their forgetting are still live."""
        wanted = None if case_ids is None else set(case_ids)
        forgotten: dict[str, int] = {}
        for notification in self._store.select_notifications(start=None, limit=2**62, topics=[FORGOTTEN]):
            case_id = self._decode(notification).case_id
            if wanted is None or case_id in wanted:
                # The case's family goes with it: the cases merged into it, as the family is now (one
                # merged in after the forgetting is reported too, and `--finish` forgets it).
                for member in (case_id, *self._merged_into(case_id)):
                    forgotten[member] = notification.id
        live = self._store.case_keys(sorted(forgotten))
        left = []
        for case_id, keys in live.items():
            position = forgotten[case_id]
            sealed = self._store.stream_through(case_stream_id(case_id), position)
            used = set().union(*(key_ids_sealed_in(stored.state) for stored in sealed))
            behind = tuple(key_id for key_id, _ in keys if key_id in used)
            if behind:
                left.append(LeftBehind(case_id, position, behind))
        return left

    def destroy(self, left: Iterable[LeftBehind]) -> int:
        """Destroys them (their old bytes then go as finish_erasure removes them); how many."""
        return sum(self._store.destroy_case_keys(behind.case_id, behind.key_ids) for behind in left)


def described(cases: Iterable[str]) -> str:
    listed = sorted(cases)
    shown = ", ".join(listed[:5]) + (f" and {len(listed) - 5} more" if len(listed) > 5 else "")
    return f"case{'s' if len(listed) > 1 else ''} {shown}"

