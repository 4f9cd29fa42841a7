"""The bundle's events: every leaf recomputed from events.jsonl, checked against leaves.txt, and
the Merkle root checked at every signed checkpoint, in one streaming pass.

Part of the offline verifier (standard library only, flattened into verify.py).
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable, Iterator
from typing import Any

from ledger.bundle_checkpoints import SignedHead
from ledger.bundle_format import EVENTS_FILE, LEAVES_FILE, LOG_FILE, Tampered, leaf_input
from ledger.merkle import RootAccumulator, hash_leaf

_DECODER = json.JSONDecoder()
# In a line of events.jsonl the stored payload is the last member, embedded verbatim.
PAYLOAD_MEMBER = ',"payload":'


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
    except (ValueError, RecursionError):  # RecursionError: JSON nested deeper than Python's stack
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


def verify_events(
    directory: str,
    tree_size: int,
    heads: list[SignedHead],
    progress: Callable[[int], None] | None,
) -> int:
    due: dict[int, list[SignedHead]] = {}
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
