"""The bundle's format: its files, what an event's leaf hashes, log.json, and the Tampered error.

Part of the offline verifier (standard library only, flattened into the bundle's verify.py with
the modules listed in VERIFIER_MODULES of ledger/export.py): kept apart so the export, which
writes these files, and the checks, which read them, share one definition of each name.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from typing import NamedTuple

BUNDLE_FORMAT = "ms-l-ledger-bundle/1"
README_FILE = "README.md"
LOG_FILE = "log.json"
CHECKPOINTS_FILE = "checkpoints.jsonl"
EVENTS_FILE = "events.jsonl"
LEAVES_FILE = "leaves.txt"
VERIFIER_FILE = "verify.py"
MANIFEST_FILE = "MANIFEST.sha256"
VERIFIER_KEY_FILE = "log.vkey"  # the log's key as a C2SP note verifier key, for a witness or a policy
BUNDLE_FILES = (README_FILE, LOG_FILE, CHECKPOINTS_FILE, EVENTS_FILE, LEAVES_FILE, VERIFIER_FILE, VERIFIER_KEY_FILE)
# What json.dumps(..., ensure_ascii=False) writes for a string: the encoder's own function.
_json_string = json.encoder.encode_basestring


def leaf_input(position: int, stream_id: str, version: int, event_type: str, recorded_at: str, payload: bytes) -> bytes:
    """What an event's leaf hashes (after 0x00), from the leaf's published definition:
    `json.dumps([position, stream_id, version, type, recorded_at, SHA-256 hex of payload],
    separators=(",", ":"), ensure_ascii=False)` in UTF-8. Written out because it runs once per
    event; tests hold the two byte-identical, and identical to the server's ledger.leaves."""
    if type(position) is not int or type(version) is not int:
        raise TypeError("position and version are integers")
    return (
        f"[{position},{_json_string(stream_id)},{version},{_json_string(event_type)},"
        f'{_json_string(recorded_at)},"{hashlib.sha256(payload).hexdigest()}"]'
    ).encode()


class Tampered(Exception):
    """The bundle is not what the ledger signed. `position` or `checkpoint` (a tree size) says where."""

    def __init__(
        self,
        message: str,
        position: int | None = None,
        checkpoint: int | None = None,
        event_id: object = None,
        case_id: object = None,
    ) -> None:
        super().__init__(message)
        self.position = position
        self.checkpoint = checkpoint
        self.event_id = event_id if type(event_id) is str else None  # as the bundle's line claims them
        self.case_id = case_id if type(case_id) is str else None

    def summary(self) -> str:
        """One line, naming where (the position, its event and case), as `ledger verify` (database) says it."""
        if self.position is not None:
            names = f" (event {self.event_id or 'unknown'}, case {self.case_id or 'unknown'})"
            return f"TAMPERING DETECTED at position {self.position}: {self}{names}"
        if self.checkpoint is not None:
            return f"TAMPERING DETECTED at checkpoint: {self}"
        return f"NOT VERIFIED: {self}"


def read_json(path: str, what: str) -> dict:
    try:
        with open(path, "rb") as file:
            value = json.loads(file.read())
    except RecursionError:
        raise Tampered(f"{what} is nested too deeply to be a ledger bundle's") from None
    except FileNotFoundError:
        raise Tampered(f"{what} is missing: this is not a complete ledger bundle") from None
    except ValueError:
        raise Tampered(f"{what} is not valid JSON") from None
    if not isinstance(value, dict):
        raise Tampered(f"{what} is not a JSON object")
    return value


def has_fields(record: object, fields: dict) -> bool:
    # bool is an int to Python, never to this format
    return isinstance(record, dict) and all(
        isinstance(record.get(name), kind) and not isinstance(record.get(name), bool) for name, kind in fields.items()
    )


def hex32(text: object) -> bytes | None:
    if not isinstance(text, str) or len(text) != 64 or text != text.lower():
        return None
    try:
        return bytes.fromhex(text)
    except ValueError:
        return None


class BundleLog(NamedTuple):
    """What log.json says of the log the bundle holds."""

    origin: str
    public_key: bytes
    tree_size: int


def read_log(directory: str) -> BundleLog:
    """The bundle's origin, public key and tree size, from log.json."""
    if not os.path.isdir(directory):
        raise Tampered(f"{directory} is not a directory")
    log = read_json(os.path.join(directory, LOG_FILE), LOG_FILE)
    if log.get("format") != BUNDLE_FORMAT:
        raise Tampered(f"{LOG_FILE} does not describe a {BUNDLE_FORMAT} bundle")
    origin, encoded_key, tree_size = log.get("origin"), log.get("public_key"), log.get("tree_size")
    if not isinstance(origin, str) or not isinstance(tree_size, int) or isinstance(tree_size, bool) or tree_size < 0:
        raise Tampered(f"{LOG_FILE} lacks a valid origin or tree_size")
    try:
        public_key = base64.b64decode(encoded_key, validate=True)
    except (TypeError, ValueError):
        raise Tampered(f"{LOG_FILE}: public_key is not base64") from None
    if len(public_key) != 32:
        raise Tampered(f"{LOG_FILE}: public_key is not a 32-byte Ed25519 key")
    return BundleLog(origin, public_key, tree_size)
