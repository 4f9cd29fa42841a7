"""The log's signed checkpoints: the latest, one at a given size, or the current head newly signed."""

from datetime import UTC, datetime

from domain.values import utc_text
from ledger.checkpoints import Signer
from ledger.recorders.base import LedgerRecorder
from ledger.recorders.rows import StoredCheckpoint
from ledger.tree import LogTree


class SignedHeads:
    def __init__(self, store: LedgerRecorder, tree: LogTree, signer: Signer | None) -> None:
        self._store = store
        self._tree = tree
        self.signer = signer

    def at(self, tree_size: int) -> StoredCheckpoint | None:
        """The checkpoint signed at `tree_size`, if one was."""
        found = self._store.checkpoints(tree_size=tree_size)
        return found[0] if found else None

    def latest(self) -> StoredCheckpoint | None:
        """The latest checkpoint, signing the current head if the log has grown past it."""
        size = self._store.tree_size()
        latest = self._store.checkpoints(latest=True)
        if latest and latest[0].tree_size >= size:
            return latest[0]
        return self.sign(size)

    def sign(self, size: int | None = None) -> StoredCheckpoint:
        if self.signer is None:
            raise RuntimeError("this ledger has no signing key configured")
        size = self._store.tree_size() if size is None else size
        signed = self.signer.sign(size, self._tree.root(size), utc_text(datetime.now(UTC)))
        self._store.insert_checkpoint(StoredCheckpoint(size, signed.root_hash, signed.timestamp, signed.note))
        return self._store.checkpoints(tree_size=size)[0]  # whichever process's signature landed first
