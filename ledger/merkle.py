"""RFC 6962 / RFC 9162 Merkle tree hashing, proofs and proof verification.

Standard library only: this module is copied verbatim into the offline bundle
verifier, which must run on a bare Python install.

Leaf indexes are 0-based; hashes are 32-byte ``bytes``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence

HASH_SIZE = 32
EMPTY_ROOT: bytes = hashlib.sha256(b"").digest()

# MTH of leaves [start, end), end > start. Proof generators take one of these so the
# caller decides where subtree hashes come from (cache, database, recomputation).
SubtreeHash = Callable[[int, int], bytes]


class ProofError(ValueError):
    """A proof is malformed for the claimed index and tree size."""


def hash_leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """Largest power of two strictly below ``n`` (RFC 6962's k)."""
    if n < 2:
        raise ValueError(f"split_point needs n >= 2, got {n}")
    return 1 << ((n - 1).bit_length() - 1)


class RootAccumulator:
    """Streaming Merkle root: O(log n) memory, one perfect subtree per set bit of size.

    The RFC 6962 tree of n leaves is exactly the right-fold of the perfect subtrees
    given by the binary decomposition of n, largest (leftmost) first.
    """

    def __init__(self) -> None:
        self._size = 0
        self._peaks: list[bytes] = []  # perfect subtree roots, left to right

    @property
    def size(self) -> int:
        return self._size

    def append(self, leaf_hash: bytes) -> None:
        # Guards against the classic bug of appending raw leaf data instead of its hash.
        if len(leaf_hash) != HASH_SIZE:
            raise ValueError(f"leaf hash must be {HASH_SIZE} bytes, got {len(leaf_hash)}")
        node, carry = leaf_hash, self._size
        while carry & 1:  # binary increment: each trailing 1 bit merges two equal subtrees
            node = hash_children(self._peaks.pop(), node)
            carry >>= 1
        self._peaks.append(node)
        self._size += 1

    @property
    def peaks(self) -> tuple[bytes, ...]:
        """The perfect subtrees' roots, left to right: all it takes to go on from this size."""
        return tuple(self._peaks)

    @classmethod
    def resumed(cls, size: int, peaks: Sequence[bytes]) -> "RootAccumulator":
        """The accumulator of a tree of `size` leaves, from its `peaks` (one per set bit of size)."""
        if size < 0 or len(peaks) != bin(size).count("1") or any(len(peak) != HASH_SIZE for peak in peaks):
            raise ValueError(f"a tree of {size} leaves has {bin(max(size, 0)).count('1')} peaks of {HASH_SIZE} bytes")
        accumulator = cls()
        accumulator._size, accumulator._peaks = size, list(peaks)
        return accumulator

    def root(self) -> bytes:
        if not self._peaks:
            return EMPTY_ROOT
        root = self._peaks[-1]
        for peak in reversed(self._peaks[:-1]):
            root = hash_children(peak, root)
        return root


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH over already-hashed leaves."""
    acc = RootAccumulator()
    for leaf_hash in leaf_hashes:
        acc.append(leaf_hash)
    return acc.root()


def subtree_from_leaves(leaf_hashes: Sequence[bytes]) -> SubtreeHash:
    """A SubtreeHash that recomputes each range from ``leaf_hashes`` (small trees, tests)."""
    return lambda start, end: root_of(leaf_hashes[start:end])


def inclusion_proof(index: int, size: int, subtree: SubtreeHash) -> list[bytes]:
    """RFC 6962 PATH(index, D[size]), ordered from the leaf up."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:  # descend from the root, collecting the sibling at each level
        mid = start + split_point(end - start)
        if index < mid:
            path.append(subtree(mid, end))
            end = mid
        else:
            path.append(subtree(start, mid))
            start = mid
    path.reverse()
    return path


def consistency_proof(first: int, second: int, subtree: SubtreeHash) -> list[bytes]:
    """RFC 6962 PROOF(first, D[second]) = SUBPROOF(first, D[second], true)."""
    if not 0 < first <= second:
        raise ValueError(f"consistency proof needs 0 < first <= second, got {first}, {second}")
    proof: list[bytes] = []
    start, end, m = 0, second, first
    first_is_subtree = True  # SUBPROOF's b flag: still on the left edge of the tree
    while end - start != m:
        mid = start + split_point(end - start)
        if m <= mid - start:
            proof.append(subtree(mid, end))
            end = mid
        else:
            proof.append(subtree(start, mid))
            start, m, first_is_subtree = mid, m - (mid - start), False
    if not first_is_subtree:
        # The old tree's root is not a node of the new tree, so its last subtree is sent.
        proof.append(subtree(start, end))
    proof.reverse()
    return proof


def _check_hashes(proof: Sequence[bytes]) -> None:
    for i, node in enumerate(proof):
        if len(node) != HASH_SIZE:
            raise ProofError(f"proof element {i} is {len(node)} bytes, not {HASH_SIZE}")


def _path_sides(fn: int, sn: int, path: Sequence[bytes]) -> Iterator[tuple[bytes, bool]]:
    """Each node of a proof's path, and whether it is the left sibling of the node hashed so far:
    RFC 9162's walk up the tree from node fn of the last node sn, the same in both verifications
    (sections 2.1.3.2 and 2.1.4.2). ProofError if the path is longer or shorter than the walk."""
    for node in path:
        if sn == 0:
            raise ProofError(f"proof has more than the path's elements ({len(path)})")
        left = bool(fn & 1) or fn == sn
        yield node, left
        if left:
            while fn and not fn & 1:  # skip levels where the node has no right sibling
                fn >>= 1
                sn >>= 1
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(f"proof has fewer than the path's elements ({len(path)})")


def root_from_inclusion(index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes]) -> bytes:
    """The root implied by an inclusion proof (RFC 9162 section 2.1.3.2)."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    if len(leaf_hash) != HASH_SIZE:
        raise ProofError(f"leaf hash is {len(leaf_hash)} bytes, not {HASH_SIZE}")
    _check_hashes(proof)
    r = leaf_hash
    for p, left in _path_sides(index, size - 1, proof):
        r = hash_children(p, r) if left else hash_children(r, p)
    return r


def verify_inclusion(
    index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    try:
        return root_from_inclusion(index, size, leaf_hash, proof) == root
    except ProofError:
        return False


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 section 2.1.4.2."""
    if not 0 <= first <= second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof  # the empty tree is a prefix of every tree
    if not proof or any(len(node) != HASH_SIZE for node in proof):
        return False
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)  # the old root is a node of the new tree, so it is implied
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    try:
        for c, left in _path_sides(fn, sn, path[1:]):
            if left:
                fr = hash_children(c, fr)
                sr = hash_children(c, sr)
            else:
                sr = hash_children(sr, c)
    except ProofError:
        return False
    return fr == first_root and sr == second_root
