"""Tampering with an exported bundle's files, caught offline by both verifiers.

Each test exports test_checkpoint_history's 12-event log (checkpoints at 5, 9 and 12) with
`ledger export`, alters the bundle's files as an attacker could, and runs `python3 verify.py DIR`
(bare interpreter) and `ledger verify DIR`: both must exit 1 with the same one-line report naming
the first bad position or checkpoint. The exports come from SQLite and from PostgreSQL.
"""

import base64
import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import bundle_events, bundle_format, merkle
from ledger.checkpoints import Signer
from tests.offline import Outcome, both_verifiers
from tests.test_checkpoint_history import history  # noqa: F401 - fixture
from tests.test_tampering import LOG_SIZE, ORIGIN, Attacker, Run, attacker, cli  # noqa: F401 - fixtures

_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


@pytest.fixture
def bundle(history: Attacker, cli: Run, tmp_path: Path) -> Path:  # noqa: F811 - the fixture above
    directory = tmp_path / "bundle"
    assert cli("export", "--out", directory).exit_code == 0
    for outcome in both_verifiers(directory):
        assert outcome.exit_code == 0, outcome.stderr
    return directory


# --- reading and rewriting the bundle's files, as an attacker with a text editor would -----------


def read_lines(bundle: Path, name: str) -> list[str]:
    return (bundle / name).read_text(encoding="utf-8").splitlines()


def write_lines(bundle: Path, name: str, lines: list[str]) -> None:
    (bundle / name).write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")


def records(bundle: Path, name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in read_lines(bundle, name)]


def write_records(bundle: Path, name: str, rows: list[dict[str, Any]]) -> None:
    write_lines(bundle, name, [_JSON.encode(row) for row in rows])


def events(bundle: Path) -> list[tuple[dict[str, Any], str]]:
    """Each line of events.jsonl as its receipt and the stored payload's text, kept verbatim."""
    rows = []
    for line in read_lines(bundle, "events.jsonl"):
        head, payload = line[:-1].split(bundle_events.PAYLOAD_MEMBER, 1)
        rows.append((json.loads(head + "}"), payload))
    return rows


def write_events(bundle: Path, rows: list[tuple[dict[str, Any], str]]) -> None:
    member = bundle_events.PAYLOAD_MEMBER
    write_lines(bundle, "events.jsonl", [f"{_JSON.encode(receipt)[:-1]}{member}{payload}}}" for receipt, payload in rows])


def edit_event(bundle: Path, position: int, **changes: Any) -> None:
    rows = events(bundle)
    rows[position - 1][0].update(changes)
    write_events(bundle, rows)


def edit_payload(bundle: Path, position: int, old: str, new: str) -> None:
    rows = events(bundle)
    receipt, payload = rows[position - 1]
    assert old in payload
    rows[position - 1] = (receipt, payload.replace(old, new))
    write_events(bundle, rows)


def recomputed_leaf(receipt: dict[str, Any], payload: str) -> str:
    data = bundle_format.leaf_input(
        receipt["position"], receipt["stream_id"], receipt["version"], receipt["type"], receipt["recorded_at"], payload.encode()
    )
    return merkle.hash_leaf(data).hex()


def forge_consistently(bundle: Path, position: int) -> None:
    """Rewrites an event's payload, its receipt's leaf hash and leaves.txt to match each other."""
    edit_payload(bundle, position, '"GT"', '"HN"')
    receipt, payload = events(bundle)[position - 1]
    edit_event(bundle, position, leaf_hash=recomputed_leaf(receipt, payload))
    replace_line(bundle, "leaves.txt", position, recomputed_leaf(receipt, payload))


def edit_checkpoint(bundle: Path, tree_size: int, edit: Callable[[dict[str, Any]], None]) -> None:
    rows = records(bundle, "checkpoints.jsonl")
    [row] = [r for r in rows if r["tree_size"] == tree_size]
    edit(row)
    write_records(bundle, "checkpoints.jsonl", rows)


def drop_line(bundle: Path, name: str, position: int) -> None:
    write_lines(bundle, name, [line for i, line in enumerate(read_lines(bundle, name), start=1) if i != position])


