"""PostgreSQL: removing destroyed case keys' old row versions from the table's pages.

Zeroing a key (an UPDATE) leaves its old row version on the heap page, dead but readable by
anyone with the page (pageinspect, a copy of the data directory) until vacuumed; and VACUUM may
not remove it while any snapshot older than the UPDATE is open (`pg_dump` holds one for the whole
dump). Even once VACUUM removes it, its bytes stay in the page's free space until that space is
reused: a test found a removed key still on its page. So:

1. VACUUM the table (no lock that stops reads or appends);
2. read back how many dead row versions it had to keep (`n_dead_tup`, which VACUUM sets as it
   ends): any, and an older snapshot still sees them: report who holds one, and try again later;
3. none: VACUUM FULL writes the live rows to fresh pages, leaving the freed space behind with the
   old file. It takes an exclusive lock on the (small) table for a moment, given up after the
   caller's patience if a session holds a lock on it (again, `pg_dump`).

Only the table's owner may vacuum it: the writer role owns the case-key table (ledger/postgres_grants.py).
"""

from typing import Any

from psycopg import errors
from psycopg.sql import SQL

from ledger.postgres_grants import is_owner


def vacuum_away_dead_keys(connection: Any, table: str, patience: float) -> tuple[str, ...]:
    """Steps 1-3 on `connection` (autocommit for their duration); what still holds an old row
    version, in words, or nothing once none is left on any page of `table`."""
    autocommit, connection.autocommit = connection.autocommit, True
    try:
        # PostgreSQL skips a table the role does not own, with a warning, not an error.
        if not is_owner(connection.cursor(), table):
            return ("this database role does not own the keys' table, so it cannot vacuum it: run "
                    "`ledger forget --finish` as the role that owns it (see README: Database roles)",)
        if connection.execute("SELECT current_setting('track_counts') AS on_").fetchone()["on_"] != "on":
            return ("this server does not count dead row versions (track_counts is off), so the ledger cannot tell "
                    "whether VACUUM could remove them: turn track_counts on",)
        connection.execute(SQL("SET lock_timeout = {}").format(max(1, int(patience * 1000))))
        try:
            connection.execute(SQL("VACUUM {}").format(SQL(table)))
            dead = connection.execute("SELECT pg_stat_get_dead_tuples(%s::regclass) AS dead", (table,)).fetchone()["dead"]
            if dead:
                return _snapshot_holders(connection)
            connection.execute(SQL("VACUUM FULL {}").format(SQL(table)))
        except errors.LockNotAvailable:
            return _lock_holders(connection, table)
        finally:
            connection.execute("RESET lock_timeout")
        return ()
    finally:
        connection.autocommit = autocommit


def _described(row: dict[str, Any]) -> str:
    who = row["application_name"] or row["backend_type"] or "a client"
    since = f", in a transaction since {row['xact_start']:%Y-%m-%d %H:%M:%S %Z}" if row["xact_start"] else ""
    return f"PostgreSQL session {row['pid']} ({who}, user {row['usename']}{since})"


_SESSIONS = "SELECT a.pid, a.application_name, a.backend_type, a.usename, a.xact_start FROM pg_stat_activity a "


def _snapshot_holders(connection: Any) -> tuple[str, ...]:
    rows = connection.execute(
        _SESSIONS + "WHERE a.datname = current_database() AND a.pid <> pg_backend_pid() AND a.backend_xmin IS NOT NULL"
        " ORDER BY age(a.backend_xmin) DESC LIMIT 5"
    ).fetchall()
    holders = tuple(f"{_described(row)} holds a snapshot that may still see them" for row in rows)
    slots = connection.execute(
        "SELECT slot_name FROM pg_replication_slots WHERE xmin IS NOT NULL OR catalog_xmin IS NOT NULL"
    ).fetchall()
    holders += tuple(f"replication slot {row['slot_name']} holds back their removal" for row in slots)
    prepared = connection.execute("SELECT gid FROM pg_prepared_xacts WHERE database = current_database()").fetchall()
    holders += tuple(f"prepared transaction {row['gid']} holds back their removal" for row in prepared)
    return holders or (
        "an older snapshot still sees them: a session of a role whose transactions this role cannot see "
        "(a superuser can: SELECT pid, usename, xact_start FROM pg_stat_activity WHERE backend_xmin IS NOT NULL)",
    )


def _lock_holders(connection: Any, table: str) -> tuple[str, ...]:
    rows = connection.execute(
        _SESSIONS + "WHERE a.pid IN (SELECT l.pid FROM pg_locks l WHERE l.relation = %s::regclass AND l.granted)"
        " AND a.pid <> pg_backend_pid() ORDER BY a.xact_start NULLS LAST LIMIT 5",
        (table,),
    ).fetchall()
    return tuple(f"{_described(row)} holds a lock on the keys' table" for row in rows) or (
        "another session held a lock on the keys' table",
    )
