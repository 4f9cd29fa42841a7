"""The auditors' routes: the log with its leaves, signed checkpoints with their witnesses'
cosignatures, and Merkle proofs; a proof asked for with `witness` keys and a `quorum` is given only
at a checkpoint that many of those witnesses cosigned (the client mode of c2sp.org/tlog-policy)."""

import base64
from typing import Annotated, Any, NamedTuple

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError

from api.deps import AuditorDep, LedgerDep, PrincipalDep
from api.problems import FieldRefused
from api.schemas import NOT_FOUND, NOT_WITNESSED, PROBLEMS, AccessLogPage, Checkpoint, ConsistencyProof, InclusionProof, LogPage
from ledger.application import Ledger
from ledger.checkpoints import ed25519_verifies
from ledger.recorders.rows import BIGINT
from ledger.vkeys import COSIGNATURE_ED25519, VerifierKeyError, log_verifier_key, parse_verifier_key
from ledger.witness_policy import PolicyError, enforce, quorum_of

router = APIRouter(prefix="/v1", tags=["audit"])
LedgerDep = LedgerDep


def _invalid(field: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("query", field), "msg": message, "type": "value_error"}])


@router.get("/log", response_model=LogPage, responses=PROBLEMS)
def get_log(
    ledger: LedgerDep,
    _: AuditorDep,
    after: Annotated[int, Query(ge=0, le=BIGINT, description="Entries after this position.")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    entries = [
        {
            "position": logged.position,
            "case_id": event.case_id,
            "type": event.type,
            "version": logged.stored.originator_version,
            "recorded_at": logged.recorded_at,
            "leaf_hash": logged.leaf_hash.hex() if logged.leaf_hash else "",
        }
        for logged, event in ledger.reader.log(after, limit)
    ]
    return {"entries": entries, "next_after": entries[-1]["position"] if entries else after}


@router.get("/access-log", response_model=AccessLogPage, responses=PROBLEMS)
def get_access_log(
    ledger: LedgerDep,
    _: AuditorDep,
    after: Annotated[int, Query(ge=0, le=BIGINT, description="Entries after this id.")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Who read a case's personal data, exported the log or forgot a case, and when (append-only)."""
    entries = ledger.access_log.lines(after, limit)
    return {"entries": entries, "next_after": entries[-1]["id"] if entries else after}


@router.get("/checkpoint", response_model=Checkpoint, responses={**PROBLEMS, **NOT_FOUND})
def get_checkpoint(
    request: Request,
    ledger: LedgerDep,
    _: PrincipalDep,
    tree_size: Annotated[int | None, Query(ge=0, le=BIGINT, description="An earlier checkpoint, by its tree size.")] = None,
) -> dict[str, Any]:
    """The latest signed checkpoint (the current tree head is signed if the log has grown)."""
    checkpoint = ledger.signed_heads.latest() if tree_size is None else ledger.signed_heads.at(tree_size)
    if checkpoint is None:
        raise FieldRefused(404, "tree_size", f"no checkpoint was published at tree size {tree_size}")
    public_key = ledger.signed_heads.public_key
    assert public_key is not None  # a checkpoint was signed with it
    origin = request.app.state.settings.origin
    note, cosignatures = ledger.signed_heads.cosigned(checkpoint)
    return {
        "origin": origin,
        "tree_size": checkpoint.tree_size,
        "root_hash": checkpoint.root_hash.hex(),
        "timestamp": checkpoint.timestamp,
        "note": checkpoint.note,
        "public_key": base64.b64encode(public_key).decode(),
        "verifier_key": log_verifier_key(origin, public_key),
        "cosigned_note": note,
        "cosignatures": [
            {"witness": c.witness, "key_id": c.key_id, "cosigned_at": c.cosigned_at, "line": c.line} for c in cosignatures
        ],
    }


WitnessKeys = Annotated[
    list[str] | None,
    Query(
        description="Witness mode: a witness's cosignature/v1 verifier key (repeat for each); the proof is given only "
        "at a checkpoint that `quorum` of them cosigned, else 409 naming those missing or invalid."
    ),
]
Quorum = Annotated[int | None, Query(ge=1, le=256, description="Witness mode: how many of the `witness` keys must have cosigned (default: all).")]


def _witnessed(ledger: Ledger, size_field: str, tree_size: int, witness: list[str] | None, quorum: int | None) -> str | None:
    """The cosigned note at `tree_size` (the query parameter `size_field`) if it meets the quorum
    (None without witness mode)."""
    if not witness:
        if quorum is not None:
            raise _invalid("quorum", "needs the witnesses' keys in `witness`")
        return None
    keys = []
    for text in witness:
        try:
            keys.append(parse_verifier_key(text, COSIGNATURE_ED25519))
        except VerifierKeyError as error:
            raise _invalid("witness", str(error)) from None
    if len({key.name for key in keys}) != len(keys):
        raise _invalid("witness", "a witness is named twice")
    if quorum is not None and quorum > len(keys):
        raise _invalid("quorum", f"must be at most the {len(keys)} witnesses given")
    found = ledger.signed_heads.at(tree_size)
    if found is None:
        raise FieldRefused(409, size_field, f"no signed checkpoint at tree size {tree_size}: witnesses cosign checkpoints (GET /v1/checkpoint)")
    note, _ = ledger.signed_heads.cosigned(found)
    try:
        enforce(quorum_of(keys, len(keys) if quorum is None else quorum), note, ed25519_verifies)
    except PolicyError as error:
        raise FieldRefused(409, "witness", str(error)) from None
    return note


class _Size(NamedTuple):
    """A tree size as a query parameter gave it: the parameter's name (which a refusal names) and value."""

    field: str
    value: int


def _proof_checkpoint(ledger: Ledger, lower: _Size, upper: _Size, witness: list[str] | None, quorum: int | None) -> str | None:
    """What a proof between two sizes checks first: the upper within the log, the lower at most the
    upper; then the checkpoint at the upper, as witness mode asks (_witnessed)."""
    size = ledger.reader.tree_size()
    if upper.value > size:
        raise _invalid(upper.field, f"the log has {size} entries")
    if lower.value > upper.value:
        raise _invalid(lower.field, f"must be at most {upper.field} ({upper.value})")
    return _witnessed(ledger, upper.field, upper.value, witness, quorum)


@router.get("/proofs/inclusion", response_model=InclusionProof, responses={**PROBLEMS, **NOT_WITNESSED})
def get_inclusion_proof(
    ledger: LedgerDep,
    _: AuditorDep,
    position: Annotated[int, Query(ge=1, le=BIGINT)],
    tree_size: Annotated[int, Query(ge=1, le=BIGINT)],
    witness: WitnessKeys = None,
    quorum: Quorum = None,
) -> dict[str, Any]:
    """The audit path proving the event at `position` is in the tree of `tree_size` leaves."""
    return {
        "checkpoint": _proof_checkpoint(ledger, _Size("position", position), _Size("tree_size", tree_size), witness, quorum),
        "position": position,
        "tree_size": tree_size,
        "leaf_hash": ledger.signed_heads.leaf_hash(position).hex(),
        "audit_path": [node.hex() for node in ledger.signed_heads.inclusion_proof(position, tree_size)],
        "root_hash": ledger.signed_heads.root(tree_size).hex(),
    }


@router.get("/proofs/consistency", response_model=ConsistencyProof, responses={**PROBLEMS, **NOT_WITNESSED})
def get_consistency_proof(
    ledger: LedgerDep,
    _: AuditorDep,
    first: Annotated[int, Query(ge=1, le=BIGINT)],
    second: Annotated[int, Query(ge=1, le=BIGINT)],
    witness: WitnessKeys = None,
    quorum: Quorum = None,
) -> dict[str, Any]:
    """The proof that the tree of `second` leaves extends the tree of `first` leaves."""
    return {
        "checkpoint": _proof_checkpoint(ledger, _Size("first", first), _Size("second", second), witness, quorum),
        "first": first,
        "second": second,
        "proof": [node.hex() for node in ledger.signed_heads.consistency_proof(first, second)],
        "first_root": ledger.signed_heads.root(first).hex(),
        "second_root": ledger.signed_heads.root(second).hex(),
    }
