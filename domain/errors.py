"""Every error the ledger raises on purpose, in one tree rooted at `LedgerError`.

    LedgerError                     something the ledger refuses, or cannot do, said to a person
    ├── Refusal                     a posting the case's rules do not allow (names the field)
    │   ├── CaseConflict            … contradicts the case's recorded state
    │   ├── InvalidReference        … names a member or event the case does not have
    │   └── NotPermitted            … is not this organization's to post
    ├── BatchRejected               a batch refused whole: forbidden, conflict or invalid
    ├── InvalidInput                a value given by a caller that cannot be used
    │   ├── UnreadableJSON          JSON whose meaning would be guessed: a key twice, not UTF-8 (domain/canonical_json.py)
    │   ├── AsOfError               an as-of that is no point of the log (domain/as_of.py)
    │   │   └── BeyondTheLog        … past the latest point that can be reported (ledger/as_of.py)
    │   └── WhatIfRefused           what-if terms that cannot be applied (projections/what_if.py)
    ├── Unavailable                 cannot answer just now: retry
    │   ├── LedgerBusy              a batch lost too many races with other writers
    │   ├── ProjectionBehind        the reports' projection has not reached the point (projections/report.py)
    │   ├── ReadModelOutdated       the reports' tables are in another format (projections/runner.py)
    │   └── WitnessUnavailable      a witness did not cosign this time: retried (ledger/witnessing.py)
    ├── ConfigurationError          the operator's settings or key files cannot be used
    │   ├── DatabaseURLError        (ledger/config.py)
    │   ├── KeyFileError            the signing key file (ledger/checkpoints.py)
    │   │   └── SigningKeyMismatch  … not the key (or origin) the latest checkpoint verifies with
    │   ├── KeyFileUnusable         a key file that cannot be read or created there (ledger/key_files.py)
    │   ├── KeyFileMissing          a key file missing for a database that used one (api/bootstrap.py)
    │   ├── SettingsError           a LEDGER_* value that cannot be used (api/settings.py)
    │   ├── MasterKeyError          the personal-data master key file (ledger/personal_data.py)
    │   └── WitnessConfigError      LEDGER_WITNESSES, or a witness's own settings (ledger/witnessing.py, witness/config.py)
    ├── NotYetWitnessed             a court exhibit asked for witnesses its checkpoint lacks (ledger/signed_heads.py)
    ├── ExportError                 a bundle cannot be written where asked (ledger/export.py)
    └── ProjectionFailed            the projector cannot go on (projections/projection_faults.py, partitioned.py)

    (outside the root) Tampered, CheckpointError, ProofError, PolicyError, VerifierKeyError: the
    offline verifier's (ledger/bundle_verifier.py, notes.py, merkle.py, witness_policy.py, vkeys.py), shipped in every bundle as a verify.py
    that needs nothing but the standard library, so they cannot derive from this module.

How each answers (HTTP status, problem type, CLI exit code) is one table, api/errors.py, used by
the API, the dashboard and the CLI. The roots are defined here; each layer defines its subclasses
where they arise. Errors that are not ours (the database unreachable, a disk full) keep their own
types: ledger/faults.py classifies them.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class LedgerError(Exception):
    """The root: an error the ledger raises on purpose, with a message meant for a person."""


class Refusal(LedgerError):
    """A posting the rules do not allow; nothing of its batch is appended."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class CaseConflict(Refusal):
    """The posting contradicts the case's recorded state (e.g. no SeparationIdentified yet)."""


class InvalidReference(Refusal):
    """The posting names a member or event the case does not have, or a value a correction breaks."""


class NotPermitted(Refusal):
    """The posting's organization may not do this (e.g. correct another organization's entry)."""


@dataclass(frozen=True, slots=True)
class Problem:
    """What is wrong with one envelope of a batch: its index in the batch, the field, why."""

    index: int
    field: str
    message: str


class BatchRejected(LedgerError):
    """Nothing of the batch was appended. `kind` says who is at fault: `forbidden` (the token may
    not post this: 403), `conflict` (the log or the case does not allow it now: 409) or `invalid`
    (a reference or value the case cannot take: 422). `extensions` are further members for the
    problem's answer (e.g. `may_post`). The API, the CLI's import and the dashboard each turn it
    into their own answer."""

    def __init__(self, kind: str, problems: list[Problem], extensions: Mapping[str, Any] | None = None) -> None:
        super().__init__("; ".join(f"event {p.index}: {p.field}: {p.message}" for p in problems))
        self.kind = kind
        self.problems = problems
        self.extensions = dict(extensions or {})

    @classmethod
    def of(cls, index: int, refusal: Refusal) -> "BatchRejected":
        """The batch refused because its envelope `index` drew the case rules' `refusal`."""
        if isinstance(refusal, NotPermitted):
            kind = "forbidden"
        elif isinstance(refusal, InvalidReference):
            kind = "invalid"
        else:
            kind = "conflict"
        return cls(kind, [Problem(index, refusal.field, refusal.message)])


class InvalidInput(LedgerError, ValueError):
    """A value a caller gave that cannot be used. `field`: where it was given (e.g. `as_of`)."""

    field = ""


class Unavailable(LedgerError):
    """The ledger cannot answer just now; the same request later may succeed."""

    retry_after_seconds = 2


class LedgerBusy(Unavailable):
    """The batch lost too many races with other writers; nothing was appended. Retry later."""

    retry_after_seconds = 1


class ConfigurationError(LedgerError, ValueError):
    """The operator's settings or key files cannot be used: the ledger does not start."""


class ExportError(LedgerError):
    """A bundle cannot be written where it was asked for."""


class ProjectionFailed(LedgerError):
    """The projector cannot go on; what it wrote so far is kept, unfinished."""
