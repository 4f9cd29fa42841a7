"""Turn a LEDGER_DATABASE_URL into the settings eventsourcing's infrastructure factories read."""

from urllib.parse import parse_qs, unquote, urlsplit

from domain.errors import ConfigurationError

SQLITE_RECORDER = "ledger.recorders.sqlite:LedgerSQLiteRecorder"
POSTGRES_RECORDER = "ledger.recorders.postgres:LedgerPostgresRecorder"


class DatabaseURLError(ConfigurationError):
    pass


def persistence_env(database_url: str) -> dict[str, str]:
    """`sqlite:///relative/or//absolute.db` or `postgresql://user:password@host:port/db?schema=s`;
    either may add `lock_timeout=SECONDS`, and PostgreSQL's `connect_timeout=SECONDS` (whole
    seconds, at least 1)."""
    url = urlsplit(database_url)
    query = parse_qs(url.query)
    if url.scheme == "sqlite":
        path = unquote(url.path.removeprefix("/"))
        if not path:
            raise DatabaseURLError("an sqlite URL needs a file path, e.g. sqlite:///var/ledger.db")
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": path,
            # Seconds a writer waits for another process's write lock; past it, a retriable error.
            "SQLITE_LOCK_TIMEOUT": _seconds(query, "lock_timeout", "30"),
            "APPLICATION_RECORDER_TOPIC": SQLITE_RECORDER,
        }
    if url.scheme in ("postgresql", "postgres"):
        if not url.hostname or not url.path.strip("/"):
            raise DatabaseURLError("a postgresql URL needs a host and a database name")
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": unquote(url.path.strip("/")),
            "POSTGRES_HOST": url.hostname,
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": unquote(url.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(url.password or ""),
            "POSTGRES_SCHEMA": query.get("schema", [""])[0],
            "POSTGRES_POOL_SIZE": query.get("pool_size", ["5"])[0],
            "POSTGRES_MAX_OVERFLOW": query.get("max_overflow", ["10"])[0],
            # A request waits this long for a connection from the pool (all in use, or the server
            # away and being reconnected to); past it, a retriable error: the client gets 503
            # with Retry-After rather than an answer only after its own timeout has passed.
            "POSTGRES_CONNECT_TIMEOUT": _seconds(query, "connect_timeout", "5"),
            # Writers queue on the events table lock; past this they get a retriable error.
            "POSTGRES_LOCK_TIMEOUT": _seconds(query, "lock_timeout", "10"),
            "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "30",
            "APPLICATION_RECORDER_TOPIC": POSTGRES_RECORDER,
        }
    raise DatabaseURLError(f"unsupported database URL scheme {url.scheme!r}: use sqlite:/// or postgresql://")


def _seconds(query: dict[str, list[str]], name: str, default: str) -> str:
    value = query.get(name, [default])[0]
    if not value.isdigit() or int(value) < 1:
        raise DatabaseURLError(f"{name} in the database URL must be a whole number of seconds, at least 1")
    return value
