"""The log's signed checkpoints and the proofs against them: the latest, one at a given size, every
one, the current head newly signed, a checkpoint with its witnesses' cosignatures, which of them
witnesses cosigned, and the Merkle root, inclusion and consistency proofs an auditor checks a
checkpoint with.

Callers ask this service; none reaches through it into the recorder, the tree or the signer.

A report computed at log position P is bound to the earliest checkpoint at or after P that the
witnesses cosigned: its tree contains the first P entries (a consistency proof from P to it shows
it), so their cosignatures vouch that the operator shows everyone the history the report was
computed from. A witness cosigns only the checkpoint the ledger sends it, the latest, so once the
ledger has moved past a checkpoint its witnesses are final.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from domain.errors import LedgerError
from domain.values import utc_text
from ledger.checkpoints import CheckpointError, Signer, SigningKeyMismatch, verify_note
from ledger.recorders.base import LedgerRecorder
from ledger.recorders.cosignature_records import StoredCosignature
from ledger.recorders.rows import StoredCheckpoint
from ledger.tree import LogTree
from ledger.witnessing import cosigned_note


class NotYetWitnessed(LedgerError):
    """No checkpoint at or after the position has the quorum of cosignatures asked for (yet)."""

    def __init__(self, position: int, quorum: int) -> None:
        super().__init__(
            f"refused: no checkpoint at or after log position {position} is cosigned by {quorum} "
            f"witness{'es' if quorum != 1 else ''} yet (see GET /v1/checkpoint and /healthz); nothing was written"
        )


@dataclass(frozen=True, slots=True)
class Witnessed:
    """A checkpoint (by tree size and root hash) and the witnesses, by name, that cosigned it."""

    tree_size: int
    root_hash: str
    witnesses: tuple[str, ...]

    def as_json(self) -> dict[str, object]:
        return {"tree_size": self.tree_size, "root_hash": self.root_hash, "witnesses": list(self.witnesses)}


# What a report says of a point no witnessed checkpoint covers yet.
NOT_YET_WITNESSED: dict[str, object] = {"tree_size": None, "root_hash": None, "witnesses": []}


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

    def witnessed(self, position: int, quorum: int = 1) -> Witnessed | None:
        """The earliest checkpoint at or after `position` that `quorum` witnesses cosigned, with
        every witness that cosigned it; None if there is none yet ("not yet witnessed")."""
        size = self._store.first_cosigned_from(position, quorum)
        if size is None:
            return None
        checkpoint = self.at(size)
        if checkpoint is None:  # a cosignature stored without its checkpoint: nothing vouched for
            return None
        witnesses = tuple(sorted({c.witness for c in self._store.cosignatures(size)}))
        return Witnessed(size, checkpoint.root_hash.hex(), witnesses)

    def check_signer(self) -> None:
        """Raises SigningKeyMismatch unless the latest stored checkpoint verifies with this signer's
        key as its origin: a checkpoint signed by another key would break every verifier's chain."""
        last = self.last_signed()
        if self.signer is None or last is None:
            return
        try:
            verify_note(last.note, self.signer.public_key_raw, self.signer.origin)
        except CheckpointError:
            raise SigningKeyMismatch(
                f"the log's latest checkpoint (tree size {last.tree_size}) does not verify with the signing key file's "
                f"key as {self.signer.origin}: set LEDGER_SIGNING_KEY_FILE (and LEDGER_ORIGIN) to what its checkpoints "
                "were signed with, or run `ledger verify` if that is the key; nothing was signed"
            ) from None

    def sign(self, size: int | None = None) -> StoredCheckpoint:
        if self.signer is None:
            raise RuntimeError("this ledger has no signing key configured")
        self.check_signer()
        size = self._store.tree_size() if size is None else size
        signed = self.signer.sign(size, self._tree.root(size), utc_text(datetime.now(UTC)))
        self._store.insert_checkpoint(StoredCheckpoint(size, signed.root_hash, signed.timestamp, signed.note))
        return self._store.checkpoints(tree_size=size)[0]  # whichever process's signature landed first
