"""The witness formats against the C2SP documents' own examples and real cosigned checkpoints
(tests/vectors/c2sp_witness.json, sources named there): verifier keys and their key IDs, note
signatures, cosignature/v1 lines and messages, and tlog-policy quorums. Every check runs with both
Ed25519 implementations: `cryptography` (the server) and ledger/ed25519.py (the bundle's verify.py).
"""

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import signed_notes
from ledger.checkpoints import ed25519_verifies
from ledger.cosignatures import check_cosignature, cosignature_message, signed_by_log
from ledger.ed25519 import verify_signature
from ledger.vkeys import COSIGNATURE_ED25519, NOTE_ED25519, VerifierKeyError, log_verifier_key, parse_verifier_key
from ledger.witness_policy import PolicyError, enforce, parse_policy, quorum_of
from witness.service import Cosigner

VECTORS = json.loads((Path(__file__).parent / "vectors" / "c2sp_witness.json").read_text(encoding="utf-8"))
VERIFIERS = pytest.mark.parametrize("verifies", [ed25519_verifies, verify_signature], ids=["cryptography", "pure-python"])


@pytest.mark.parametrize("vector", ["signed_note_example", "go_sumdb_note"])
def test_verifier_keys_of_the_specification_parse_and_spell_back_byte_for_byte(vector: str) -> None:
    text = VECTORS[vector]["vkey"]
    key = parse_verifier_key(text, NOTE_ED25519)
    assert str(key) == text
    assert key.key_id.hex() == text.split("+")[1]


def test_the_signed_note_example_key_id_is_530d903a() -> None:
    assert parse_verifier_key(VECTORS["signed_note_example"]["vkey"]).key_id.hex() == "530d903a"


@VERIFIERS
@pytest.mark.parametrize("vector", ["signed_note_example", "go_sumdb_note"])
def test_the_example_notes_signatures_verify_under_their_keys_and_not_once_altered(vector: str, verifies) -> None:
    key = parse_verifier_key(VECTORS[vector]["vkey"])
    text, signatures = signed_notes._split_note(VECTORS[vector]["note"])
    [(name, kid, signature)] = signatures
    assert (name, kid) == (key.name, key.key_id)
    assert verifies(key.public_key, text.encode(), signature)
    assert not verifies(key.public_key, text.replace("e", "E", 1).encode(), signature)


def test_a_cosignature_key_is_type_0x04_and_its_key_id_hashes_that_byte() -> None:
    text = VECTORS["cosigned_checkpoint"]["witness_vkey"]
    key = parse_verifier_key(text, COSIGNATURE_ED25519)
    assert key.key_type == 0x04 and str(key) == text and key.key_id.hex() == "da77ade7"
    with pytest.raises(VerifierKeyError, match="cosignature/v1 key, where a Ed25519 note key"):
        parse_verifier_key(text, NOTE_ED25519)


@VERIFIERS
def test_a_real_witness_cosignature_verifies_with_its_timestamp(verifies) -> None:
    vector = VECTORS["cosigned_checkpoint"]
    witness = parse_verifier_key(vector["witness_vkey"], COSIGNATURE_ED25519)
    check = check_cosignature(vector["note"], witness, verifies)
    assert (check.status, check.timestamp) == ("valid", vector["witness_timestamp"])
    assert signed_by_log(vector["note"], parse_verifier_key(vector["log_vkey"]), verifies).tree_size == 1432088532


@VERIFIERS
def test_a_cosignature_of_another_tree_size_is_invalid(verifies) -> None:
    vector = VECTORS["cosigned_checkpoint"]
    witness = parse_verifier_key(vector["witness_vkey"], COSIGNATURE_ED25519)
    assert check_cosignature(vector["note"].replace("1432088532", "1432088533"), witness, verifies).status == "invalid"


def test_the_tlog_cosignature_example_line_carries_its_key_id_and_timestamp_and_the_message_is_as_specified() -> None:
    vector = VECTORS["tlog_cosignature_example"]
    raw = base64.b64decode(vector["line"].split(" ")[2])
    assert raw[:4].hex() == vector["key_id"] and int.from_bytes(raw[4:12], "big") == vector["timestamp"]
    body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    assert cosignature_message(body, vector["timestamp"]).decode() == vector["message"]


