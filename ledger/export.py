"""The auditors' export: the whole log as a bundle that verifies offline, written as files or
streamed as a zip.

A bundle holds the events with their receipts and exact stored payloads (events.jsonl), the
Merkle leaves (leaves.txt), every checkpoint published so far with its signed note and a
consistency proof from the one before (checkpoints.jsonl), the origin and public key (log.json),
a README for the auditor, verify.py, and a SHA-256 manifest (MANIFEST.sha256, `sha256sum -c`).

Deterministic: the same log exports the same bytes. Nothing in it depends on when or where it
was exported; the zip's entries carry a fixed date. Exporting signs the current tree head first if
no checkpoint covers it yet, so every exported event is under a signature; exporting the same log
again then finds that checkpoint and writes the same bundle. Memory stays bounded: the log is read
a page at a time and written as it is read.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import importlib
import json
import os
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from domain.errors import ExportError
from ledger.application import Ledger
from ledger.bundle_format import (
    BUNDLE_FORMAT,
    CHECKPOINTS_FILE,
    EVENTS_FILE,
    LEAVES_FILE,
    LOG_FILE,
    MANIFEST_FILE,
    README_FILE,
    VERIFIER_FILE,
    VERIFIER_KEY_FILE,
)
from ledger.signed_notes import key_id
from ledger.vkeys import log_verifier_key
from ledger.log_reader import LogReader
from ledger.recorders.base import LoggedEvent
from ledger.recorders.rows import StoredCheckpoint

EVENTS_PAGE = 2_000
LEAVES_PAGE = 20_000
# verify.py is these modules, in this order, as one file (imports between them removed).
VERIFIER_MODULES = (
    "ledger.signed_notes",
    "ledger.ed25519",
    "ledger.merkle",
    "ledger.vkeys",
    "ledger.cosignatures",
    "ledger.witness_policy",
    "ledger.bundle_witnesses",
    "ledger.bundle_format",
    "ledger.bundle_checkpoints",
    "ledger.bundle_events",
    "ledger.bundle_manifest",
    "ledger.bundle_verifier",
)
_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can say: the date of the export is not data

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Snapshot:
    """What one export covers: positions 1..tree_size and the checkpoints up to it, each with its
    note as cosigned when the snapshot was taken (witnesses may cosign more meanwhile: an export
    read in two passes must write the same bytes in both)."""

    tree_size: int
    origin: str
    public_key: bytes
    checkpoints: list[StoredCheckpoint]
    notes: tuple[str, ...] = ()  # the checkpoints' notes, with the witnesses' cosignatures appended

    @property
    def name(self) -> str:
        return f"ledger-bundle-{self.tree_size}"


def snapshot(ledger: Ledger) -> Snapshot:
    origin, public_key = ledger.signed_heads.origin, ledger.signed_heads.public_key
    if origin is None or public_key is None:
        raise ExportError("exporting needs the ledger's signing key (its public half goes in the bundle)")
    head = ledger.signed_heads.latest()  # the latest, or the current tree head newly signed
    assert head is not None
    checkpoints = [c for c in ledger.signed_heads.published() if c.tree_size <= head.tree_size]
    notes = tuple(ledger.signed_heads.cosigned(checkpoint)[0] for checkpoint in checkpoints)
    return Snapshot(head.tree_size, origin, public_key, checkpoints, notes)


# --- the files ------------------------------------------------------------------------------------


def _embeddable(state: bytes) -> tuple[str | None, dict[str, object] | None]:
    """The stored payload as text, if it can sit verbatim in a line (one JSON value, UTF-8, no
    line break), and its parse if that is a JSON object."""
    try:
        text = state.decode("utf-8")
        parsed = json.loads(text)
    except ValueError:  # not UTF-8, or not JSON
        return None, None
    if "\n" in text or "\r" in text:
        return None, parsed if isinstance(parsed, dict) else None
    return text, parsed if isinstance(parsed, dict) else None


def event_line(logged: LoggedEvent) -> str:
    """One line of events.jsonl: the receipt, the stream id, and the stored payload embedded
    verbatim as the last member, so its exact bytes are the text between `"payload":` and the
    line's final `}` (or, if they cannot be, in base64 as `payload_base64`)."""
    stored = logged.stored
    text, parsed = _embeddable(stored.state)
    record = {
        "position": logged.position,
        # event_id and case_id from the payload itself, so even a tampered row exports
        "event_id": parsed.get("event_id") if parsed else None,
        "case_id": parsed.get("case_id") if parsed else None,
        "type": stored.topic,
        "version": stored.originator_version,
        "recorded_at": logged.recorded_at,
        "leaf_hash": logged.leaf_hash.hex() if logged.leaf_hash is not None else None,
        "stream_id": str(stored.originator_id),
    }
    if text is not None:
        return f'{_JSON.encode(record)[:-1]},"payload":{text}}}\n'
    record["payload_base64"] = base64.b64encode(stored.state).decode("ascii")
    return _JSON.encode(record) + "\n"


