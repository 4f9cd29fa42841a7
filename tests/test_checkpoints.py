"""Signed checkpoints: C2SP tlog-checkpoint text in a C2SP Ed25519 signed note."""

import base64
import hashlib
import os
import stat
import string
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import checkpoints, key_files
from ledger.checkpoints import (
    Checkpoint,
    CheckpointError,
    KeyFileError,
    Signer,
    load_or_create_signing_key,
    parse_note,
    verify_note,
)

ORIGIN = "ledger.example/ms-l"
ROOT = hashlib.sha256(b"some root").digest()
TIMESTAMP = "2026-11-25T04:00:00.123456Z"
SIZE = 42


def _raw_private(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


def _pem(key: Ed25519PrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@pytest.fixture
def signer() -> Signer:
    return Signer(Ed25519PrivateKey.from_private_bytes(bytes(range(32))), ORIGIN)


@pytest.fixture
def checkpoint(signer: Signer) -> Checkpoint:
    return signer.sign(SIZE, ROOT, TIMESTAMP)


def test_signed_checkpoint_verifies_and_round_trips_its_fields(
    signer: Signer, checkpoint: Checkpoint
) -> None:
    assert (checkpoint.origin, checkpoint.tree_size, checkpoint.root_hash, checkpoint.timestamp) == (
        ORIGIN, SIZE, ROOT, TIMESTAMP,
    )
    assert parse_note(checkpoint.note) == (ORIGIN, SIZE, ROOT, TIMESTAMP)
    assert verify_note(checkpoint.note, signer.public_key_raw, ORIGIN) == (SIZE, ROOT, TIMESTAMP)


def test_empty_tree_checkpoint_verifies(signer: Signer) -> None:
    empty_root = hashlib.sha256(b"").digest()
    note = signer.sign(0, empty_root, TIMESTAMP).note
    assert verify_note(note, signer.public_key_raw, ORIGIN) == (0, empty_root, TIMESTAMP)


def test_note_is_checkpoint_text_then_blank_line_then_one_em_dash_signature_line(
    signer: Signer, checkpoint: Checkpoint
) -> None:
    text = f"{ORIGIN}\n{SIZE}\n{base64.b64encode(ROOT).decode()}\ntimestamp {TIMESTAMP}\n"
    assert checkpoint.note.startswith(text + "\n")
    signature_line = checkpoint.note[len(text) + 1 :]
    assert signature_line.endswith("\n") and signature_line.count("\n") == 1
    dash, key_name, encoded = signature_line[:-1].split(" ")
    assert (dash, key_name) == ("\u2014", ORIGIN)

    blob = base64.b64decode(encoded, validate=True)
    key_id = hashlib.sha256(ORIGIN.encode() + b"\x0a\x01" + signer.public_key_raw).digest()[:4]
    assert len(blob) == 4 + 64
    assert blob[:4] == key_id == signer.key_id
    public_key = Ed25519PrivateKey.from_private_bytes(bytes(range(32))).public_key()
    public_key.verify(blob[4:], text.encode())  # raises if the signature is not over the text


def test_as_json_exposes_hex_root_and_base64_public_key(signer: Signer, checkpoint: Checkpoint) -> None:
    assert checkpoint.as_json(signer.public_key_raw) == {
        "origin": ORIGIN,
        "tree_size": SIZE,
        "root_hash": ROOT.hex(),
        "timestamp": TIMESTAMP,
        "note": checkpoint.note,
        "public_key": base64.b64encode(signer.public_key_raw).decode(),
    }


def _replace_line(note: str, index: int, new: str) -> str:
    lines = note.split("\n")
    lines[index] = new
    return "\n".join(lines)


def _flip_signature_bit(note: str) -> str:
    *head, signature_line, end = note.split("\n")
    dash, name, encoded = signature_line.split(" ")
    blob = bytearray(base64.b64decode(encoded))
    blob[-1] ^= 1
    return "\n".join([*head, f"{dash} {name} {base64.b64encode(blob).decode()}", end])


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda n: _replace_line(n, 1, str(SIZE + 1)), id="tree size"),
        pytest.param(lambda n: _replace_line(n, 2, base64.b64encode(bytes(32)).decode()), id="root hash"),
        pytest.param(lambda n: _replace_line(n, 3, "timestamp 2026-11-25T04:00:00.123457Z"), id="timestamp"),
        pytest.param(_flip_signature_bit, id="signature"),
        pytest.param(lambda n: _replace_line(n, 0, "ledger.example/other"), id="origin line"),
        pytest.param(lambda n: n.replace(ORIGIN, "ledger.example/other"), id="origin and key name"),
        pytest.param(lambda n: n.replace(f"\u2014 {ORIGIN}", "\u2014 ledger.example/other"), id="key name"),
    ],
)
def test_tampered_checkpoint_is_rejected(
    signer: Signer, checkpoint: Checkpoint, tamper: Callable[[str], str]
) -> None:
    tampered = tamper(checkpoint.note)
    assert tampered != checkpoint.note
    with pytest.raises(CheckpointError):
        verify_note(tampered, signer.public_key_raw, ORIGIN)