def replace_line(bundle: Path, name: str, position: int, new: str) -> None:
    write_lines(bundle, name, [new if i == position else line for i, line in enumerate(read_lines(bundle, name), start=1)])


def truncate(bundle: Path, keep: int) -> None:
    write_lines(bundle, "events.jsonl", read_lines(bundle, "events.jsonl")[:keep])
    write_lines(bundle, "leaves.txt", read_lines(bundle, "leaves.txt")[:keep])


def _flip_signature(note: str) -> str:
    body, _, signature = note.rstrip("\n").rpartition(" ")
    raw = bytearray(base64.b64decode(signature))
    raw[-1] ^= 1
    return f"{body} {base64.b64encode(raw).decode()}\n"


def _other_root_line(note: str) -> str:
    origin, size, _, rest = note.split("\n", 3)
    return "\n".join([origin, size, base64.b64encode(bytes(32)).decode(), rest])


def swap_lines(bundle: Path, first: int, second: int, renumber: bool) -> None:
    rows = events(bundle)
    rows[first - 1], rows[second - 1] = rows[second - 1], rows[first - 1]
    if renumber:  # the attacker also fixes the positions the lines claim
        rows[first - 1][0]["position"], rows[second - 1][0]["position"] = first, second
    write_events(bundle, rows)


# --- the verdicts -------------------------------------------------------------------------------


def rejected(bundle: Path, *args: str) -> str:
    """Both verifiers exit 1 with the same one-line report; returns it."""
    outcomes: list[Outcome] = both_verifiers(bundle, *args)
    for outcome in outcomes:
        assert outcome.exit_code == 1, f"tampering went unnoticed: {outcome.stdout}{outcome.stderr}"
        assert len(outcome.stderr.strip().splitlines()) == 1, outcome.stderr
        assert "Traceback" not in outcome.stderr
    reports = [outcome.report.removeprefix("error: ") for outcome in outcomes]
    assert reports[0] == reports[1], "verify.py and `ledger verify DIR` run the same code"
    return reports[0]


def at_position(report: str) -> int | None:
    found = re.match(r"TAMPERING DETECTED at position (\d+):", report)
    return int(found.group(1)) if found else None


def at_checkpoint(report: str) -> int | None:
    found = re.match(r"TAMPERING DETECTED at checkpoint: the checkpoint at tree size (\d+)", report)
    return int(found.group(1)) if found else None


# --- events and leaves ----------------------------------------------------------------------------

POSITION_TAMPERING = {
    "payload edited": (lambda b: edit_payload(b, 5, '"GT"', '"HN"'), 5),
    "event deleted": (lambda b: drop_line(b, "events.jsonl", 4), 4),
    "event and its leaf deleted": (lambda b: (drop_line(b, "events.jsonl", 4), drop_line(b, "leaves.txt", 4)), 4),
    "two positions swapped": (lambda b: swap_lines(b, 3, 8, renumber=False), 3),
    "two positions swapped and renumbered": (lambda b: swap_lines(b, 3, 8, renumber=True), 3),
    "tail truncated": (lambda b: truncate(b, LOG_SIZE - 2), LOG_SIZE - 1),
    "leaf edited in leaves.txt": (lambda b: replace_line(b, "leaves.txt", 7, "0" * 64), 7),
    "receipt's leaf hash edited": (lambda b: edit_event(b, 7, leaf_hash="0" * 64), 7),
    "receipt's case id edited": (lambda b: edit_event(b, 7, case_id="FRTF-000003"), 7),
    "receipt's version edited": (lambda b: edit_event(b, 7, version=9), 7),
    "recorded_at moved": (lambda b: edit_event(b, 9, recorded_at=events(b)[7][0]["recorded_at"]), 9),
    "payload re-formatted (same JSON)": (lambda b: edit_payload(b, 5, '","', '", "'), 5),
    "a line that is not JSON": (lambda b: replace_line(b, "events.jsonl", 6, "{"), 6),
    "an event appended after the last checkpoint": (
        lambda b: write_lines(b, "events.jsonl", [*read_lines(b, "events.jsonl"), read_lines(b, "events.jsonl")[-1]]),
        LOG_SIZE + 1,
    ),
}