def _event_lines(reader: LogReader, tree_size: int, progress: Progress | None) -> Iterator[bytes]:
    after = 0
    while after < tree_size:
        # Positions past the snapshot can only show up if rows are missing: export what is stored.
        read = reader.stored_after(after, min(EVENTS_PAGE, tree_size - after))
        page = [logged for logged in read if logged.position <= tree_size]
        if not page:
            return
        yield "".join(event_line(logged) for logged in page).encode()
        after = page[-1].position
        if progress is not None:
            progress(after)


def _leaf_lines(reader: LogReader, tree_size: int) -> Iterator[bytes]:
    for first in range(1, tree_size + 1, LEAVES_PAGE):
        hashes = reader.leaf_hashes(first, min(first + LEAVES_PAGE - 1, tree_size))
        yield "".join(f"{leaf_hash.hex()}\n" for leaf_hash in hashes).encode()


def _checkpoint_lines(ledger: Ledger, snap: Snapshot) -> Iterator[bytes]:
    previous = 0
    for checkpoint, note in zip(snap.checkpoints, snap.notes, strict=True):
        proof = ledger.signed_heads.consistency_proof(previous, checkpoint.tree_size) if previous else []
        record = {
            "tree_size": checkpoint.tree_size,
            "root_hash": checkpoint.root_hash.hex(),
            "timestamp": checkpoint.timestamp,
            "origin": snap.origin,
            "note": note,  # the witnesses' cosignatures appended, as the snapshot found them
            "consistency_proof": [node.hex() for node in proof],
        }
        yield (_JSON.encode(record) + "\n").encode()
        previous = checkpoint.tree_size


def _log_json(snap: Snapshot) -> bytes:
    log = {
        "format": BUNDLE_FORMAT,
        "origin": snap.origin,
        "public_key": base64.b64encode(snap.public_key).decode("ascii"),
        "key_id": key_id(snap.origin, snap.public_key).hex(),
        "verifier_key": log_verifier_key(snap.origin, snap.public_key),
        "tree_size": snap.tree_size,
        "checkpoints": len(snap.checkpoints),
    }
    return (json.dumps(log, indent=2) + "\n").encode()


def _readme(snap: Snapshot) -> bytes:
    key = base64.b64encode(snap.public_key).decode("ascii")
    return README.format(
        origin=snap.origin,
        tree_size=snap.tree_size,
        checkpoints=len(snap.checkpoints),
        key=key,
        key_id=key_id(snap.origin, snap.public_key).hex(),
    ).encode()


def _members(ledger: Ledger, snap: Snapshot, progress: Progress | None) -> Iterator[tuple[str, Iterable[bytes]]]:
    yield README_FILE, [_readme(snap)]
    yield LOG_FILE, [_log_json(snap)]
    yield CHECKPOINTS_FILE, _checkpoint_lines(ledger, snap)
    yield EVENTS_FILE, _event_lines(ledger.reader, snap.tree_size, progress)
    yield LEAVES_FILE, _leaf_lines(ledger.reader, snap.tree_size)
    yield VERIFIER_FILE, [verifier_source().encode()]
    yield VERIFIER_KEY_FILE, [(log_verifier_key(snap.origin, snap.public_key) + "\n").encode()]


def _manifest(digests: dict[str, str]) -> bytes:
    return "".join(f"{digest}  {name}\n" for name, digest in sorted(digests.items())).encode()


# --- writing --------------------------------------------------------------------------------------


