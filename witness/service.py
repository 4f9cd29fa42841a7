"""Deciding an add-checkpoint request (c2sp.org/tlog-witness): parse it, check the log's signature
and the consistency proof against the latest checkpoint cosigned for that log, record the new one
and cosign it; or refuse with the status code the specification gives for each fault.

| fault                                                          | status |
|----------------------------------------------------------------|--------|
| the body is not an old size line, proof lines, a blank line and a checkpoint; old > size | 400 |
| no trusted key of the checkpoint's origin signed it            | 403    |
| the origin is not a log this witness is configured for         | 404    |
| the old size is not the size last cosigned (the body says it)  | 409    |
| same size as the latest cosigned, another root hash (a fork)   | 409    |
| the consistency proof does not verify                          | 422    |

Only what the log's key signed is evidence against the log: a fork is two checkpoints it signed
at one tree size with two root hashes, and both are kept (the one cosigned before and the one
refused, with the log's signatures only), once per refused checkpoint and at most
MAX_EVIDENCE_PER_LOG per log. A consistency proof that does not verify is not evidence by itself: the
request carries no authentication (tlog-witness), and anyone can send the log's public checkpoint
with a made-up proof; it gets 422, and is kept (once, as unproven) only if it is a larger checkpoint
the log signed: a split view the witness cannot prove, for an auditor to settle with the log's proof.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.checkpoints import ed25519_verifies
from ledger.cosignatures import checkpoint_body, cosignature_line, cosignature_message, signed_by_log
from ledger.merkle import verify_consistency
from ledger.signed_notes import CheckpointError
from ledger.vkeys import COSIGNATURE_ED25519, VerifierKey
from witness.state import WitnessState

SIZE_CONTENT_TYPE = "text/x.tlog.size"
MAX_PROOF_LINES = 63
_OLD_SIZE = re.compile(r"old (0|[1-9][0-9]{0,19})")


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    content_type: str = "text/plain; charset=utf-8"


class _Refused(Exception):
    def __init__(self, status: int, message: str, content_type: str = "text/plain; charset=utf-8", keep: bool = False) -> None:
        super().__init__(message)
        self.answer = Answer(status, message if message.endswith("\n") else message + "\n", content_type)
        self.keep = keep  # commit the evidence recorded before refusing


class Cosigner:
    """The witness's Ed25519 key, as a cosignature/v1 key (type 0x04) under the witness's name."""

    def __init__(self, private_key: Ed25519PrivateKey, name: str) -> None:
        self._private_key = private_key
        public = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.key = VerifierKey(name, COSIGNATURE_ED25519, public)

    def cosign(self, note_text: str, timestamp: int) -> str:
        return cosignature_line(self.key, timestamp, self._private_key.sign(cosignature_message(note_text, timestamp)))


@dataclass(frozen=True)
class _Request:
    old_size: int
    proof: list[bytes]
    proof_lines: list[str]
    note: str


def _parse(body: bytes) -> _Request:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _Refused(400, "the body is not UTF-8") from None
    first, _, rest = text.partition("\n")
    match = _OLD_SIZE.fullmatch(first)
    if not match:
        raise _Refused(400, "the body does not start with an old size line (`old <size>`)")
    proof_lines: list[str] = []
    while True:
        line, newline, rest = rest.partition("\n")
        if not newline:
            raise _Refused(400, "no blank line between the consistency proof and the checkpoint")
        if not line:
            break
        proof_lines.append(line)
        if len(proof_lines) > MAX_PROOF_LINES:
            raise _Refused(400, f"more than {MAX_PROOF_LINES} consistency proof lines")
    proof = []
    for line in proof_lines:
        try:
            node = base64.b64decode(line, validate=True)
        except ValueError:
            node = b""
        if len(node) != 32 or base64.b64encode(node).decode("ascii") != line:
            raise _Refused(400, f"proof line {line!r} is not the base64 of a 32-byte hash")
        proof.append(node)
    return _Request(int(match.group(1)), proof, proof_lines, rest)


def _log_signatures(note: str, log: VerifierKey) -> str:
    """The note's signature lines by the log's key (signed_by_log verified them): the others are
    anyone's to add, and are not evidence."""
    _, signatures = checkpoint_body(note)
    return "".join(
        f"\u2014 {name} {base64.b64encode(kid + signature).decode()}\n"
        for name, kid, signature in signatures
        if name == log.name and kid == log.key_id
    )


class Witness:
    def __init__(
        self, cosigner: Cosigner, logs: dict[str, VerifierKey], state: WitnessState, clock: Callable[[], float] = time.time
    ) -> None:
        self.cosigner = cosigner
        self.logs = logs  # origin -> the log's verifier key
        self.state = state
        self._clock = clock

    def add_checkpoint(self, body: bytes) -> Answer:
        try:
            return self._add(_parse(body))
        except _Refused as refusal:
            return refusal.answer

    def _add(self, request: _Request) -> Answer:
        try:
            checkpoint, _ = checkpoint_body(request.note)
        except CheckpointError as error:
            raise _Refused(400, f"the checkpoint is malformed: {error}") from None
        log = self.logs.get(checkpoint.origin)
        if log is None:
            raise _Refused(404, f"unknown log {checkpoint.origin}")
        try:
            signed_by_log(request.note, log, ed25519_verifies)
        except CheckpointError as error:
            raise _Refused(403, str(error)) from None
        if request.old_size > checkpoint.tree_size:
            raise _Refused(400, f"old size {request.old_size} is larger than the checkpoint's {checkpoint.tree_size}")
        with self.state.deciding(checkpoint.origin) as state:
            current = state.latest.tree_size if state.latest else 0
            if request.old_size != current:
                raise _Refused(409, f"{current}\n", SIZE_CONTENT_TYPE)
            if state.latest is not None and checkpoint.tree_size == current and checkpoint.root_hash != state.latest.root_hash:
                state.keep_evidence(
                    "same tree size, another root hash", checkpoint.text, _log_signatures(request.note, log),
                    request.old_size, request.proof_lines,
                )
                raise _Refused(409, f"a different checkpoint at tree size {current} was cosigned: fork recorded", keep=True)
            old_root = state.latest.root_hash if state.latest else b""
            if request.old_size == 0:
                consistent = not request.proof
            else:
                consistent = verify_consistency(
                    request.old_size, checkpoint.tree_size, old_root, checkpoint.root_hash, request.proof
                )
            if not consistent:
                # Anyone can write a bad proof, so a bad proof alone proves nothing: the checkpoint it
                # came with is kept only if the log signed it, it is larger than the one held (the held
                # one sent again is no news), and it is not kept already; as unproven, for an auditor
                # to settle with a proof from the log (a split view shows as a root the log cannot prove
                # consistent).
                kept = state.latest is not None and checkpoint.tree_size > current and state.keep_evidence(
                    "unproven: a larger checkpoint the log signed, whose consistency proof does not verify",
                    checkpoint.text, _log_signatures(request.note, log), request.old_size, request.proof_lines,
                )
                raise _Refused(422, f"the consistency proof from tree size {request.old_size} does not verify", keep=kept)
            state.record(checkpoint.tree_size, checkpoint.root_hash, request.note)
            return Answer(200, self.cosigner.cosign(checkpoint.text, int(self._clock())))
