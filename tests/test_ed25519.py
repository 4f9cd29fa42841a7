"""The pure-Python Ed25519 verifier the offline bundle ships: RFC 8032 vectors, and agreement
with `cryptography` (which signs the ledger's checkpoints) on valid and damaged signatures."""

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import ed25519

# RFC 8032 section 7.1, TEST 1-3: (secret key, public key, message, signature).
RFC8032_VECTORS = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
]
GROUP_ORDER = 2**252 + 27742317777372353535851937790883648493


def _public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _flip(data: bytes, bit: int) -> bytes:
    flipped = bytearray(data)
    flipped[bit // 8] ^= 1 << (bit % 8)
    return bytes(flipped)


@pytest.mark.parametrize("secret, public, message, signature", RFC8032_VECTORS, ids=["test1", "test2", "test3"])
def test_rfc8032_vectors_verify_and_cryptography_agrees_on_them(secret: str, public: str, message: str, signature: str) -> None:
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(secret))
    assert _public(key).hex() == public
    assert key.sign(bytes.fromhex(message)).hex() == signature  # Ed25519 signing is deterministic

    assert ed25519.verify_signature(bytes.fromhex(public), bytes.fromhex(message), bytes.fromhex(signature))
    assert not ed25519.verify_signature(bytes.fromhex(public), bytes.fromhex(message) + b"\x00", bytes.fromhex(signature))


@settings(max_examples=25, deadline=None)
@given(seed=st.binary(min_size=32, max_size=32), message=st.binary(max_size=300), bit=st.integers(0, 511))
def test_cryptographys_signatures_verify_and_any_flipped_bit_does_not(seed: bytes, message: bytes, bit: int) -> None:
    key = Ed25519PrivateKey.from_private_bytes(seed)
    public, signature = _public(key), key.sign(message)

    assert ed25519.verify_signature(public, message, signature)
    assert not ed25519.verify_signature(public, message, _flip(signature, bit))
    assert not ed25519.verify_signature(_flip(public, bit % 256), message, signature)
    if message:
        assert not ed25519.verify_signature(public, _flip(message, bit % (8 * len(message))), signature)


def test_a_non_canonical_s_is_refused_although_it_satisfies_the_equation() -> None:
    secret, public, message, signature = (bytes.fromhex(v) for v in RFC8032_VECTORS[1])
    s = int.from_bytes(signature[32:], "little")
    malleated = signature[:32] + (s + GROUP_ORDER).to_bytes(32, "little")

    assert not ed25519.verify_signature(public, message, malleated)


@pytest.mark.parametrize(
    "public, signature",
    [
        pytest.param(bytes(31), bytes(64), id="short key"),
        pytest.param(bytes.fromhex(RFC8032_VECTORS[0][1]), bytes(63), id="short signature"),
        pytest.param(b"\xff" * 32, bytes.fromhex(RFC8032_VECTORS[0][3]), id="key not on the curve"),
        pytest.param(bytes.fromhex(RFC8032_VECTORS[0][1]), b"\xff" * 32 + bytes(32), id="R not on the curve"),
    ],
)
def test_malformed_keys_and_signatures_are_refused_not_raised(public: bytes, signature: bytes) -> None:
    assert ed25519.verify_signature(public, b"", signature) is False
