"""PostgreSQL roles: the owner, who makes the tables, and the writer, who can only append to the log.

The owner (the role in `ledger migrate`'s URL) creates and owns every table, trigger and function.
The writer (the role the API and the projector connect as) gets no more than its work needs:

- the log's immutable tables (events, leaves, checkpoints, access log, the integrity checks'
  verifications, witnesses' cosignatures): SELECT and INSERT only.
  No UPDATE, DELETE or TRUNCATE, and, not owning them, it cannot drop their triggers either;
- the dashboard's sessions: SELECT, INSERT and DELETE (signing in and out, revoking a token and
  purging expired sessions); not UPDATE: a session is never extended or moved to another token;
- the per-case keys: the writer owns that table, because forgetting a case (crypto-shredding)
  zeroes its keys, and on PostgreSQL 15 only a table's owner may VACUUM (FULL) their old row
  versions away (ledger/recorders/postgres_erasure.py);
- the read model (tracking, generations, the `cs<g>_` tables): SELECT, INSERT, UPDATE, DELETE, on
  the tables there now and on those a rebuild (run as the owner) creates later: they are derived
  from the log, and rebuilt from it;
- EXECUTE on the function that takes the events table's append lock (see the recorder): in
  PostgreSQL 15, LOCK TABLE … IN EXCLUSIVE MODE needs UPDATE, DELETE or TRUNCATE on the table.
"""

from typing import Any

from psycopg import sql

from ledger.recorders.session_records import SESSIONS

# The log's tables by their suffix after the events table's prefix (`ledger_`).
IMMUTABLE = ("events", "leaves", "checkpoints", "access_log", "verifications", "cosignatures")
KEYS = "case_keys"


def is_owner(cursor: Any, table: str) -> bool | None:
    """Whether the connected role owns `table` (schema-qualified), or is a member of its owner;
    None if there is no such table."""
    cursor.execute("SELECT pg_has_role(relowner, 'MEMBER') AS owns FROM pg_class WHERE oid = to_regclass(%s)", (table,))
    row = cursor.fetchone()
    return None if row is None else bool(row["owns"])


def needs_the_owner(error: BaseException) -> bool:
    """True if `error` is PostgreSQL refusing the connected role something only the owner may do
    (create or drop tables: `ledger migrate`, `ledger rebuild`)."""
    current: BaseException | None = error
    while current is not None:
        if getattr(current, "sqlstate", None) == "42501":
            return True
        current = current.__cause__
    return False


def grant_writer(cursor: Any, schema: str, prefix: str, writer: str, login: bool) -> bool:
    """Creates the writer role if missing and grants it what it needs in `schema` (tables made
    already, by the connected role, their owner); True if the role was created."""
    role, where = sql.Identifier(writer), sql.Identifier(schema)
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (writer,))
    created = cursor.fetchone() is None
    if created:
        cursor.execute(sql.SQL("CREATE ROLE {} " + ("LOGIN" if login else "NOLOGIN")).format(role))

    def table(suffix: str) -> sql.Composable:
        return sql.SQL("{}.{}").format(where, sql.Identifier(f"{prefix}_{suffix}"))

    cursor.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(where, role))
    for suffix in IMMUTABLE:
        cursor.execute(sql.SQL("REVOKE ALL ON {} FROM {}").format(table(suffix), role))
        cursor.execute(sql.SQL("GRANT SELECT, INSERT ON {} TO {}").format(table(suffix), role))
    cursor.execute(sql.SQL("REVOKE ALL ON {} FROM {}").format(table(SESSIONS), role))
    cursor.execute(sql.SQL("GRANT SELECT, INSERT, DELETE ON {} TO {}").format(table(SESSIONS), role))
    cursor.execute(sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(where, role))
    cursor.execute(
        sql.SQL("GRANT EXECUTE ON FUNCTION {}.{}() TO {}").format(where, sql.Identifier(f"{prefix}_lock_for_append"), role)
    )
    # Every other table is the read model: derived, rebuildable.
    log_tables = {f"{prefix}_{suffix}" for suffix in (*IMMUTABLE, KEYS, SESSIONS)}
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,))
    for (name,) in [(row["tablename"],) for row in cursor.fetchall()]:
        if name not in log_tables:
            cursor.execute(
                sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON {}.{} TO {}").format(where, sql.Identifier(name), role)
            )
    # Tables a rebuild creates later (as this owner) are read model tables too.
    cursor.execute(
        sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {}").format(where, role)
    )
    cursor.execute(sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT USAGE, SELECT ON SEQUENCES TO {}").format(where, role))
    # The keys' owner: giving a table away needs membership in the receiving role (superusers have it).
    cursor.execute("SELECT pg_has_role(%s, 'MEMBER') AS member", (writer,))
    if not cursor.fetchone()["member"]:
        cursor.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(role))
    cursor.execute(sql.SQL("ALTER TABLE {} OWNER TO {}").format(table(KEYS), role))
    return created
