"""Verification of the stored log against itself and every signed checkpoint it published.

Recomputes every leaf from the stored event (so an edited payload, type, stream, version, order or
recorded_at shows), checks positions run 1..n without gaps and every event has exactly one leaf,
checks each checkpoint's signature, and recomputes the tree root at each checkpoint's size and
checks it against the checkpoint (so each checkpoint is also consistent with the next: both roots
come from the one sequence of leaves).
"""

from collections.abc import Callable
from dataclasses import dataclass

from ledger.checkpoints import CheckpointError, verify_note
from ledger.leaves import leaf_hash_of
from ledger.merkle import EMPTY_ROOT, RootAccumulator
from ledger.recorders.base import LedgerRecorder


@dataclass(frozen=True)
class Verification:
    events: int
    checkpoint_size: int | None = None
    first_bad_position: int | None = None
    problem: str | None = None
    checkpoints: int = 0

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify_log(
    store: LedgerRecorder,
    public_key: bytes | None,
    origin: str | None,
    progress: Callable[[int], None] | None = None,
) -> Verification:
    published = store.checkpoints()  # oldest first
    checkpoint = published[-1] if published else None
    due = {stored.tree_size: stored for stored in published}
    roots = RootAccumulator()
    last_recorded_at = ""

    def bad(position: int | None, problem: str) -> Verification:
        return Verification(roots.size, checkpoint.tree_size if checkpoint else None, position, problem)

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

    for logged in store.iter_logged():
        position = roots.size + 1
        if logged.position != position:
            return bad(position, f"position {position} is missing: the log jumps to {logged.position}")
        if logged.leaf_hash is None or logged.recorded_at is None:
            return bad(position, f"position {position} has an event but no leaf")
        stored = logged.stored
        recomputed = leaf_hash_of(
            position, stored.originator_id, stored.originator_version, stored.topic, logged.recorded_at, stored.state
        )
        if recomputed != logged.leaf_hash:
            return bad(position, f"position {position} does not match its leaf: the event or its leaf was altered")
        if logged.recorded_at < last_recorded_at:
            return bad(position, f"position {position} was recorded before the position preceding it")
        last_recorded_at = logged.recorded_at
        roots.append(recomputed)
        if roots.size in due and roots.root() != due[roots.size].root_hash:
            return bad(
                None,
                f"the tree of the first {roots.size} events does not match the signed checkpoint at tree size "
                f"{roots.size}: events and leaves were rewritten together",
            )
        if progress and roots.size % 1000 == 0:
            progress(roots.size)

    orphans = store.leaves_without_events()
    if orphans:
        return bad(orphans[0], f"position {orphans[0]} has a leaf but its event is gone")
    if checkpoint is None:
        return Verification(roots.size)
    if roots.size < checkpoint.tree_size:
        return bad(roots.size + 1, f"the log ends at {roots.size} but the checkpoint covers {checkpoint.tree_size}")
    return Verification(roots.size, checkpoint.tree_size, checkpoints=len(published))
