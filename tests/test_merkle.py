"""RFC 6962 Merkle tree: published vectors, corrupted-proof probes, and properties.

The probes mirror corruptInclusionProof / corruptConsistencyProof in
transparency-dev/merkle proof/verify_test.go, the source of tests/vectors/rfc6962.json.
"""

import hashlib
import json
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.merkle import (
    EMPTY_ROOT,
    ProofError,
    RootAccumulator,
    SubtreeHash,
    consistency_proof,
    hash_children,
    hash_leaf,
    inclusion_proof,
    root_from_inclusion,
    root_of,
    split_point,
    subtree_from_leaves,
    verify_consistency,
    verify_inclusion,
)

VECTORS = json.loads((Path(__file__).parent / "vectors" / "rfc6962.json").read_text())
LEAF_DATA = [bytes.fromhex(d) for d in VECTORS["leaves"]]
LEAF_HASHES = [hash_leaf(d) for d in LEAF_DATA]
ROOTS = [bytes.fromhex(r) for r in VECTORS["roots"]]  # ROOTS[n - 1] is the root at size n
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


def _hashes(hexes: Sequence[str]) -> list[bytes]:
    return [bytes.fromhex(h) for h in hexes]


INCLUSION_VECTORS = [
    pytest.param(v["index"], v["tree_size"], _hashes(v["proof"]), id=f"{v['index']}-of-{v['tree_size']}")
    for v in VECTORS["inclusion_proofs"]
]
CONSISTENCY_VECTORS = [
    pytest.param(v["first"], v["second"], _hashes(v["proof"]), id=f"{v['first']}-to-{v['second']}")
    for v in VECTORS["consistency_proofs"]
]


def reference_mth(data: Sequence[bytes]) -> bytes:
    """MTH exactly as defined in RFC 6962 section 2.1, over raw leaf data."""
    if not data:
        return hashlib.sha256().digest()
    if len(data) == 1:
        return hashlib.sha256(b"\x00" + data[0]).digest()
    k = 1
    while k * 2 < len(data):
        k *= 2
    return hashlib.sha256(b"\x01" + reference_mth(data[:k]) + reference_mth(data[k:])).digest()


def _flip(proof: list[bytes], i: int, mask: int) -> list[bytes]:
    flipped = list(proof)
    flipped[i] = bytes([proof[i][0] ^ mask]) + proof[i][1:]
    return flipped


