"""The bundle's manifest: the SHA-256 of every file, which catches edits the signed log cannot see.

Part of the offline verifier (standard library only, flattened into verify.py).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from typing import Any

from ledger.bundle_format import BUNDLE_FILES, MANIFEST_FILE, Tampered, hex32


def _file_digest(path: str) -> Any:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest


def digests_in_background(directory: str) -> Callable[[], dict[str, str]]:
    """SHA-256 of every bundle file, computed by a second thread while the first verifies:
    hashlib lets go of the GIL on large blocks, so on two cores the manifest check is nearly free."""
    digests: dict[str, str] = {}

    def work() -> None:
        for name in os.listdir(directory):
            path = os.path.join(directory, name)
            if os.path.isfile(path):
                digests[name] = _file_digest(path).hexdigest()

    worker = threading.Thread(target=work, daemon=True)
    worker.start()

    def result() -> dict[str, str]:
        worker.join()
        return digests

    return result


def check_manifest(directory: str, digests: dict[str, str]) -> None:
    """The unsigned manifest catches edits the signed log cannot see (README, verify.py, formatting)."""
    listed: dict[str, str] = {}
    try:
        with open(os.path.join(directory, MANIFEST_FILE), encoding="utf-8") as manifest:
            for line in manifest:
                digest, separator, name = line.rstrip("\n").partition("  ")
                if not separator or hex32(digest) is None:
                    raise Tampered(f"{MANIFEST_FILE} has a malformed line")
                listed[name] = digest
    except FileNotFoundError:
        raise Tampered(f"{MANIFEST_FILE} is missing") from None
    except UnicodeDecodeError:
        raise Tampered(f"{MANIFEST_FILE} is not UTF-8 text") from None
    for name in BUNDLE_FILES:
        if name not in listed:
            raise Tampered(f"{MANIFEST_FILE} does not list {name}")
    for name, expected in sorted(listed.items()):
        actual = digests.get(name)
        if actual is None:
            raise Tampered(f"{name}, listed in {MANIFEST_FILE}, is missing")
        if actual != expected:
            raise Tampered(f"{name} does not match its SHA-256 in {MANIFEST_FILE}: it was changed after the export")
