"""The dashboard's sessions, kept in the ledger's database: the one state every API process shares.

A signed cookie alone cannot be ended: a copy taken before sign-out stayed good until it expired
(8 hours), in every process. So a signed-in session is a row here, and a cookie opens the
dashboard only while its row lives: signing out deletes it, revoking the token deletes every
session of the token, and a row past its `expires_at` is dead (and purged at the next sign-in).

| column       | holds                                                                        |
|--------------|------------------------------------------------------------------------------|
| session_hash | SHA-256 (hex) of the session id the cookie carries: the id is a secret, so a |
|              | reader of the database (or of a backup) cannot rebuild a cookie from it      |
| token_name   | the signed-in token's name (its public part); never the token itself         |
| started_at   | when the session began (UTC, the ledger's text form)                         |
| expires_at   | when it ends, whatever the cookie says                                       |

The SQL is the recorders' own (their transactions and placeholders), in one place for both
backends; the table is created with the log's tables (`ledger migrate` on PostgreSQL) and the
writer role may select, insert and delete its rows (ledger/postgres_grants.py).
"""

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ledger.recorders.table_records import TableRecords

SESSIONS = "dashboard_sessions"  # the table's name after the log's prefix (`ledger_`)
CREATE_SESSIONS = (
    "CREATE TABLE IF NOT EXISTS {table} ("
    "session_hash text PRIMARY KEY, "
    "token_name text NOT NULL, "
    "started_at text NOT NULL, "
    "expires_at text NOT NULL)"
)
CREATE_SESSIONS_INDEX = "CREATE INDEX IF NOT EXISTS {index} ON {table} (token_name)"


def session_hash(session_id: str) -> str:
    """What the table keeps of a session id. The id is 256 random bits: a plain hash cannot be
    reversed by guessing, so no salt or slow hash is needed."""
    return hashlib.sha256(session_id.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredSession:
    token_name: str
    started_at: str
    expires_at: str

    def live_at(self, instant: str) -> bool:
        return instant < self.expires_at


class SessionRecords(TableRecords):
    """Mixin for a ledger recorder: the sessions table's rows."""

    sessions_table: str

    def insert_session(self, session_id: str, stored: StoredSession) -> None:
        self._execute(
            f"INSERT INTO {self.sessions_table} VALUES (%s, %s, %s, %s)",
            (session_hash(session_id), stored.token_name, stored.started_at, stored.expires_at),
        )

    def stored_session(self, session_id: str) -> StoredSession | None:
        rows: Sequence[Mapping[str, Any]] = self._rows(
            f"SELECT token_name, started_at, expires_at FROM {self.sessions_table} WHERE session_hash = %s",
            (session_hash(session_id),),
        )
        return StoredSession(rows[0]["token_name"], rows[0]["started_at"], rows[0]["expires_at"]) if rows else None

    def delete_session(self, session_id: str) -> None:
        self._delete_sessions("session_hash = %s", session_hash(session_id))

    def delete_sessions_of(self, token_name: str) -> None:
        """Ends every session of the token."""
        self._delete_sessions("token_name = %s", token_name)

    def delete_sessions_expired(self, instant: str) -> None:
        self._delete_sessions("expires_at <= %s", instant)

    def _delete_sessions(self, condition: str, value: str) -> None:
        self._execute(f"DELETE FROM {self.sessions_table} WHERE {condition}", (value,))
