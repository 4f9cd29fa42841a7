"""Secret files the ledger creates on first start: readable by their owner only, created once."""

import os
from collections.abc import Callable
from pathlib import Path


def read_or_create(path: Path, make: Callable[[], bytes]) -> bytes:
    """The file's bytes, after creating it with `make()` (mode 0600) if it did not exist."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    content = make()
    try:
        # Mode 0600 at creation, not chmod afterwards, so the secret is never readable by others;
        # O_EXCL so two processes cannot both install one.
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return path.read_bytes()  # another process created it first: use theirs
    with os.fdopen(fd, "wb") as f:
        f.write(content)
        os.fsync(f.fileno())  # losing it in a crash would orphan what it protects
    return content
