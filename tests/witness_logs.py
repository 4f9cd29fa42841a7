"""A toy log for the witness tests: leaves, roots, consistency proofs and signed checkpoints,
built from ledger/merkle.py and a real Signer, so a test can present a witness with the history
it likes (and a split view: two logs with the same key and origin, and different leaves)."""

import base64
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import merkle
from ledger.checkpoints import Signer
from ledger.vkeys import log_verifier_key

TIMESTAMP = "2026-12-04T20:00:00.000000Z"


@dataclass
class ToyLog:
    signer: Signer
    leaves: list[bytes] = field(default_factory=list)

    @classmethod
    def new(cls, origin: str = "ledger.test/ms-l", key: Ed25519PrivateKey | None = None) -> "ToyLog":
        return cls(Signer(key or Ed25519PrivateKey.generate(), origin))

    @property
    def vkey(self) -> str:
        return log_verifier_key(self.signer.origin, self.signer.public_key_raw)

    def grow(self, count: int, tag: str = "") -> None:
        start = len(self.leaves)
        self.leaves += [merkle.hash_leaf(f"{tag}{start + i}".encode()) for i in range(count)]

    def note(self, size: int | None = None) -> str:
        size = len(self.leaves) if size is None else size
        return self.signer.sign(size, merkle.root_of(self.leaves[:size]), TIMESTAMP).note

    def proof(self, first: int, second: int) -> list[bytes]:
        if first == 0 or first == second:
            return []
        return merkle.consistency_proof(first, second, merkle.subtree_from_leaves(self.leaves[:second]))

    def request(self, old: int, size: int | None = None, proof: list[bytes] | None = None) -> bytes:
        """An add-checkpoint body from `old` to `size` (default: all leaves), with the right proof
        unless one is given."""
        size = len(self.leaves) if size is None else size
        nodes = self.proof(old, size) if proof is None else proof
        lines = "".join(base64.b64encode(node).decode() + "\n" for node in nodes)
        return f"old {old}\n{lines}\n{self.note(size)}".encode()
