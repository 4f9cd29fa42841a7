"""Offline verification of an exported bundle: the bundle's format and the checks an auditor runs.

Standard library only. `ledger verify DIR` calls verify_bundle() from here, and every bundle
ships the same code as one file, verify.py, generated from this module and the standard-library
modules it uses (see VERIFIER_MODULES in ledger/export.py), so `python3 verify.py DIR` runs
on a bare Python 3.9+ without installing anything.

It trusts nothing in the bundle but the signature key (which the auditor should pin with
--public-key): it recomputes every leaf from the events, the Merkle root at every signed
checkpoint, each checkpoint's Ed25519 signature, and each checkpoint's consistency proof from the
one before. The first problem found is reported with the position or checkpoint it concerns.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ledger.bundle_witnesses import witnessed_bundle
from ledger.ed25519 import verify_signature
from ledger.merkle import EMPTY_ROOT, RootAccumulator, hash_leaf, verify_consistency
from ledger.notes import CheckpointError, key_id, verify_note
from ledger.witness_policy import PolicyError

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

_DECODER = json.JSONDecoder()
# In a line of events.jsonl the stored payload is the last member, embedded verbatim.
PAYLOAD_MEMBER = ',"payload":'
_CHECKPOINT_FIELDS = {
    "origin": str,
    "tree_size": int,
    "root_hash": str,
    "timestamp": str,
    "note": str,
    "consistency_proof": list,
}
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


@dataclass(frozen=True)
class BundleReport:
    origin: str
    public_key: bytes
    key_pinned: bool
    events: int
    checkpoints: int
    trusted_checkpoints: int
    witnesses: list[str] | None = None  # with a policy: those whose cosignature of the last checkpoint is valid

    @property
    def key_id(self) -> str:
        return key_id(self.origin, self.public_key).hex()


@dataclass(frozen=True)
class _SignedHead:
    tree_size: int
    root_hash: bytes
    source: str  # how to name it in a report


def _read_json(path: str, what: str) -> dict:
    try:
        with open(path, "rb") as file:
            value = json.loads(file.read())
    except FileNotFoundError:
        raise Tampered(f"{what} is missing: this is not a complete ledger bundle") from None
    except ValueError:
        raise Tampered(f"{what} is not valid JSON") from None
    if not isinstance(value, dict):
        raise Tampered(f"{what} is not a JSON object")
    return value


def _has_fields(record: object, fields: dict) -> bool:
    # bool is an int to Python, never to this format
    return isinstance(record, dict) and all(
        isinstance(record.get(name), kind) and not isinstance(record.get(name), bool) for name, kind in fields.items()
    )


def _hex32(text: object) -> bytes | None:
    if not isinstance(text, str) or len(text) != 64 or text != text.lower():
        return None
    try:
        return bytes.fromhex(text)
    except ValueError:
        return None


def read_log(directory: str) -> tuple[str, bytes, int]:
    """The bundle's origin, public key and tree size, from log.json."""
    if not os.path.isdir(directory):
        raise Tampered(f"{directory} is not a directory")
    log = _read_json(os.path.join(directory, LOG_FILE), LOG_FILE)
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
    return origin, public_key, tree_size


def _read_checkpoints(directory: str, origin: str, public_key: bytes, tree_size: int) -> list[_SignedHead]:
    """Every published checkpoint, signature and consistency with the one before checked."""
    heads: list[_SignedHead] = []
    previous = _SignedHead(0, EMPTY_ROOT, "the empty tree")
    try:
        file = open(os.path.join(directory, CHECKPOINTS_FILE), "rb")
    except FileNotFoundError:
        raise Tampered(f"{CHECKPOINTS_FILE} is missing") from None
    with file:
        for number, line in enumerate(file, start=1):
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if not _has_fields(record, _CHECKPOINT_FIELDS):
                raise Tampered(f"line {number} of {CHECKPOINTS_FILE} is not a checkpoint record")
            size = record["tree_size"]
            try:
                signed = verify_note(record["note"], public_key, origin, verify_signature)
            except CheckpointError as error:
                raise Tampered(f"the checkpoint at tree size {size} is not validly signed: {error}", checkpoint=size) from None
            root = _hex32(record["root_hash"])
            if (signed[0], signed[1], signed[2], origin) != (size, root, record["timestamp"], record["origin"]):
                raise Tampered(f"the checkpoint at tree size {size} differs from its signed note", checkpoint=size)
            if size <= previous.tree_size and heads:
                raise Tampered(
                    f"the checkpoint at tree size {size} is out of order: it follows tree size {previous.tree_size}",
                    checkpoint=size,
                )
            if size > tree_size:
                raise Tampered(
                    f"the checkpoint at tree size {size} covers more than the bundle's {tree_size} events", checkpoint=size
                )
            proof = [_hex32(node) for node in record["consistency_proof"]]
            if any(node is None for node in proof) or not verify_consistency(
                previous.tree_size, size, previous.root_hash, signed[1], proof  # type: ignore[arg-type]
            ):
                raise Tampered(
                    f"the checkpoint at tree size {size} does not extend {previous.source}: "
                    "its consistency proof does not verify",
                    checkpoint=size,
                )
            previous = _SignedHead(size, signed[1], f"the checkpoint at tree size {size}")
            heads.append(previous)
    return heads


