"""The leaf encoding: a compact JSON array any auditor can recompute with a standard library."""

import hashlib
import json

from hypothesis import given
from hypothesis import strategies as st

from ledger.leaves import leaf_hash_of, leaf_input, next_recorded_at
from ledger.merkle import hash_leaf

# Any leaf's fields, drawn for each argument of the leaf input (the server's and the verifier's).
any_leaf_fields = given(
    position=st.integers(min_value=1, max_value=2**62),
    stream=st.uuids().map(str) | st.text(max_size=40),
    version=st.integers(min_value=1, max_value=2**40),
    event_type=st.text(max_size=40),
    recorded_at=st.text(max_size=30),
    payload=st.binary(max_size=200),
)


def published_leaf_input(position: int, stream: str, version: int, event_type: str, recorded_at: str, payload: bytes) -> bytes:
    """The leaf input by the published formula: the compact JSON array, the payload as its SHA-256."""
    return json.dumps(
        [position, stream, version, event_type, recorded_at, hashlib.sha256(payload).hexdigest()],
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()


@any_leaf_fields
def test_the_leaf_input_is_byte_for_byte_the_compact_json_array(
    position: int, stream: str, version: int, event_type: str, recorded_at: str, payload: bytes
) -> None:
    expected = published_leaf_input(position, stream, version, event_type, recorded_at, payload)
    assert leaf_input(position, stream, version, event_type, recorded_at, payload) == expected


def test_a_leaf_is_the_rfc6962_leaf_hash_of_its_input() -> None:
    args = (7, "5b0f6c3e-8d7a-4f43-9a51-3c8e2f6d9b10", 3, "ContactAttempted", "2026-11-25T04:00:00.000000Z", b"{}")
    assert leaf_hash_of(*args) == hashlib.sha256(b"\x00" + leaf_input(*args)).digest() == hash_leaf(leaf_input(*args))


def test_every_field_of_the_leaf_changes_the_hash() -> None:
    base = [7, "5b0f6c3e-8d7a-4f43-9a51-3c8e2f6d9b10", 3, "ContactAttempted", "2026-11-25T04:00:00.000000Z", b"{}"]
    variants = [
        [8, *base[1:]],
        [base[0], "5b0f6c3e-8d7a-4f43-9a51-3c8e2f6d9b11", *base[2:]],
        [*base[:2], 4, *base[3:]],
        [*base[:3], "ContactAttempt", *base[4:]],
        [*base[:4], "2026-11-25T04:00:00.000001Z", base[5]],
        [*base[:5], b"{ }"],
    ]
    hashes = {leaf_hash_of(*base), *(leaf_hash_of(*v) for v in variants)}
    assert len(hashes) == 1 + len(variants)


def test_recorded_at_never_goes_back_even_if_the_clock_does() -> None:
    future = "2999-01-01T00:00:00.000000Z"
    assert next_recorded_at(future) == future
    assert next_recorded_at(None) < future
