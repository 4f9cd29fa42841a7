"""The per-case data keys as stored, and how a case's keys are destroyed for good.

A case's key is written in the same transaction as the first events it seals (or not at all: a
refused or clashing batch leaves no key behind). Forgetting a case overwrites its wrapped keys
with as many zeros, in the same transaction as the PersonalDataForgotten event, so no instant
exists at which the event is recorded and the keys still open the data. SQLite overwrites the row
in place; PostgreSQL writes a new row version and keeps the old one until vacuumed. A zeroed row
is the record that the key's old bytes may still sit somewhere in the database's files: in older
WAL frames (SQLite), in the dead row version an older snapshot still sees (PostgreSQL). Each
recorder's `erase_destroyed_keys` removes those and then deletes the zeroed rows
(ledger/erasure.py waits for it, with a bound).

A case has at most one live key: a batch giving a case its first key while another writer did
the same clashes (IntegrityError) and is decided again with the winner's key, so one case's
envelopes always get the same idempotency digest.
"""

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import IntegrityError


@dataclass(frozen=True, slots=True)
class CaseKeyRow:
    """A case's data key as stored: wrapped by the master key (RFC 3394)."""

    case_id: str
    key_id: str
    wrapped: bytes
    created_at: str


@dataclass(frozen=True, slots=True)
class CaseKeyChanges:
    """What an append does to the case-key table, in the append's own transaction."""

    created: tuple[CaseKeyRow, ...] = ()  # first keys of cases without a live one
    forgotten: tuple[str, ...] = ()  # cases whose live keys are destroyed (zeroed in place)

    def __bool__(self) -> bool:
        return bool(self.created or self.forgotten)


NO_KEY_CHANGES = CaseKeyChanges()


@dataclass(frozen=True, slots=True)
class ErasureAttempt:
    """One try at removing every destroyed key's old bytes from the database's files."""

    done: bool
    cases: tuple[str, ...]  # the cases whose destroyed keys it was about
    held_by: tuple[str, ...] = ()  # when not done: what still holds an old copy, in words


class CaseKeyTable(ABC):
    """The case-key table: the SQL both recorders share, and what each must supply."""

    case_keys_table: str
    # SQL: as many zero bytes as the wrapped key in {column}. A destroyed key's row holds that in
    # place of the key (a real wrapped key is never all zeros).
    _ZEROS: str

    def _destroyed(self, column: str = "wrapped") -> str:
        """SQL: true of a destroyed key's row."""
        return f"{column} = {self._ZEROS.format(column=column)}"

    @abstractmethod
    def _rows(self, template: str, params: Sequence[Any] = (), marks: int = 0) -> list[Mapping[str, Any]]: ...

    @abstractmethod
    def _sql(self, template: str, marks: int = 0) -> str: ...

    @abstractmethod
    def _write(self) -> AbstractContextManager[Any]: ...

    @abstractmethod
    def erase_destroyed_keys(self, patience: float) -> ErasureAttempt:
        """Tries once, waiting at most `patience` seconds, to remove the old bytes of every
        destroyed key from the database's files; if it could, deletes their zeroed rows."""

    def holds_case_keys(self) -> bool:
        """Whether any case key was ever wrapped by the master key (destroyed ones count)."""
        return bool(self._rows("SELECT 1 AS one FROM {case_keys} LIMIT 1"))

    def case_keys(self, case_ids: Sequence[str]) -> dict[str, list[tuple[str, bytes]]]:
        """case_id → [(key_id, wrapped key)] of its live keys, oldest first."""
        if not case_ids:
            return {}
        rows = self._rows(
            "SELECT case_id, key_id, wrapped FROM {case_keys} WHERE case_id IN ({marks})"
            f" AND NOT ({self._destroyed()}) ORDER BY case_id, created_at, key_id",
            list(case_ids),
            marks=len(case_ids),
        )
        keys: dict[str, list[tuple[str, bytes]]] = {}
        for row in rows:
            keys.setdefault(row["case_id"], []).append((row["key_id"], bytes(row["wrapped"])))
        return keys

    def destroyed_case_keys(self) -> dict[str, list[str]]:
        """case_id → the key ids destroyed but not yet erased from the database's files."""
        keys: dict[str, list[str]] = {}
        for row in self._rows(f"SELECT case_id, key_id FROM {{case_keys}} WHERE {self._destroyed()} ORDER BY case_id, key_id"):
            keys.setdefault(row["case_id"], []).append(row["key_id"])
        return keys

    def destroy_case_keys(self, case_id: str, key_ids: Sequence[str]) -> int:
        """Destroys these live keys of the case (a forgetting recorded by an earlier version of the
        ledger that stopped before destroying them); how many were live."""
        if not key_ids:
            return 0
        with self._write() as cursor:
            return self._zero_keys_in(cursor, [case_id], key_ids)

    # --- within an append's transaction, or another write ------------------------------------------

    def _change_case_keys_in(self, cursor: Any, changes: CaseKeyChanges) -> None:
        if changes.forgotten:
            self._zero_keys_in(cursor, changes.forgotten)
        if changes.created:
            created = self._insert_first_keys_in(cursor, changes.created)
            if created != len(changes.created):
                # Another writer gave one of these cases its first key since this batch read the
                # keys: decided again, the batch seals with that one.
                raise IntegrityError("another writer created the first key of a case in this batch")

    def _zero_keys_in(self, cursor: Any, case_ids: Sequence[str], key_ids: Sequence[str] = ()) -> int:
        """Overwrites the live wrapped keys of the cases (only `key_ids`, if given) with as many
        zeros; how many (not known within PostgreSQL's pipelined append)."""
        self._overwrite_what_is_freed(cursor)
        template = f"UPDATE {{case_keys}} SET wrapped = {self._ZEROS.format(column='wrapped')} WHERE case_id IN ({{marks}}) AND NOT ({self._destroyed()})"
        if key_ids:
            template += " AND key_id IN (" + ",".join(["%s"] * len(key_ids)) + ")"
        cursor.execute(self._sql(template, marks=len(case_ids)), [*case_ids, *key_ids])
        return self._rows_changed(cursor)

    @abstractmethod
    def _rows_changed(self, cursor: Any) -> int:
        """How many rows the cursor's last statement changed."""

    def _overwrite_what_is_freed(self, cursor: Any) -> None:
        """Before a change to the case-key table: have the database overwrite what it frees, where
        it can be told to."""

    @abstractmethod
    def _insert_first_keys_in(self, cursor: Any, rows: Sequence[CaseKeyRow]) -> int:
        """Inserts each row unless its case has a live key already; how many were inserted."""

    def _delete_erased_in(self, cursor: Any, destroyed: dict[str, list[str]]) -> None:
        """Deletes the zeroed rows whose old bytes are now gone from the files."""
        pairs = [(case_id, key_id) for case_id, key_ids in destroyed.items() for key_id in key_ids]
        self._overwrite_what_is_freed(cursor)
        cursor.executemany(
            self._sql(f"DELETE FROM {{case_keys}} WHERE case_id = %s AND key_id = %s AND {self._destroyed()}"), pairs
        )
