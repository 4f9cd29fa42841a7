"""Incremental verification: recompute the log from the last size verified to a signed checkpoint.

`ledger verify` recomputes every leaf of the whole log, which at millions of events takes
minutes; an auditor who checks the log every day wants to know that what was added since the last
check is sound, and that the tree still reaches the signed root. So each good verification stores
the tree's state (ledger/recorders/verification_records.py) and the next one goes on from it:
each entry after that size is checked as `ledger verify` checks it (ledger/verify.py's
entry_problem: its event and leaf there, the leaf recomputed from the stored event, recorded_at in
order), the signatures of the checkpoints in the range are checked, and the root at every
checkpoint's size in the range must be that checkpoint's. The outcome, good or bad, is stored
with who ran it and how long it took.
"""

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from domain.values import utc_text
from ledger.checkpoints import CheckpointError, verify_note
from ledger.merkle import HASH_SIZE, RootAccumulator
from ledger.recorders.base import LedgerRecorder
from ledger.recorders.rows import StoredCheckpoint
from ledger.recorders.verification_records import VerificationRecord
from ledger.signed_heads import SignedHeads
from ledger.verify import Verification, entry_names, entry_problem, named, verify_log

PAGE = 5000  # entries read at a time


def verify_since_last(
    store: LedgerRecorder,
    target: StoredCheckpoint,
    public_key: bytes | None,
    origin: str | None,
    verified_by: str,
    clock: Callable[[], float] = time.perf_counter,
    whole: bool = False,
) -> VerificationRecord:
    """Verifies positions after the last verified size (from position 1 if `whole`) up to
    `target`'s tree size, stores the outcome and returns it. A last verified size beyond the target
    (a checkpoint older than the last check) means starting again from position 1."""
    started, at = clock(), utc_text(datetime.now(UTC))
    since = None if whole else store.last_verified()
    if since is not None and since.tree_size > target.tree_size:
        since = None
    try:
        roots = RootAccumulator() if since is None else RootAccumulator.resumed(since.tree_size, _split(since.peaks))
    except ValueError:  # peaks that are no tree's: start again, and the signed roots will tell
        roots = RootAccumulator()
    from_size, last_recorded_at = roots.size, "" if since is None else since.last_recorded_at

    def outcome(problem: str | None = None, position: int | None = None) -> VerificationRecord:
        good = problem is None
        record = VerificationRecord(
            at,
            verified_by,
            from_size,
            target.tree_size,
            roots.root() if good else target.root_hash,
            b"".join(roots.peaks) if good else b"",
            last_recorded_at,
            round(clock() - started, 6),
            position,
            problem,
        )
        store.insert_verification(record)
        return record

    due = {c.tree_size: c for c in store.checkpoints() if from_size < c.tree_size <= target.tree_size}
    due[target.tree_size] = target
    if public_key is not None and origin is not None:
        for checkpoint in due.values():
            try:
                signed = verify_note(checkpoint.note, public_key, origin)
            except CheckpointError as error:
                return outcome(f"the checkpoint at tree size {checkpoint.tree_size} is not validly signed: {error}")
            if signed != (checkpoint.tree_size, checkpoint.root_hash, checkpoint.timestamp):
                return outcome(f"the checkpoint at tree size {checkpoint.tree_size} differs from its signed note")
    if from_size == target.tree_size and roots.root() != target.root_hash:
        return outcome(f"the tree verified before does not match the signed checkpoint at tree size {target.tree_size}")
    while roots.size < target.tree_size:
        page = store.logged_after(roots.size, min(PAGE, target.tree_size - roots.size))
        if not page:
            position = roots.size + 1
            return outcome(
                named(f"position {position} is missing: the log ends at {roots.size}", store.leaf_event_id(position), None), position
            )
        for logged in page:
            position = roots.size + 1
            problem = entry_problem(logged, position, last_recorded_at)
            if problem is not None:
                return outcome(named(problem, *entry_names(store, logged, position)), position)
            assert logged.leaf_hash is not None and logged.recorded_at is not None
            roots.append(logged.leaf_hash)
            last_recorded_at = logged.recorded_at
            checkpoint = due.get(roots.size)
            if checkpoint is not None and roots.root() != checkpoint.root_hash:
                return outcome(
                    f"the tree of the first {roots.size} events does not match the signed checkpoint at tree size "
                    f"{roots.size}: events and leaves were rewritten together"
                )
            if roots.size == target.tree_size:
                break
    return outcome()


def _split(peaks: bytes) -> list[bytes]:
    return [peaks[i : i + HASH_SIZE] for i in range(0, len(peaks), HASH_SIZE)]


class Integrity:
    """The log's integrity: the whole log verified (`ledger verify`), and as the auditors' page
    shows it, how the last verification went, up to where the log is verified, and verifying what
    was added since, up to the latest checkpoint."""

    def __init__(self, store: LedgerRecorder, signed_heads: SignedHeads) -> None:
        self._store = store
        self._heads = signed_heads

    def verify_all(
        self, origin: str | None, progress: Callable[[int], None] | None = None, saved: Sequence[str] = ()
    ) -> Verification:
        """Every leaf and the tree recomputed, every checkpoint checked with the log's key, and
        the `saved` checkpoint notes kept elsewhere (ledger/verify.py); `origin` is the one its
        checkpoints must name."""
        return verify_log(self._store, self._heads.public_key, origin, progress, saved)

    def latest_verification(self) -> VerificationRecord | None:
        """The outcome of the last verification run, good or bad."""
        return self._store.latest_verification()

    def last_verified(self) -> VerificationRecord | None:
        """The last good verification: the size the log is verified up to."""
        return self._store.last_verified()

    def verify_since_last(self, verified_by: str, whole: bool = False) -> VerificationRecord:
        """Verifies from the last verified size (or from position 1, `whole`) to the latest
        checkpoint (the head signed first if the log grew since), with the log's own key and
        origin, and stores the outcome."""
        target = self._heads.latest()
        if target is None:
            raise RuntimeError("this ledger has no signing key configured")
        return verify_since_last(self._store, target, self._heads.public_key, self._heads.origin, verified_by, whole=whole)
