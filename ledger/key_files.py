"""Files the ledger creates that only it may read: its keys and its SQLite database, mode 0600.

Created with that mode (not chmod-ed afterwards, so they are never readable by others for a
moment), and set to exactly 0600 whatever the umask (a umask of 0 would not loosen it, and one
that took the owner's write bit away would leave the database unwritable). SQLite creates the
database's -wal, -shm and -journal files later, itself, with the database file's own mode
(`findCreateFileMode` in its unix VFS), whatever the umask: they follow the database's 0600.
"""

import os
from collections.abc import Callable
from pathlib import Path

from domain.errors import ConfigurationError

OWNER_ONLY = 0o600


def create_owner_only(path: Path) -> int | None:
    """A descriptor open for writing on a new, empty file at `path`, mode 0600; None if a file is
    there already (O_EXCL: two processes cannot both create it)."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, OWNER_ONLY)
    except FileExistsError:
        return None
    os.fchmod(fd, OWNER_ONLY)  # what the umask took away, or left
    return fd


def create_database_file(path: Path) -> None:
    """Creates the SQLite database file, empty and mode 0600, if there is none (an empty file is an
    empty database to SQLite). An existing file keeps the mode its operator gave it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = create_owner_only(path)
    if fd is not None:
        os.close(fd)


class KeyFileUnusable(ConfigurationError):
    """A key file that can be neither read nor created where it is configured (a directory, no
    permission): named as the key file it is, not blamed on the database."""


def read_or_create(path: Path, make: Callable[[], bytes]) -> bytes:
    """The file's bytes, after creating it with `make()` (mode 0600) if it did not exist."""
    try:
        return _read_or_create(path, make)
    except OSError as error:
        raise KeyFileUnusable(f"the key file {path} cannot be read or created: {error.strerror or error}") from None


def _read_or_create(path: Path, make: Callable[[], bytes]) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    content = make()
    fd = create_owner_only(path)
    if fd is None:
        return path.read_bytes()  # another process created it first: use theirs
    with os.fdopen(fd, "wb") as f:
        f.write(content)
        os.fsync(f.fileno())  # losing it in a crash would orphan what it protects
    return content