def _wrong_sizes(a: int, b: int, a_name: str, b_name: str) -> dict[str, tuple[int, int]]:
    """The probes' first five, the same for both proofs: the proof's two numbers, one of them off."""
    return {
        f"{a_name} - 1": (a - 1, b),
        f"{a_name} + 1": (a + 1, b),
        f"{a_name} ^ 2": (a ^ 2, b),
        f"{b_name} * 2": (a, b * 2),
        f"{b_name} // 2": (a, b // 2),
    }


def corrupt_inclusion_probes(
    index: int, size: int, leaf_hash: bytes, proof: list[bytes], root: bytes
) -> dict[str, tuple[int, int, bytes, list[bytes], bytes]]:
    probes = {name: (i, n, leaf_hash, proof, root) for name, (i, n) in _wrong_sizes(index, size, "index", "size").items()}
    probes |= {
        "wrong leaf": (index, size, b"WrongLeaf", proof, root),
        "empty root": (index, size, leaf_hash, proof, EMPTY_ROOT),
        "random root": (index, size, leaf_hash, proof, SOME_HASH),
        "trailing garbage": (index, size, leaf_hash, [*proof, b""], root),
        "trailing root": (index, size, leaf_hash, [*proof, root], root),
        "preceding garbage": (index, size, leaf_hash, [b"", *proof], root),
        "preceding root": (index, size, leaf_hash, [root, *proof], root),
    }
    for i in range(len(proof)):
        probes[f"proof[{i}] bit 3 flipped"] = (index, size, leaf_hash, _flip(proof, i, 8), root)
    if proof:
        probes["removed component"] = (index, size, leaf_hash, proof[:-1], root)
    if len(proof) > 1:
        probes["inserted component"] = (index, size, leaf_hash, [proof[0], SOME_HASH, *proof[1:]], root)
    return probes


def corrupt_consistency_probes(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: list[bytes]
) -> dict[str, tuple[int, int, bytes, bytes, list[bytes]]]:
    probes = {
        name: (m, n, first_root, second_root, proof) for name, (m, n) in _wrong_sizes(first, second, "first", "second").items()
    }
    probes |= {
        "wrong first root": (first, second, b"WrongRoot", second_root, proof),
        "wrong second root": (first, second, first_root, b"WrongRoot", proof),
        "swapped roots": (first, second, second_root, first_root, proof),
        "empty proof": (first, second, first_root, second_root, []),
        "trailing garbage": (first, second, first_root, second_root, [*proof, b""]),
        "trailing first root": (first, second, first_root, second_root, [*proof, first_root]),
        "trailing second root": (first, second, first_root, second_root, [*proof, second_root]),
        "preceding garbage": (first, second, first_root, second_root, [b"", *proof]),
        "preceding first root": (first, second, first_root, second_root, [first_root, *proof]),
        "preceding second root": (first, second, first_root, second_root, [second_root, *proof]),
        "preceding proof[0]": (first, second, first_root, second_root, [proof[0], *proof]),
        "truncated proof": (first, second, first_root, second_root, proof[:-1]),
    }
    for i in range(len(proof)):
        probes[f"proof[{i}] bit 4 flipped"] = (first, second, first_root, second_root, _flip(proof, i, 16))
    return probes


def test_hashes_use_rfc6962_domain_separation_prefixes() -> None:
    assert EMPTY_ROOT == hashlib.sha256(b"").digest()
    assert hash_leaf(b"abc") == hashlib.sha256(b"\x00abc").digest()
    assert hash_children(b"L" * 32, b"R" * 32) == hashlib.sha256(b"\x01" + b"L" * 32 + b"R" * 32).digest()


@pytest.mark.parametrize(("n", "k"), [(2, 1), (3, 2), (4, 2), (5, 4), (8, 4), (9, 8), (2**40 + 1, 2**40)])
def test_split_point_is_the_largest_power_of_two_below_n(n: int, k: int) -> None:
    assert split_point(n) == k


@pytest.mark.parametrize("n", [-1, 0, 1])
def test_split_point_is_undefined_below_two(n: int) -> None:
    with pytest.raises(ValueError):
        split_point(n)


def test_empty_tree_root_is_the_hash_of_nothing() -> None:
    assert root_of([]) == RootAccumulator().root() == EMPTY_ROOT


def test_roots_match_published_vectors_for_every_size() -> None:
    acc = RootAccumulator()
    for size, (leaf_hash, expected) in enumerate(zip(LEAF_HASHES, ROOTS, strict=True), start=1):
        acc.append(leaf_hash)
        assert acc.size == size
        assert acc.root() == root_of(LEAF_HASHES[:size]) == reference_mth(LEAF_DATA[:size]) == expected


def test_accumulator_rejects_raw_data_instead_of_a_leaf_hash() -> None:
    with pytest.raises(ValueError):
        RootAccumulator().append(b"raw leaf data")


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_VECTORS)
def test_published_inclusion_proof_verifies_and_every_corruption_is_rejected(
    index: int, size: int, proof: list[bytes]
) -> None:
    leaf_hash, root = LEAF_HASHES[index], ROOTS[size - 1]
    assert root_from_inclusion(index, size, leaf_hash, proof) == root
    assert verify_inclusion(index, size, leaf_hash, proof, root)
    probes = corrupt_inclusion_probes(index, size, leaf_hash, proof, root)
    assert [desc for desc, args in probes.items() if verify_inclusion(*args)] == []