def _read_trusted(notes: Sequence[str], origin: str, public_key: bytes) -> list[_SignedHead]:
    """Checkpoints the auditor saved earlier (e.g. from GET /v1/checkpoint): the bundle must agree."""
    heads = []
    for number, note in enumerate(notes, start=1):
        try:
            size, root, _ = verify_note(note, public_key, origin, verify_signature)
        except CheckpointError as error:
            raise Tampered(f"your checkpoint #{number} is not validly signed by the bundle's key: {error}") from None
        heads.append(_SignedHead(size, root, f"your checkpoint at tree size {size}"))
    return heads


def _lines(file: Any) -> Iterator[bytes]:
    """The file's lines without their newlines, read in large blocks: faster than line by line."""
    rest = b""
    while block := file.read(1 << 20):
        lines = (rest + block).split(b"\n")
        rest = lines.pop()
        yield from lines
    if rest:
        yield rest


def _json_object(text: str) -> dict | None:
    """The JSON object that is all of `text`, or None. raw_decode skips what json.loads adds per
    call, which is most of its cost on lines this short."""
    try:
        value, end = _DECODER.raw_decode(text)
    except ValueError:
        return None
    return value if end == len(text) and type(value) is dict else None


def _event_leaf(line: bytes, number: int, position: int) -> tuple[bytes, bytes, str, dict]:
    """The leaf recomputed from one line of events.jsonl (as bytes and as hex), its recorded_at,
    and the names of its event and case (for a problem found later), once the line's receipt
    agrees with the stored payload it carries."""
    names: dict = {}
    try:
        text = line.decode("utf-8")
        record = _json_object(text)
        if record is None:
            raise ValueError
        names = {"event_id": record.get("event_id"), "case_id": record.get("case_id")}
        claimed = record["position"]
        if type(claimed) is not int or claimed != position:
            raise Tampered(
                f"position {position} is missing or out of order: line {number} of {EVENTS_FILE} "
                f"holds position {claimed}",
                position=position, **names,
            )
        if "payload" in record:  # embedded verbatim: its exact bytes are the rest of the line
            start = text.find(PAYLOAD_MEMBER)
            if start < 0 or not text.endswith("}"):
                raise ValueError
            payload = text[start + len(PAYLOAD_MEMBER) : -1].encode("utf-8")
            stored = record["payload"]
        else:
            payload = base64.b64decode(record["payload_base64"], validate=True)
            stored = _json_object(payload.decode("utf-8", errors="replace"))
        recorded_at = record["recorded_at"]
        # Any field of the wrong type makes another JSON array, so another leaf.
        leaf = hash_leaf(leaf_input(position, record["stream_id"], record["version"], record["type"], recorded_at, payload))
        leaf_hex = leaf.hex()
        if record["leaf_hash"] != leaf_hex:
            raise Tampered(
                f"position {position} does not match its leaf: the event or its receipt was altered", position=position, **names
            )
        # event_id and case_id are not in the leaf: they must be the stored payload's own. (Once the
        # leaf matches, the embedded payload is exactly the stored bytes, so `stored` is their parse.)
        receipt_ids = (record["event_id"], record["case_id"])
        if type(stored) is not dict or (stored.get("event_id"), stored.get("case_id")) != receipt_ids:
            raise Tampered("the receipt's event_id or case_id is not the stored event's", position=position, **names)
        if type(recorded_at) is not str:
            raise TypeError
        return leaf, leaf_hex.encode(), recorded_at, names
    except (KeyError, TypeError, ValueError):  # ValueError: bad UTF-8, base64 or JSON
        raise Tampered(f"line {number} of {EVENTS_FILE} is not an event record", position=position, **names) from None