@pytest.mark.parametrize("tamper, position", POSITION_TAMPERING.values(), ids=POSITION_TAMPERING.keys())
def test_tampering_with_events_or_leaves_is_named_at_the_first_bad_position(
    bundle: Path, tamper: Callable[[Path], Any], position: int
) -> None:
    tamper(bundle)

    report = rejected(bundle)

    assert at_position(report) == position, report


def test_an_event_rewritten_with_its_leaves_is_caught_by_the_first_checkpoint_covering_it(bundle: Path) -> None:
    forge_consistently(bundle, 3)

    report = rejected(bundle)

    assert "does not match its leaf" not in report
    assert report.startswith("TAMPERING DETECTED at checkpoint: the tree of the bundle's first 5 events")
    assert "does not match the checkpoint at tree size 5" in report


# --- checkpoints --------------------------------------------------------------------------------

def set_checkpoint_field(tree_size: int, field: str, value: Callable[[dict[str, Any]], Any]) -> Callable[[Path], None]:
    return lambda bundle: edit_checkpoint(bundle, tree_size, lambda row: row.update({field: value(row)}))


def reorder_checkpoints(step: int) -> Callable[[Path], None]:
    return lambda bundle: write_lines(bundle, "checkpoints.jsonl", read_lines(bundle, "checkpoints.jsonl")[::step])


CHECKPOINT_TAMPERING = {
    "root hash edited": (set_checkpoint_field(9, "root_hash", lambda c: "0" * 64), 9, "differs from its signed note"),
    "signature flipped": (set_checkpoint_field(9, "note", lambda c: _flip_signature(c["note"])), 9, "not validly signed"),
    "root in the note edited": (set_checkpoint_field(9, "note", lambda c: _other_root_line(c["note"])), 9, "not validly signed"),
    "timestamp edited": (set_checkpoint_field(5, "timestamp", lambda c: "2020-01-01T00:00:00.000000Z"), 5, "differs"),
    "consistency proof edited": (
        set_checkpoint_field(12, "consistency_proof", lambda c: ["0" * 64] * len(c["consistency_proof"])),
        12,
        "does not extend",
    ),
    "an earlier checkpoint removed": (reorder_checkpoints(2), 12, "does not extend"),  # keeps 5 and 12
    "checkpoints reordered": (reorder_checkpoints(-1), 12, "does not extend the empty tree"),
}


@pytest.mark.parametrize("tamper, tree_size, reason", CHECKPOINT_TAMPERING.values(), ids=CHECKPOINT_TAMPERING.keys())
def test_tampering_with_a_checkpoint_is_named_by_its_tree_size(
    bundle: Path, tamper: Callable[[Path], Any], tree_size: int, reason: str
) -> None:
    tamper(bundle)

    report = rejected(bundle)

    assert at_checkpoint(report) == tree_size, report
    assert reason in report


def test_a_bundle_cut_back_to_an_earlier_checkpoint_is_caught_by_a_checkpoint_the_auditor_saved(
    bundle: Path, tmp_path: Path
) -> None:
    """Cut to 9 events with the checkpoint at 12 dropped, the bundle is a true prefix of the log:
    only a later checkpoint the auditor holds can show it was cut short."""
    saved = tmp_path / "saved.note"
    saved.write_text(records(bundle, "checkpoints.jsonl")[-1]["note"], encoding="utf-8")
    truncate(bundle, 9)
    write_lines(bundle, "checkpoints.jsonl", read_lines(bundle, "checkpoints.jsonl")[:2])
    log = json.loads((bundle / "log.json").read_text())
    (bundle / "log.json").write_text(json.dumps({**log, "tree_size": 9, "checkpoints": 2}, indent=2) + "\n")
    rewrite_manifest(bundle)

    report = rejected(bundle, "--checkpoint", str(saved))

    assert report.startswith("TAMPERING DETECTED at checkpoint")
    assert f"your checkpoint at tree size {LOG_SIZE} is beyond the bundle's 9 events" in report


# --- the key, and the files the log does not cover -------------------------------------------------