@pytest.mark.parametrize(
    ("prove", "smaller", "larger", "expected"),
    [pytest.param(inclusion_proof, *v.values, id=f"inclusion-{v.id}") for v in INCLUSION_VECTORS]
    + [pytest.param(consistency_proof, *v.values, id=f"consistency-{v.id}") for v in CONSISTENCY_VECTORS],
)
def test_inclusion_and_consistency_proofs_match_published_vectors(
    prove: Callable[[int, int, SubtreeHash], list[bytes]], smaller: int, larger: int, expected: list[bytes]
) -> None:
    """An inclusion proof of leaf `smaller` in a tree of `larger` leaves; a consistency proof of the
    first `smaller` leaves with the first `larger`."""
    assert prove(smaller, larger, subtree_from_leaves(LEAF_HASHES)) == expected


@pytest.mark.parametrize(("first", "second", "proof"), CONSISTENCY_VECTORS)
def test_published_consistency_proof_verifies_and_every_corruption_is_rejected(
    first: int, second: int, proof: list[bytes]
) -> None:
    first_root, second_root = ROOTS[first - 1], ROOTS[second - 1]
    assert verify_consistency(first, second, first_root, second_root, proof)
    if proof:  # as upstream: trivial (empty) proofs have no components to corrupt
        probes = corrupt_consistency_probes(first, second, first_root, second_root, proof)
        assert [desc for desc, args in probes.items() if verify_consistency(*args)] == []


def test_single_leaf_tree_root_is_the_leaf_hash_with_an_empty_proof() -> None:
    leaf_hash = hash_leaf(b"data")
    assert verify_inclusion(0, 1, leaf_hash, [], leaf_hash)
    assert not verify_inclusion(0, 1, b"", [], leaf_hash)
    assert not verify_inclusion(0, 1, leaf_hash, [], b"")
    assert not verify_inclusion(0, 1, b"", [], b"")


@pytest.mark.parametrize(("index", "size"), [(0, 0), (1, 0), (2, 1), (-1, 1)])
def test_inclusion_verification_rejects_indexes_outside_the_tree(index: int, size: int) -> None:
    with pytest.raises(ProofError):
        root_from_inclusion(index, size, SOME_HASH, [])
    assert not verify_inclusion(index, size, SOME_HASH, [], SOME_HASH)


def test_root_from_inclusion_raises_proof_error_on_a_proof_of_the_wrong_length() -> None:
    proof = inclusion_proof(3, 8, subtree_from_leaves(LEAF_HASHES))
    for wrong in (proof[:-1], [*proof, SOME_HASH], [proof[0][:31], *proof[1:]]):
        with pytest.raises(ProofError):
            root_from_inclusion(3, 8, LEAF_HASHES[3], wrong)


R1, R2 = b"don't care 1", b"don't care 2"


