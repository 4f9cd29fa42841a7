"""Verification of the stored log against itself and every signed checkpoint it published.

Recomputes every leaf from the stored event (so an edited payload, type, stream, version, order or
recorded_at shows), checks positions run 1..n without gaps and every event has exactly one leaf,
checks each checkpoint's signature, and recomputes the tree root at each checkpoint's size and
checks it against the checkpoint (so each checkpoint is also consistent with the next: both roots
come from the one sequence of leaves). Checkpoints an auditor saved elsewhere are checked the same
way: the database's own checkpoints can be rewritten with its events, those cannot.

A problem at a position names the event there and its case (read from the stored event, or, if
its row is gone, the event id its leaf row keeps), so an auditor can go straight to the case.
"""

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from ledger.checkpoints import CheckpointError, verify_note
from ledger.leaves import leaf_hash_of
from ledger.merkle import EMPTY_ROOT, RootAccumulator
from ledger.recorders.base import LedgerRecorder, LoggedEvent


@dataclass(frozen=True)
class Verification:
    events: int
    checkpoint_size: int | None = None
    first_bad_position: int | None = None
    problem: str | None = None
    checkpoints: int = 0
    event_id: str | None = None  # of the first bad position, when known
    case_id: str | None = None
    saved: int = 0  # checkpoints saved elsewhere (given by the auditor) that the log agrees with

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify_log(
    store: LedgerRecorder,
    public_key: bytes | None,
    origin: str | None,
    progress: Callable[[int], None] | None = None,
    saved: Sequence[str] = (),
) -> Verification:
    """The log checked against itself, its published checkpoints, and the `saved` checkpoint notes
    an auditor kept (each must be signed by `public_key` as `origin`): a log rewritten together
    with its checkpoint table still disagrees with a checkpoint kept outside the database."""
    published = store.checkpoints()  # oldest first
    checkpoint = published[-1] if published else None
    due = {stored.tree_size: stored for stored in published}
    roots = RootAccumulator()
    last_recorded_at = ""

    def bad(position: int | None, problem: str) -> Verification:
        event_id = None if position is None else store.leaf_event_id(position)
        problem = problem if position is None else named(problem, event_id, None)
        return Verification(roots.size, checkpoint.tree_size if checkpoint else None, position, problem, 0, event_id)

    # The checkpoints first: if a row was edited, say so, rather than blame the events.
    if public_key is not None and origin is not None:
        for stored in published:
            try:
                signed = verify_note(stored.note, public_key, origin)
            except CheckpointError as error:
                return bad(None, f"the checkpoint at tree size {stored.tree_size} is not validly signed: {error}")
            if signed != (stored.tree_size, stored.root_hash, stored.timestamp):
                return bad(None, f"the checkpoint at tree size {stored.tree_size} differs from its signed note")
    if 0 in due and due[0].root_hash != EMPTY_ROOT:
        return bad(None, "the empty checkpoint's root is wrong")
    vouched: dict[int, bytes] = {}  # tree size → the root a saved checkpoint vouches for
    for number, note in enumerate(saved, 1):
        try:
            size, root, _ = verify_note(note, public_key or b"", origin or "")
        except CheckpointError as error:
            return bad(None, f"saved checkpoint {number} is not signed by this ledger's key as {origin}: {error}")
        if vouched.setdefault(size, root) != root:
            return bad(None, f"two saved checkpoints at tree size {size} have different roots: the log was forked")
    if vouched.get(0, EMPTY_ROOT) != EMPTY_ROOT:
        return bad(None, "the saved checkpoint at tree size 0 has a root no empty log has")

    for logged in store.iter_logged():
        position = roots.size + 1
        problem = entry_problem(logged, position, last_recorded_at)
        if problem is not None:
            event_id, case_id = entry_names(store, logged, position)
            return Verification(
                roots.size, checkpoint.tree_size if checkpoint else None, position, named(problem, event_id, case_id), 0, event_id, case_id
            )
        assert logged.leaf_hash is not None and logged.recorded_at is not None
        recomputed = logged.leaf_hash
        last_recorded_at = logged.recorded_at
        roots.append(recomputed)
        if roots.size in due and roots.root() != due[roots.size].root_hash:
            return bad(
                None,
                f"the tree of the first {roots.size} events does not match the signed checkpoint at tree size "
                f"{roots.size}: events and leaves were rewritten together",
            )
        if roots.size in vouched and roots.root() != vouched[roots.size]:
            return bad(
                None,
                f"the tree of the first {roots.size} events does not match the saved checkpoint at tree size "
                f"{roots.size}: the log was rewritten after that checkpoint was signed",
            )
        if progress and roots.size % 1000 == 0:
            progress(roots.size)

    orphans = store.leaves_without_events()
    if orphans:
        return bad(orphans[0], f"position {orphans[0]} has a leaf but its event is gone")
    if vouched and max(vouched) > roots.size:
        return bad(None, f"the log ends at {roots.size} but a saved checkpoint covers {max(vouched)}: events were removed")
    if checkpoint is None:
        return Verification(roots.size, saved=len(saved))
    if roots.size < checkpoint.tree_size:
        return bad(roots.size + 1, f"the log ends at {roots.size} but the checkpoint covers {checkpoint.tree_size}")
    return Verification(roots.size, checkpoint.tree_size, checkpoints=len(published), saved=len(saved))


def entry_problem(logged: LoggedEvent, position: int, last_recorded_at: str) -> str | None:
    """What is wrong with the log's entry expected at `position`, or None: its event and its leaf
    must both be there, the leaf recomputed from the stored event must be the stored one, and it
    may not be recorded before the entry preceding it."""
    if logged.position != position:
        return f"position {position} is missing: the log jumps to {logged.position}"
    if logged.leaf_hash is None or logged.recorded_at is None:
        return f"position {position} has an event but no leaf"
    stored = logged.stored
    try:
        recomputed = leaf_hash_of(position, stored.originator_id, stored.originator_version, stored.topic, logged.recorded_at, stored.state)
    except (TypeError, ValueError, AttributeError):  # a NULL, or text where the ledger writes bytes
        return f"position {position}'s stored event is not in the form the ledger writes: the event was altered"
    if recomputed != logged.leaf_hash:
        return f"position {position} does not match its leaf: the event or its leaf was altered"
    if logged.recorded_at < last_recorded_at:
        return f"position {position} was recorded before the position preceding it"
    return None


class EntryNames(NamedTuple):
    """Who an entry says it is, as far as the database still tells."""

    event_id: str | None
    case_id: str | None


def entry_names(store: LedgerRecorder, logged: LoggedEvent, position: int) -> EntryNames:
    """(event id, case id) of the entry at `position` as the database holds it: the stored event's
    own (even if edited: what it claims now), or, its row gone, the event id its leaf row keeps."""
    if logged.position == position:
        try:
            state = json.loads(logged.stored.state)
            return EntryNames(str(state["event_id"]), str(state["case_id"]))
        except (ValueError, KeyError, TypeError):  # not the JSON the ledger writes: edited
            pass
    return EntryNames(store.leaf_event_id(position), None)


def named(problem: str, event_id: str | None, case_id: str | None) -> str:
    """The problem with the event and case it concerns, as far as they are known."""
    return f"{problem} (event {event_id or 'unknown'}, case {case_id or 'unknown'})"