def _verify_events(
    directory: str,
    tree_size: int,
    heads: list[_SignedHead],
    progress: Callable[[int], None] | None,
) -> int:
    due: dict[int, list[_SignedHead]] = {}
    for head in heads:  # a bundle checkpoint and a trusted one at the same size must both match
        due.setdefault(head.tree_size, []).append(head)
    signed_up_to = max(due, default=0)
    roots = RootAccumulator()
    last_recorded_at = ""

    def check_roots() -> None:
        for head in due.get(roots.size, ()):
            if roots.root() != head.root_hash:
                raise Tampered(
                    f"the tree of the bundle's first {head.tree_size} events does not match {head.source}: "
                    "events and leaves were rewritten together",
                    checkpoint=head.tree_size,
                )

    check_roots()
    events_path, leaves_path = os.path.join(directory, EVENTS_FILE), os.path.join(directory, LEAVES_FILE)
    for path in (events_path, leaves_path):
        if not os.path.isfile(path):
            raise Tampered(f"{os.path.basename(path)} is missing")
    with open(events_path, "rb") as events_file, open(leaves_path, "rb") as leaves_file:
        leaves = _lines(leaves_file)
        for number, line in enumerate(_lines(events_file), start=1):
            position = number
            if position > tree_size:
                raise Tampered(f"position {position} is beyond the bundle's tree size {tree_size}", position=position)
            leaf, leaf_hex, recorded_at, names = _event_leaf(line, number, position)
            listed = next(leaves, None)
            if listed != leaf_hex:
                raise Tampered(
                    f"position {position}: {LEAVES_FILE} "
                    + ("ends before the events do" if listed is None else "holds another leaf than the event's"),
                    position=position,
                    **names,
                )
            if recorded_at < last_recorded_at:
                raise Tampered(f"position {position} was recorded before the position preceding it", position=position, **names)
            last_recorded_at = recorded_at
            roots.append(leaf)
            if position in due:
                check_roots()
            if progress is not None and position % 10_000 == 0:
                progress(position)
        extra = next(leaves, None)
    events = roots.size
    if extra is not None:
        raise Tampered(f"{LEAVES_FILE} has a leaf at position {events + 1} but the events end at {events}", position=events + 1)
    if events < max(tree_size, signed_up_to):
        covered = max(due) if events < signed_up_to else tree_size
        source = due[covered][0].source if events < signed_up_to else f"{LOG_FILE}'s tree size"
        raise Tampered(
            f"position {events + 1} is missing: the events end at {events} but {source} covers {covered}",
            position=events + 1,
        )
    if events > signed_up_to:
        raise Tampered(
            f"position {signed_up_to + 1} is not covered by any signed checkpoint (the last is at tree size {signed_up_to})",
            position=signed_up_to + 1,
        )
    if progress is not None:
        progress(events)
    return events


def _file_digest(path: str) -> Any:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest


def _digests_in_background(directory: str) -> Callable[[], dict[str, str]]:
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


def _check_manifest(directory: str, digests: dict[str, str]) -> None:
    """The unsigned manifest catches edits the signed log cannot see (README, verify.py, formatting)."""
    listed: dict[str, str] = {}
    try:
        with open(os.path.join(directory, MANIFEST_FILE), encoding="utf-8") as manifest:
            for line in manifest:
                digest, separator, name = line.rstrip("\n").partition("  ")
                if not separator or _hex32(digest) is None:
                    raise Tampered(f"{MANIFEST_FILE} has a malformed line")
                listed[name] = digest
    except FileNotFoundError:
        raise Tampered(f"{MANIFEST_FILE} is missing") from None
    for name in BUNDLE_FILES:
        if name not in listed:
            raise Tampered(f"{MANIFEST_FILE} does not list {name}")
    for name, expected in sorted(listed.items()):
        actual = digests.get(name)
        if actual is None:
            raise Tampered(f"{name}, listed in {MANIFEST_FILE}, is missing")
        if actual != expected:
            raise Tampered(f"{name} does not match its SHA-256 in {MANIFEST_FILE}: it was changed after the export")