@VERIFIERS
def test_our_cosigner_writes_lines_that_check_as_valid_and_are_invalid_under_another_key(verifies) -> None:
    cosigner = Cosigner(Ed25519PrivateKey.generate(), "witness.test/w1")
    other = Cosigner(Ed25519PrivateKey.generate(), "witness.test/w1")
    note = VECTORS["cosigned_checkpoint"]["note"].split("\n\n")[0] + "\n\n" + "— x AAAAAAA=\n"
    text = note.split("\n\n")[0] + "\n"
    cosigned = note + cosigner.cosign(text, 1_700_000_000)
    assert check_cosignature(cosigned, cosigner.key, verifies).status == "valid"
    assert check_cosignature(cosigned, other.key, verifies).status == "missing"  # same name, another key ID
    forged = note + cosigner.cosign(text, 1_700_000_000).replace(cosigner.key.name, "witness.test/w1", 1)
    tampered = forged[:-6] + ("A" if forged[-6] != "A" else "B") + forged[-5:]
    assert check_cosignature(tampered, cosigner.key, verifies).status == "invalid"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("example.com/foo", "not a verifier key"),
        ("example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "does not match"),
        ("example.com/foo+530D903A+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "lowercase hex"),
        ("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2", "base64"),
        ("a b+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "name"),
    ],
)
def test_malformed_verifier_keys_are_refused_saying_why(text: str, reason: str) -> None:
    with pytest.raises(VerifierKeyError, match=reason):
        parse_verifier_key(text)


def _cosigned(count: int) -> tuple[str, list[Cosigner]]:
    log_key = Ed25519PrivateKey.generate()
    text = "ledger.test/ms-l\n5\n" + base64.b64encode(bytes(32)).decode() + "\n"
    log = parse_verifier_key(log_verifier_key("ledger.test/ms-l", log_key.public_key().public_bytes_raw()))
    note = text + "\n" + signed_notes.signature_line(log.name, log.key_id, log_key.sign(text.encode()))
    cosigners = [Cosigner(Ed25519PrivateKey.generate(), f"w{i}.test/w") for i in range(3)]
    return note + "".join(c.cosign(text, 1_700_000_000 + i) for i, c in enumerate(cosigners[:count])), cosigners


def test_the_specifications_example_policy_structure_parses_with_groups_of_groups() -> None:
    _, cosigners = _cosigned(0)
    keys = [str(c.key) for c in cosigners]
    policy = parse_policy(
        "# comment\n"
        f"witness X1 {keys[0]}\nwitness X2 {keys[1]} https://x2.example/\n\twitness   Y1 {keys[2]}\n"
        "group X-witnesses 2 X1 X2\ngroup Y-witnesses any Y1\ngroup X-and-Y all X-witnesses Y-witnesses\nquorum X-and-Y\n"
    )
    assert policy.groups["X-and-Y"] == (2, ["X-witnesses", "Y-witnesses"])
    assert policy.witnessed("X-and-Y", {"X1", "X2", "Y1"}) and not policy.witnessed("X-and-Y", {"X1", "Y1"})
    assert policy.urls == {"X2": "https://x2.example/"}


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("quorum w\n", "not defined on an earlier line"),
        ("witness a {k}\ngroup g 2 a\nquorum g\n", "threshold"),
        ("witness a {k}\nwitness b {k}\nquorum a\n", "listed twice"),
        ("witness a {k}\n", "no quorum line"),
        ("witness a {k}\nquorum a\nquorum a\n", "second quorum"),
        ("witness a {k}\ngroup g any a a\nquorum g\n", "member twice"),
        # Found: `a` counted twice towards a 2-of quorum through two groups nesting it.
        ("witness a {k}\ngroup g1 any a\ngroup g2 any a\ngroup q 2 g1 g2\nquorum q\n", "already a member of group g1"),
        ("frobnicate\nquorum none\n", "line 1"),
    ],
)
def test_malformed_policies_are_refused_naming_the_line(text: str, reason: str) -> None:
    _, cosigners = _cosigned(0)
    with pytest.raises(PolicyError, match=reason):
        parse_policy(text.format(k=cosigners[0].key))


@VERIFIERS
def test_a_quorum_is_met_by_valid_cosignatures_and_a_shortfall_names_the_missing_witnesses(verifies) -> None:
    note, cosigners = _cosigned(2)
    keys = [c.key for c in cosigners]
    assert enforce(quorum_of(keys, 2), note, verifies) == ["w0.test/w", "w1.test/w"]
    with pytest.raises(PolicyError, match=r"valid: w0.test/w, w1.test/w; missing: w2.test/w"):
        enforce(quorum_of(keys, 3), note, verifies)


@VERIFIERS
def test_an_invalid_cosignature_does_not_count_and_is_named_invalid(verifies) -> None:
    note, cosigners = _cosigned(2)
    lines = note.split("\n")
    broken = lines[-2].split(" ")
    raw = bytearray(base64.b64decode(broken[2]))
    raw[-1] ^= 1
    lines[-2] = " ".join([*broken[:2], base64.b64encode(bytes(raw)).decode()])
    with pytest.raises(PolicyError, match=r"invalid: w1.test/w"):
        enforce(quorum_of([c.key for c in cosigners], 2), "\n".join(lines), verifies)


def test_a_policy_with_log_lines_refuses_a_checkpoint_another_key_signed() -> None:
    note, cosigners = _cosigned(1)
    stranger = log_verifier_key("ledger.test/ms-l", Ed25519PrivateKey.generate().public_key().public_bytes_raw())
    policy = parse_policy(f"log {stranger}\nwitness a {cosigners[0].key}\nquorum a\n")
    with pytest.raises(PolicyError, match="not signed by a log of the policy"):
        enforce(policy, note, ed25519_verifies)
