"""The log's Merkle tree, read from the leaves table, with its large perfect subtrees cached.

A perfect, aligned subtree of an append-only log never changes once complete, so its hash is
computed once and kept. Those of at least TILE leaves are cached (about 2 × n / TILE hashes:
a few hundred kilobytes at a million leaves). Every smaller node lies inside one aligned tile of
TILE leaves, so a proof reads a whole tile once and takes all its small nodes from it; leaves
never change, so the last few tiles read are kept (the log's last tile only as far as it was read).
A proof costs O(log n) cached lookups plus a read or two.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable

from ledger import merkle

TILE = 256
KEPT_TILES = 64

# Leaf hashes of positions first..last inclusive (position = leaf index + 1).
LeafReader = Callable[[int, int], list[bytes]]


class LogTree:
    def __init__(self, read_leaves: LeafReader) -> None:
        self._read_leaves = read_leaves
        self._perfect: dict[tuple[int, int], bytes] = {}
        self._tiles: OrderedDict[int, list[bytes]] = OrderedDict()  # tile start -> its leaves, gapless
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
        """Leaf hashes of indexes [start, end): a range inside one tile, as every node below TILE is."""
        tile = start - start % TILE
        with self._lock:
            leaves = self._tiles.get(tile)
            if leaves is not None:
                self._tiles.move_to_end(tile)
        if leaves is None or len(leaves) < end - tile:
            leaves = self._read_leaves(tile + 1, tile + TILE)
            # A short tile is the log's last one, or has a row missing: only a count of exactly
            # its first len(leaves) positions tells which (a missing row would shift the others).
            if len(leaves) < TILE and len(self._read_leaves(tile + 1, tile + len(leaves))) != len(leaves):
                raise LookupError(f"a leaf is missing among positions {tile + 1}..{tile + len(leaves)}")
            with self._lock:
                self._tiles[tile] = leaves
                while len(self._tiles) > KEPT_TILES:
                    self._tiles.popitem(last=False)
        if len(leaves) < end - tile:
            raise LookupError(f"the log has {len(leaves)} leaves at positions {tile + 1}..{tile + TILE}, fewer than {end - tile}")
        return leaves[start - tile : end - tile]

    def leaf_hash(self, position: int) -> bytes:
        return self._leaves(position - 1, position)[0]

    def root(self, size: int) -> bytes:
        return self.subtree(0, size) if size else merkle.EMPTY_ROOT

    def inclusion_proof(self, position: int, tree_size: int) -> list[bytes]:
        return merkle.inclusion_proof(position - 1, tree_size, self.subtree)

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        return merkle.consistency_proof(first, second, self.subtree)