@pytest.mark.parametrize(
    ("first", "second", "first_root", "second_root", "proof", "consistent"),
    [
        (0, 0, R1, R2, [], False),
        (1, 1, R1, R2, [], False),
        (0, 0, R1, R1, [], True),  # an empty tree is a prefix of every tree
        (0, 1, R1, R2, [], True),
        (1, 1, R2, R2, [], True),
        (1, 0, R1, R2, [], False),  # time travel to the past
        (2, 1, R1, R2, [], False),
        (1, 2, R1, R2, [], False),  # growth needs a non-empty proof
        (0, 0, EMPTY_ROOT, R2, [], False),
        (1, 1, EMPTY_ROOT, R2, [], False),
        (0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),  # equal roots, non-empty proof
        (0, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
        (1, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
    ],
)
def test_consistency_verification_edge_cases_follow_upstream(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: list[bytes], consistent: bool
) -> None:
    assert verify_consistency(first, second, first_root, second_root, proof) is consistent


def test_proof_generators_reject_impossible_ranges() -> None:
    subtree = subtree_from_leaves(LEAF_HASHES)
    for index, size in [(-1, 8), (8, 8), (0, 0)]:
        with pytest.raises(ValueError):
            inclusion_proof(index, size, subtree)
    for first, second in [(0, 8), (-1, 8), (5, 4)]:
        with pytest.raises(ValueError):
            consistency_proof(first, second, subtree)


def test_proofs_fetch_exactly_one_non_empty_in_range_subtree_per_element() -> None:
    calls: list[tuple[int, int]] = []

    def recording(start: int, end: int) -> bytes:
        calls.append((start, end))
        return SOME_HASH

    assert len(inclusion_proof(5, 7, recording)) == len(calls)
    assert all(0 <= start < end <= 7 for start, end in calls)
    calls.clear()
    assert len(consistency_proof(3, 7, recording)) == len(calls)
    assert all(0 <= start < end <= 7 for start, end in calls)


def _tree(size: int, salt: bytes) -> tuple[list[bytes], list[bytes]]:
    data = [salt + i.to_bytes(2, "big") for i in range(size)]
    return data, [hash_leaf(d) for d in data]


def _cached_subtree(leaf_hashes: list[bytes]) -> SubtreeHash:
    return cache(subtree_from_leaves(leaf_hashes))


def _prefix_roots(leaf_hashes: list[bytes]) -> list[bytes]:
    """roots[n] is the root of the first n leaves."""
    acc = RootAccumulator()
    roots = [acc.root()]
    for leaf_hash in leaf_hashes:
        acc.append(leaf_hash)
        roots.append(acc.root())
    return roots


def _altered(leaf_hashes: list[bytes], at: int) -> list[bytes]:
    return [*leaf_hashes[:at], hash_leaf(b"altered"), *leaf_hashes[at + 1 :]]


sizes = st.integers(min_value=1, max_value=300)
salts = st.binary(max_size=8)
leaf_trees = st.builds(lambda size, salt: _tree(size, salt)[1], sizes, salts)  # a tree's leaf hashes


@settings(deadline=None)
@given(size=sizes, salt=salts)
def test_root_of_accumulator_and_rfc_reference_agree(size: int, salt: bytes) -> None:
    data, leaf_hashes = _tree(size, salt)
    acc = RootAccumulator()
    for leaf_hash in leaf_hashes:
        acc.append(leaf_hash)
    assert root_of(leaf_hashes) == acc.root() == reference_mth(data)


@settings(deadline=None)
@given(leaf_hashes=leaf_trees, data=st.data())
def test_every_inclusion_proof_verifies_and_fails_against_a_different_tree(leaf_hashes: list[bytes], data: st.DataObject) -> None:
    size = len(leaf_hashes)
    root, subtree = root_of(leaf_hashes), _cached_subtree(leaf_hashes)
    other_root = root_of(_altered(leaf_hashes, data.draw(st.integers(0, size - 1))))
    for index in range(size):
        proof = inclusion_proof(index, size, subtree)
        assert verify_inclusion(index, size, leaf_hashes[index], proof, root)
        assert not verify_inclusion(index, size, leaf_hashes[index], proof, other_root)


@settings(deadline=None)
@given(leaf_hashes=leaf_trees, data=st.data())
def test_every_consistency_proof_verifies_and_fails_against_a_different_tree(leaf_hashes: list[bytes], data: st.DataObject) -> None:
    second = len(leaf_hashes)
    subtree = _cached_subtree(leaf_hashes)
    altered_at = data.draw(st.integers(0, second - 1))
    roots, other_roots = _prefix_roots(leaf_hashes), _prefix_roots(_altered(leaf_hashes, altered_at))
    for first in range(1, second + 1):
        proof = consistency_proof(first, second, subtree)
        assert verify_consistency(first, second, roots[first], roots[second], proof)
        assert not verify_consistency(first, second, roots[first], other_roots[second], proof)
        if altered_at < first:
            assert not verify_consistency(first, second, other_roots[first], roots[second], proof)


def test_an_accumulator_resumed_from_its_peaks_goes_on_as_the_one_it_came_from() -> None:
    leaves = [hashlib.sha256(bytes([i])).digest() for i in range(37)]
    for size in (0, 1, 5, 16, 23):
        before = RootAccumulator()
        for leaf in leaves[:size]:
            before.append(leaf)
        resumed = RootAccumulator.resumed(size, before.peaks)
        for leaf in leaves[size:]:
            resumed.append(leaf)
        assert resumed.root() == root_of(leaves), size
    with pytest.raises(ValueError):
        RootAccumulator.resumed(5, before.peaks[:1])