def test_checkpoint_for_another_origin_is_rejected_even_with_a_valid_signature() -> None:
    other = Signer(Ed25519PrivateKey.generate(), "ledger.example/other")
    note = other.sign(SIZE, ROOT, TIMESTAMP).note
    assert verify_note(note, other.public_key_raw, "ledger.example/other") == (SIZE, ROOT, TIMESTAMP)
    with pytest.raises(CheckpointError, match="origin"):
        verify_note(note, other.public_key_raw, ORIGIN)


def test_checkpoint_signed_by_an_unknown_key_is_rejected(checkpoint: Checkpoint) -> None:
    stranger = Signer(Ed25519PrivateKey.generate(), ORIGIN)
    with pytest.raises(CheckpointError, match="no signature by key"):
        verify_note(checkpoint.note, stranger.public_key_raw, ORIGIN)


def test_signatures_by_other_keys_such_as_witness_cosignatures_are_ignored(
    signer: Signer, checkpoint: Checkpoint
) -> None:
    cosignature = base64.b64encode(b"\x01\x02\x03\x04" + bytes(64)).decode()
    cosigned = f"{checkpoint.note}\u2014 witness.example/w1 {cosignature}\n"
    assert verify_note(cosigned, signer.public_key_raw, ORIGIN) == (SIZE, ROOT, TIMESTAMP)


def _noncanonical_base64(raw: bytes) -> str:
    """The same bytes with a non-zero padding bit (RFC 4648 section 3.5)."""
    canonical = base64.b64encode(raw).decode()
    alphabet = string.ascii_uppercase + string.ascii_lowercase + string.digits + "+/"
    i = len(canonical.rstrip("=")) - 1
    variant = canonical[:i] + alphabet[alphabet.index(canonical[i]) ^ 1] + canonical[i + 1 :]
    assert variant != canonical and base64.b64decode(variant) == raw
    return variant


def _replace_signature(note: str, encoded: str) -> str:
    head, _, _ = note.rpartition(" ")
    return f"{head} {encoded}\n"


def _noncanonical_signature(note: str) -> str:
    blob = base64.b64decode(note.rpartition(" ")[2])
    return _replace_signature(note, _noncanonical_base64(blob))


SIZE_LINE = f"\n{SIZE}\n"
TIMESTAMP_LINE = f"timestamp {TIMESTAMP}\n"


@pytest.mark.parametrize(
    ("malform", "reason"),
    [
        pytest.param(lambda n: n + "garbage\n", "malformed signature line", id="trailing garbage"),
        pytest.param(lambda n: n + "\n", "no signature lines", id="trailing blank line"),
        pytest.param(lambda n: n[:-1], "does not end with a newline", id="no final newline"),
        pytest.param(lambda n: n[: n.index("\n\n") + 1], "no blank line", id="no signatures"),
        pytest.param(lambda n: n.replace("\n\n", "\n"), "no blank line", id="no blank line"),
        pytest.param(lambda n: n.replace("\u2014", "-"), "malformed signature", id="hyphen for em dash"),
        pytest.param(lambda n: n.replace(f"{ORIGIN} ", f"{ORIGIN}  "), "malformed signature", id="two spaces"),
        pytest.param(_noncanonical_signature, "signature is not canonical base64", id="non-canonical sig"),
        pytest.param(
            lambda n: _replace_signature(n, base64.b64encode(b"\x01\x02\x03\x04").decode()),
            "too short",
            id="key ID without signature",
        ),
        pytest.param(lambda n: n.replace("timestamp", "timestamp\t"), "control characters", id="tab"),
        pytest.param(lambda n: n.replace(SIZE_LINE, f"\n{SIZE}\r\n"), "control characters", id="CR"),
        pytest.param(lambda n: n.replace(ORIGIN, f"{ORIGIN}\x85", 1), "control characters", id="C1"),
        pytest.param(lambda n: n.replace(ORIGIN, f"{ORIGIN}\ud800", 1), "UTF-8", id="lone surrogate"),
        pytest.param(lambda n: n.replace(SIZE_LINE, f"\n0{SIZE}\n"), "tree size", id="leading zero"),
        pytest.param(lambda n: n.replace(SIZE_LINE, f"\n+{SIZE}\n"), "tree size", id="signed size"),
        pytest.param(lambda n: n.replace(SIZE_LINE, "\n\u0664\u0662\n"), "tree size", id="Arabic digits"),
        pytest.param(lambda n: n.replace(SIZE_LINE, f"\n{2**64}\n"), "tree size", id="size > uint64"),
        pytest.param(
            lambda n: _replace_line(n, 2, base64.b64encode(ROOT[:31]).decode()),
            "root hash is 31 bytes",
            id="31-byte root",
        ),
        pytest.param(
            lambda n: _replace_line(n, 2, base64.b64encode(ROOT).decode().rstrip("=")),
            "root hash is not valid base64",
            id="unpadded root",
        ),
        pytest.param(
            lambda n: _replace_line(n, 2, _noncanonical_base64(ROOT)),
            "root hash is not canonical base64",
            id="non-canonical root",
        ),
        pytest.param(lambda n: _replace_line(n, 2, ROOT.hex()), "root hash is 48 bytes", id="hex root"),
        pytest.param(
            lambda n: _replace_line(n, 3, "timestamp 2026-11-25T04:00:00Z"),
            "invalid timestamp",
            id="no microseconds",
        ),
        pytest.param(
            lambda n: _replace_line(n, 3, "timestamp 2026-02-30T04:00:00.000000Z"),
            "invalid timestamp",
            id="impossible date",
        ),
        pytest.param(
            lambda n: _replace_line(n, 3, "timestamp 2026-11-25T04:00:00.123456+00:00"),
            "invalid timestamp",
            id="offset instead of Z",
        ),
        pytest.param(
            lambda n: _replace_line(n, 3, f"time {TIMESTAMP}"),
            "not a timestamp extension line",
            id="unknown extension",
        ),
        pytest.param(lambda n: n.replace(TIMESTAMP_LINE, TIMESTAMP_LINE + "x\n"), "5 lines", id="two extensions"),
        pytest.param(lambda n: n.replace(TIMESTAMP_LINE, ""), "3 lines", id="no timestamp"),
        pytest.param(lambda n: "\n" + n, "5 lines", id="leading blank line"),
        pytest.param(lambda n: _replace_line(n, 0, ""), "invalid origin", id="empty origin"),
        pytest.param(lambda n: _replace_line(n, 0, "ledger.example/ms l"), "invalid origin", id="space in origin"),
        pytest.param(lambda n: "", "no blank line", id="empty note"),
    ],
)
def test_malformed_note_is_rejected_with_the_reason(
    signer: Signer, checkpoint: Checkpoint, malform: Callable[[str], str], reason: str
) -> None:
    malformed = malform(checkpoint.note)
    assert malformed != checkpoint.note
    with pytest.raises(CheckpointError, match=reason):
        parse_note(malformed)
    with pytest.raises(CheckpointError, match=reason):
        verify_note(malformed, signer.public_key_raw, ORIGIN)