def write_bundle(ledger: Ledger, directory: Path, progress: Progress | None = None) -> Snapshot:
    """Writes the bundle into `directory` (created; it must be empty if it exists)."""
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise ExportError(f"{directory} exists and is not an empty directory")
    directory.mkdir(parents=True, exist_ok=True)  # first: a directory that cannot be made leaves no checkpoint signed
    snap = snapshot(ledger)
    digests: dict[str, str] = {}
    for name, chunks in _members(ledger, snap, progress):
        digest = hashlib.sha256()
        with open(directory / name, "wb") as file:
            for chunk in chunks:
                digest.update(chunk)
                file.write(chunk)
        digests[name] = digest.hexdigest()
    (directory / MANIFEST_FILE).write_bytes(_manifest(digests))
    os.chmod(directory / VERIFIER_FILE, 0o755)
    return snap


class _Sink:
    """A write-only, unseekable file for zipfile, drained by the generator that streams the zip."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def drain(self) -> Iterator[bytes]:
        if self._chunks:
            chunk, self._chunks = b"".join(self._chunks), []
            yield chunk


def _zip_entry(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # Unix, so the file modes below hold wherever the zip is made
    info.external_attr = (0o100000 | mode) << 16
    return info


def zip_stream(ledger: Ledger, snap: Snapshot, progress: Progress | None = None) -> Iterator[bytes]:
    """The bundle as a zip (all files under one folder, `snap.name`), produced as it is read."""
    sink = _Sink()
    digests: dict[str, str] = {}
    with zipfile.ZipFile(sink, "w") as archive:  # type: ignore[arg-type]
        for name, chunks in _members(ledger, snap, progress):
            digest = hashlib.sha256()
            entry = _zip_entry(f"{snap.name}/{name}", 0o755 if name == VERIFIER_FILE else 0o644)
            # zip64 up front: the size of events.jsonl is not known until it is written
            with archive.open(entry, "w", force_zip64=True) as member:
                for chunk in chunks:
                    digest.update(chunk)
                    member.write(chunk)
                    yield from sink.drain()
            digests[name] = digest.hexdigest()
        with archive.open(_zip_entry(f"{snap.name}/{MANIFEST_FILE}", 0o644), "w") as member:
            member.write(_manifest(digests))
    yield from sink.drain()


# --- verify.py ------------------------------------------------------------------------------------


@cache
def verifier_source() -> str:
    """verify.py: the verifier's modules concatenated, their imports of each other removed.

    Generated rather than kept as a copy, so the bundle always verifies with the code the server's
    own `ledger verify DIR` runs, down to the Merkle hashing in ledger/merkle.py.
    """
    parts = [VERIFIER_HEADER]
    defined: dict[str, str] = {}
    for module_name in VERIFIER_MODULES:
        path = importlib.import_module(module_name).__file__
        assert path is not None
        source = Path(path).read_text(encoding="utf-8")
        lines = source.splitlines(keepends=True)
        tree = ast.parse(source)
        dropped: set[int] = set()
        for index, node in enumerate(tree.body):
            if index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
                dropped.update(range(node.lineno, node.end_lineno + 1))  # type: ignore[operator]
            elif isinstance(node, ast.ImportFrom) and (node.module == "__future__" or (node.module or "").startswith("ledger")):
                if any(alias.asname for alias in node.names):
                    raise AssertionError(f"{module_name}: an aliased import cannot be flattened into verify.py")
                dropped.update(range(node.lineno, node.end_lineno + 1))  # type: ignore[operator]
            elif isinstance(node, ast.Import) and any(alias.name.startswith("ledger") for alias in node.names):
                raise AssertionError(f"{module_name}: `import ledger...` cannot be flattened into verify.py")
            for name in _top_level_names(node):
                if defined.setdefault(name, module_name) != module_name:
                    raise AssertionError(f"{name} is defined in both {defined[name]} and {module_name}")
        summary = ast.get_docstring(tree, clean=True) or ""
        parts.append(f"\n# {'-' * 96}\n# {module_name.replace('.', '/')}.py: {summary.splitlines()[0] if summary else ''}\n")
        parts.append("".join(line for number, line in enumerate(lines, start=1) if number not in dropped))
    parts.append('\n\nif __name__ == "__main__":\n    sys.exit(main())\n')
    return "".join(parts)


def _top_level_names(node: ast.stmt) -> list[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, ast.Assign):
        return [target.id for target in node.targets if isinstance(target, ast.Name)]
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return [node.target.id]
    return []


VERIFIER_HEADER = '''#!/usr/bin/env python3
"""Verify this ledger bundle offline: python3 verify.py [DIR] [--public-key BASE64] [--checkpoint NOTE] [--policy FILE]

