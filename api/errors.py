"""How each error of the tree (domain/errors.py) answers: one table, used by every door.

The API answers a problem (RFC 9457) with the status, its type named by the status (api/problems.py);
the CLI prints one line and exits with the code. A class not in the table answers as its nearest
ancestor that is.

    error class                 HTTP  CLI exit
    NotPermitted                403   1
    InvalidReference            422   1
    Refusal (CaseConflict...)   409   1
    UnreadableJSON              400   2   (a posted body read strictly: domain/canonical_json.py)
    InvalidInput                422   2   (the caller's input: a usage error)
    Unavailable                 503   1   (with Retry-After)
    ConfigurationError          500   2
    ExportError                 500   1
    ProjectionFailed            500   1
    Tampered, CheckpointError,
      ProofError                500   1   (the record contradicts its signature)
    PolicyError                 409   1   (too few witnesses cosigned: ledger/witness_policy.py)
    VerifierKeyError            422   2   (a C2SP verifier key given that cannot be used: ledger/vkeys.py)
    LedgerError (any other)     500   1

A batch refused whole (BatchRejected) answers as the Refusal class of its kind: forbidden as
NotPermitted, conflict as CaseConflict, invalid as InvalidReference.
"""

from dataclasses import dataclass

from domain.canonical_json import UnreadableJSON
from domain.errors import (
    BatchRejected,
    CaseConflict,
    ConfigurationError,
    ExportError,
    InvalidInput,
    InvalidReference,
    LedgerError,
    NotPermitted,
    ProjectionFailed,
    Refusal,
    Unavailable,
)
from ledger.bundle_format import Tampered
from ledger.merkle import ProofError
from ledger.signed_notes import CheckpointError
from ledger.vkeys import VerifierKeyError
from ledger.witness_policy import PolicyError


@dataclass(frozen=True, slots=True)
class Answer:
    status: int  # the HTTP status, which names the problem's type (api/problems.py)
    exit_code: int  # the CLI's


ANSWERS: dict[type[BaseException], Answer] = {
    NotPermitted: Answer(403, 1),
    InvalidReference: Answer(422, 1),
    Refusal: Answer(409, 1),
    UnreadableJSON: Answer(400, 2),
    InvalidInput: Answer(422, 2),
    Unavailable: Answer(503, 1),
    ConfigurationError: Answer(500, 2),
    ExportError: Answer(500, 1),
    ProjectionFailed: Answer(500, 1),
    Tampered: Answer(500, 1),
    CheckpointError: Answer(500, 1),
    ProofError: Answer(500, 1),
    PolicyError: Answer(409, 1),
    VerifierKeyError: Answer(422, 2),
    LedgerError: Answer(500, 1),
}
# A batch's kind names the Refusal class it answers as.
BATCH_KINDS: dict[str, type[Refusal]] = {"forbidden": NotPermitted, "conflict": CaseConflict, "invalid": InvalidReference}
# Every error the table answers for: what each door catches.
ANSWERED: tuple[type[BaseException], ...] = tuple(ANSWERS)


def answer_for(error: BaseException) -> Answer:
    """The table's row for `error`: its class's, or its nearest ancestor's in the table."""
    if isinstance(error, BatchRejected):
        return answer_for(BATCH_KINDS[error.kind](""))
    for cls in type(error).__mro__:
        if cls in ANSWERS:
            return ANSWERS[cls]
    raise LookupError(f"{type(error).__name__} is not an error the ledger answers for")


def field_of(error: BaseException) -> str:
    """Where the caller gave the value at fault (e.g. `as_of`, `terms.effective_date`), or ''."""
    return str(getattr(error, "field", "") or "")


def _check_table() -> None:
    """Every root of the tree has its row (import time; raises, so `python -O` keeps it)."""
    missing = [cls.__name__ for cls in LedgerError.__subclasses__() if not any(issubclass(cls, row) for row in ANSWERS)]
    if missing:
        raise RuntimeError(f"api/errors.py: no answer for {', '.join(missing)}")
    if set(BATCH_KINDS) != {"forbidden", "conflict", "invalid"}:
        raise RuntimeError("api/errors.py: a batch kind without its Refusal class")


_check_table()