@pytest.mark.parametrize(
    ("tree_size", "root_hash", "timestamp"),
    [
        pytest.param(-1, ROOT, TIMESTAMP, id="negative size"),
        pytest.param(2**64, ROOT, TIMESTAMP, id="size beyond uint64"),
        pytest.param(SIZE, ROOT[:31], TIMESTAMP, id="short root"),
        pytest.param(SIZE, ROOT, "2026-11-25T04:00:00.123Z", id="milliseconds timestamp"),
        pytest.param(SIZE, ROOT, "2026-11-25 04:00:00.123456", id="naive timestamp"),
    ],
)
def test_signer_refuses_to_sign_an_invalid_checkpoint(
    signer: Signer, tree_size: int, root_hash: bytes, timestamp: str
) -> None:
    with pytest.raises(CheckpointError):
        signer.sign(tree_size, root_hash, timestamp)


@pytest.mark.parametrize("origin", ["", "ledger.example/ms l", "ledger.example/a+b", "ledger\n"])
def test_signer_refuses_an_origin_that_cannot_be_a_key_name(origin: str) -> None:
    with pytest.raises(CheckpointError):
        Signer(Ed25519PrivateKey.generate(), origin)


def test_signing_key_is_created_owner_only_and_reloaded_identically(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "checkpoint.pem"
    created = load_or_create_signing_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes() == _pem(created)
    assert _raw_private(load_or_create_signing_key(path)) == _raw_private(created)


def test_losing_the_key_creation_race_adopts_the_winners_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "checkpoint.pem"
    winner = Ed25519PrivateKey.generate()
    real_open = os.open

    def open_after_rival_wrote_the_key(file: str | os.PathLike[str], flags: int, mode: int = 0o777) -> int:
        if Path(file) == path:
            path.write_bytes(_pem(winner))
        return real_open(file, flags, mode)

    monkeypatch.setattr(key_files.os, "open", open_after_rival_wrote_the_key)
    assert _raw_private(load_or_create_signing_key(path)) == _raw_private(winner)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"not a key at all", id="garbage"),
        pytest.param(b"", id="empty"),
        pytest.param(_pem(ec.generate_private_key(ec.SECP256R1())), id="ECDSA key"),
    ],
)
def test_unusable_key_file_raises_key_file_error_naming_the_path(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "checkpoint.pem"
    path.write_bytes(content)
    with pytest.raises(KeyFileError) as excinfo:
        load_or_create_signing_key(path)
    message = str(excinfo.value)
    assert str(path) in message
    assert "\n" not in message
    assert not content or content.decode("latin-1") not in message
    assert path.read_bytes() == content  # an unusable key is reported, never replaced
