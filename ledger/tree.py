"""The log's Merkle tree, read from the leaves table, with its large perfect subtrees cached.

A perfect, aligned subtree of an append-only log never changes once complete, so its hash is
computed once and kept. Those of at least TILE leaves are cached (about 2 × n / TILE hashes:
a few hundred kilobytes at a million leaves); smaller ranges are read and hashed on demand, so a
proof costs O(log n) cached lookups plus at most a few small reads.
"""

import threading
from collections.abc import Callable

from ledger import merkle

TILE = 256

# Leaf hashes of positions first..last inclusive (position = leaf index + 1).
LeafReader = Callable[[int, int], list[bytes]]


class LogTree:
    def __init__(self, read_leaves: LeafReader) -> None:
        self._read_leaves = read_leaves
        self._perfect: dict[tuple[int, int], bytes] = {}
        self._lock = threading.Lock()

    def subtree(self, start: int, end: int) -> bytes:
        """MTH of leaf indexes [start, end)."""
        size = end - start
        if size >= TILE and size & (size - 1) == 0 and start % size == 0:
            return self._perfect_subtree(start, end)
        if size <= TILE:
            return merkle.root_of(self._leaves(start, end))
        mid = start + merkle.split_point(size)
        return merkle.hash_children(self.subtree(start, mid), self.subtree(mid, end))

    def _perfect_subtree(self, start: int, end: int) -> bytes:
        cached = self._perfect.get((start, end))
        if cached is not None:
            return cached
        if end - start == TILE:
            node = merkle.root_of(self._leaves(start, end))
        else:
            mid = (start + end) // 2
            node = merkle.hash_children(self._perfect_subtree(start, mid), self._perfect_subtree(mid, end))
        with self._lock:
            self._perfect[(start, end)] = node
        return node

    def _leaves(self, start: int, end: int) -> list[bytes]:
        leaves = self._read_leaves(start + 1, end)
        if len(leaves) != end - start:
            raise LookupError(f"the log has {len(leaves)} leaves at positions {start + 1}..{end}, not {end - start}")
        return leaves

    def root(self, size: int) -> bytes:
        return self.subtree(0, size) if size else merkle.EMPTY_ROOT

    def inclusion_proof(self, position: int, tree_size: int) -> list[bytes]:
        return merkle.inclusion_proof(position - 1, tree_size, self.subtree)

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        return merkle.consistency_proof(first, second, self.subtree)