def verify_bundle(
    directory: str | os.PathLike[str],
    public_key: bytes | None = None,
    trusted_notes: Sequence[str] = (),
    progress: Callable[[int], None] | None = None,
    policy: str | None = None,
) -> BundleReport:
    """Raises Tampered naming the first problem; `public_key` pins the key the bundle must be signed by;
    `policy` (c2sp.org/tlog-policy text) demands its quorum of witnesses (PolicyError if unmet)."""
    directory = os.fspath(directory)
    origin, bundle_key, tree_size = read_log(directory)
    if public_key is not None and public_key != bundle_key:
        raise Tampered(
            f"the bundle is signed by key {key_id(origin, bundle_key).hex()}, not by the key you pinned "
            f"({key_id(origin, public_key).hex()})"
        )
    heads = _read_checkpoints(directory, origin, bundle_key, tree_size)
    trusted = _read_trusted(trusted_notes, origin, bundle_key)
    for head in trusted:
        if head.tree_size > tree_size:
            raise Tampered(
                f"{head.source} is beyond the bundle's {tree_size} events: the bundle is truncated or stale",
                checkpoint=head.tree_size,
            )
    digests = _digests_in_background(directory)
    events = _verify_events(directory, tree_size, heads + trusted, progress)
    _check_manifest(directory, digests())
    witnesses = None if policy is None else witnessed_bundle(directory, policy, origin, bundle_key, tree_size)
    return BundleReport(origin, bundle_key, public_key is not None, events, len(heads), len(trusted), witnesses)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Verify an exported ledger bundle offline: every leaf, every signed checkpoint, "
        "their signatures and their consistency.",
    )
    parser.add_argument(
        "directory", nargs="?", default=os.path.dirname(os.path.abspath(__file__)),
        help="the bundle (default: the directory this file is in)",
    )
    parser.add_argument("--public-key", help="base64 Ed25519 key the ledger publishes; pins the signer")
    parser.add_argument(
        "--checkpoint", action="append", default=[], metavar="NOTE_FILE",
        help="a signed checkpoint note you saved earlier; the bundle must agree with it (repeatable)",
    )
    parser.add_argument("--policy", metavar="POLICY_FILE", help="a witness policy (c2sp.org/tlog-policy) the last checkpoint must meet")
    args = parser.parse_args(argv)
    try:
        policy = None
        if args.policy is not None:
            with open(args.policy, encoding="utf-8") as file:
                policy = file.read()
        pinned = None if args.public_key is None else base64.b64decode(args.public_key, validate=True)
        notes = []
        for path in args.checkpoint:
            with open(path, encoding="utf-8") as file:
                notes.append(file.read())
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    tty = sys.stderr.isatty()

    def progress(done: int) -> None:
        if tty:
            print(f"\rverified {done} events", end="", file=sys.stderr, flush=True)

    try:
        report = verify_bundle(args.directory, pinned, notes, progress, policy)
    except Tampered as problem:
        if tty:
            print(file=sys.stderr)
        print(problem.summary(), file=sys.stderr)
        return 1
    except PolicyError as problem:
        print(f"NOT WITNESSED as the policy demands: {problem}", file=sys.stderr)
        return 1
    if tty:
        print(file=sys.stderr)
    print(describe(report))
    return 0


def describe(report: BundleReport) -> str:
    trusted = f", and agree with your {report.trusted_checkpoints} saved checkpoint(s)" if report.trusted_checkpoints else ""
    key = base64.b64encode(report.public_key).decode()
    pin = (
        "the key you pinned"
        if report.key_pinned
        else "the key in the bundle: compare it with the key the ledger publishes, or pin it with --public-key"
    )
    witnessed = "" if report.witnesses is None else f"\nits last checkpoint is cosigned by the policy's quorum: {', '.join(report.witnesses) or 'none needed'}"
    return (
        f"verified {report.events} events and {report.checkpoints} signed checkpoints: every leaf, root, signature "
        f"and consistency proof checks out{trusted}\n"
        f"signed by {report.origin} key {key} (key ID {report.key_id}), {pin}{witnessed}"
    )