def rewrite_manifest(bundle: Path) -> None:
    names = sorted(bundle_format.BUNDLE_FILES)
    (bundle / "MANIFEST.sha256").write_text(
        "".join(f"{hashlib.sha256((bundle / name).read_bytes()).hexdigest()}  {name}\n" for name in names)
    )


def resign_with_another_key(bundle: Path) -> str:
    """A complete forgery: event 3 rewritten, every leaf, root, proof and signature redone with the
    attacker's key, which replaces the ledger's in log.json. Returns the ledger's real key."""
    forge_consistently(bundle, 3)
    leaves = [bytes.fromhex(line) for line in read_lines(bundle, "leaves.txt")]
    forger = Signer(Ed25519PrivateKey.generate(), ORIGIN)
    rows, previous = records(bundle, "checkpoints.jsonl"), 0
    for row in rows:
        size = row["tree_size"]
        root = merkle.root_of(leaves[:size])
        row.update(root_hash=root.hex(), note=forger.sign(size, root, row["timestamp"]).note)
        proof = merkle.consistency_proof(previous, size, merkle.subtree_from_leaves(leaves)) if previous else []
        row["consistency_proof"] = [node.hex() for node in proof]
        previous = size
    write_records(bundle, "checkpoints.jsonl", rows)
    log = json.loads((bundle / "log.json").read_text())
    real_key = log["public_key"]
    log["public_key"] = base64.b64encode(forger.public_key_raw).decode()
    (bundle / "log.json").write_text(json.dumps(log, indent=2) + "\n")
    rewrite_manifest(bundle)
    return str(real_key)


def test_a_bundle_re_signed_with_another_key_is_caught_when_the_ledgers_key_is_pinned(bundle: Path) -> None:
    real_key = resign_with_another_key(bundle)

    unpinned = both_verifiers(bundle)
    report = rejected(bundle, "--public-key", real_key)

    assert all(outcome.exit_code == 0 for outcome in unpinned), "self-consistent: only the key can tell"
    assert all("compare it with the key the ledger publishes" in outcome.stdout for outcome in unpinned)
    assert report.startswith("NOT VERIFIED: the bundle is signed by key")
    assert "not by the key you pinned" in report


@pytest.mark.parametrize("name", ["README.md", "verify.py", "log.json"])
def test_a_file_changed_outside_the_signed_log_fails_the_manifest(bundle: Path, name: str) -> None:
    with (bundle / name).open("a", encoding="utf-8") as file:
        file.write("\n" if name != "log.json" else " ")

    report = rejected(bundle)

    assert report == f"NOT VERIFIED: {name} does not match its SHA-256 in MANIFEST.sha256: it was changed after the export"


def test_a_missing_file_is_named(bundle: Path) -> None:
    (bundle / "leaves.txt").unlink()

    report = rejected(bundle)

    assert report == "NOT VERIFIED: leaves.txt is missing"


def test_a_tampered_position_is_named_with_its_event_and_case(bundle: Path) -> None:
    [line] = [row for row, _ in events(bundle) if row["position"] == 5]
    edit_payload(bundle, 5, '"GT"', '"HN"')

    report = rejected(bundle)

    assert report.endswith(f"(event {line['event_id']}, case {line['case_id']})"), report


HOSTILE_FILES = {
    # Found: verify.py printed a traceback (RecursionError, UnicodeDecodeError) on these.
    "an event line nested 100,000 deep": lambda b: replace_line(b, "events.jsonl", 3, "[" * 100_000),
    "a checkpoint line nested 100,000 deep": lambda b: replace_line(b, "checkpoints.jsonl", 1, "[" * 100_000),
    "log.json nested 100,000 deep": lambda b: (b / "log.json").write_text("[" * 100_000),
    "a manifest that is not UTF-8": lambda b: (b / "MANIFEST.sha256").write_bytes(b"\xff\xfe\x00garbage\n"),
}


@pytest.mark.parametrize("tamper", HOSTILE_FILES.values(), ids=HOSTILE_FILES.keys())
def test_a_hostile_file_is_reported_in_one_line_never_a_traceback(bundle: Path, tamper: Callable[[Path], None]) -> None:
    tamper(bundle)
    report = rejected(bundle)
    assert report.startswith(("TAMPERING DETECTED", "NOT VERIFIED")), report
