"""The log's signed checkpoints and the proofs against them: the latest, one at a given size, every
one, the current head newly signed, a checkpoint with its witnesses' cosignatures, and the Merkle
root, inclusion and consistency proofs an auditor checks a checkpoint with.

Callers ask this service; none reaches through it into the recorder, the tree or the signer.
"""

from datetime import UTC, datetime

from domain.values import utc_text
from ledger.checkpoints import Signer
from ledger.recorders.base import LedgerRecorder
from ledger.recorders.cosignature_records import StoredCosignature
from ledger.recorders.rows import StoredCheckpoint
from ledger.tree import LogTree
from ledger.witnessing import cosigned_note


class SignedHeads:
    def __init__(self, store: LedgerRecorder, tree: LogTree, signer: Signer | None) -> None:
        self._store = store
        self._tree = tree
        self.signer = signer

    @property
    def public_key(self) -> bytes | None:
        """The log's Ed25519 public key (raw), or None without a signing key."""
        return None if self.signer is None else self.signer.public_key_raw

    @property
    def origin(self) -> str | None:
        """The log's origin line, as its checkpoints name it, or None without a signing key."""
        return None if self.signer is None else self.signer.origin

    def published(self) -> list[StoredCheckpoint]:
        """Every checkpoint signed so far, by tree size."""
        return self._store.checkpoints()

    def last_signed(self) -> StoredCheckpoint | None:
        """The latest checkpoint as stored, signing nothing (latest() signs a grown head)."""
        found = self._store.checkpoints(latest=True)
        return found[0] if found else None

    def cosigned(self, checkpoint: StoredCheckpoint) -> tuple[str, list[StoredCosignature]]:
        """The checkpoint's note with every cosignature collected appended, and those cosignatures."""
        return cosigned_note(self._store, checkpoint)

    def root(self, tree_size: int) -> bytes:
        return self._tree.root(tree_size)

    def leaf_hash(self, position: int) -> bytes:
        return self._tree.leaf_hash(position)

    def inclusion_proof(self, position: int, tree_size: int) -> list[bytes]:
        return self._tree.inclusion_proof(position, tree_size)

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        return self._tree.consistency_proof(first, second)

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