Standard library only (Python 3.9+). Recomputes every leaf from events.jsonl, the Merkle root at
every signed checkpoint, each checkpoint's Ed25519 signature and its consistency with the one
before. Exits 0 when everything checks out; otherwise prints the first bad position or checkpoint
and exits 1.

Generated by the ledger's export from its own verification code (the modules named below).
"""

from __future__ import annotations
'''


README = """# Ms. L. settlement ledger: exported bundle

Log `{origin}`, positions 1 to {tree_size}, with {checkpoints} signed checkpoint(s).
Signing key (Ed25519, base64 of the raw 32 bytes): `{key}` (key ID `{key_id}`).

## Verify it

    python3 verify.py .                          # or: ledger verify DIR
    python3 verify.py . --public-key {key}
    python3 verify.py . --checkpoint saved.note  # a checkpoint you fetched earlier
    python3 verify.py . --policy witnesses.policy  # demand a quorum of witnesses' cosignatures

`verify.py` needs nothing but Python 3.9 or newer. It recomputes every leaf from the events, the
Merkle tree root at every signed checkpoint, each checkpoint's Ed25519 signature, and each
checkpoint's consistency proof from the one before; it exits 1 naming the first bad position or
checkpoint. Pin the key with `--public-key` using the key the ledger publishes (`GET /v1/checkpoint`
returns it): otherwise the key in `log.json` is trusted, and whoever rewrote the bundle could have
replaced it. `--checkpoint` checks the bundle against a signed checkpoint you saved before (the
`note` of `GET /v1/checkpoint`), which also catches a bundle cut short. `sha256sum -c MANIFEST.sha256`
checks the files are as exported (the manifest is not signed; the checkpoints are).
`--policy` reads a witness policy (c2sp.org/tlog-policy: `log`, `witness`, `group` and `quorum`
lines) and refuses the bundle unless its last checkpoint, covering every event, carries that
quorum of valid witness cosignatures, naming the witnesses missing or invalid: the witnesses
checked that the ledger showed them this same history, so no one was shown another.

## Files

- `events.jsonl`: one event per line, in position order. Its receipt (`position`, `event_id`,
  `case_id`, `type`, `version`, `recorded_at`, `leaf_hash`), its `stream_id`, and last `payload`:
  the event exactly as stored (JSON: `occurred_at`, the organization and token that posted it, and
  `data`), embedded verbatim, so the bytes the leaf commits to are the text between `"payload":`
  and the line's final `}}`. (`payload_base64` instead if the stored bytes are not one line of JSON.)
  Re-formatting a line (e.g. with `jq`) changes those bytes: verify the files as exported.
- `leaves.txt`: line P is the Merkle leaf hash of position P (lowercase hex).
- `checkpoints.jsonl`: every checkpoint published up to this export, oldest first: `tree_size`,
  `root_hash` (hex), `timestamp`, `origin`, `note` (the C2SP signed note, c2sp.org/tlog-checkpoint,
  with the witnesses' cosignature lines collected at export, c2sp.org/tlog-cosignature) and `consistency_proof` (hex, RFC 6962) from the previous checkpoint (empty for the first).
- `log.json`: the bundle format, origin, public key and tree size.
- `log.vkey`: the log's key as a C2SP note verifier key (`<origin>+<key ID>+<base64>`), the form a
  witness's configuration and a policy's `log` line take.
- `MANIFEST.sha256`: the SHA-256 of every other file.

## How a leaf is made

    leaf_hash = SHA-256(0x00 || JSON [position, stream_id, version, type, recorded_at, SHA-256 hex of payload])

with the JSON array compact (no spaces), UTF-8, e.g.
`[3,"a505df41-1d0b-5621-b942-f4a33ee5da35",1,"SeparationIdentified","2026-01-05T10:00:00.000000Z","9f86…"]`.
The tree is RFC 6962 (SHA-256, leaf prefix 0x00, node prefix 0x01); leaf index = position - 1, so
the tree of size N covers positions 1..N.

## Handle with care

The payloads are the log as stored: they can include personal data (names, contact details,
addresses). Keep this bundle as confidential as the ledger itself.
"""
