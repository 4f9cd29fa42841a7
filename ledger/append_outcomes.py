"""What posting a batch can come to: every event appended (receipts), or nothing appended and why.

A refusal names each envelope at fault by its index in the batch and the field that is wrong, and
its kind says who is at fault: `forbidden` (the token may not post this: 403), `conflict` (the log
or the case does not allow it now: 409) or `invalid` (a reference or value the case cannot take:
422). The API, the CLI's import and the dashboard each turn these into their own answer.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from domain.access import Principal
from domain.errors import InvalidReference, LedgerError, NotPermitted, Refusal, Unavailable
from domain.organizations import Role
from domain.permissions import allowed_types, may_post, not_permitted
from ledger.receipts import ProposedReceipt, Receipt


@dataclass(frozen=True, slots=True)
class Problem:
    index: int
    field: str
    message: str


class BatchRejected(LedgerError):
    """Nothing of the batch was appended. `kind` is forbidden, conflict or invalid; `extensions`
    are further members for the problem's answer (e.g. `may_post`)."""

    def __init__(self, kind: str, problems: list[Problem], extensions: Mapping[str, Any] | None = None) -> None:
        super().__init__("; ".join(f"event {p.index}: {p.field}: {p.message}" for p in problems))
        self.kind = kind
        self.problems = problems
        self.extensions = dict(extensions or {})


class LedgerBusy(Unavailable):
    """The batch lost too many races with other writers; nothing was appended. Retry later."""

    retry_after_seconds = 1


@dataclass(frozen=True, slots=True)
class AppendResult:
    # In a dry run, a ProposedReceipt for each event a real post would append.
    receipts: list[Receipt | ProposedReceipt]
    appended: int  # 0 when every event was a replay of one already in the log (in a dry run: would be)
    dry_run: bool = False


def refuse_forbidden(principal: Principal, types: Iterable[tuple[int, str]]) -> None:
    """Raises BatchRejected (forbidden) unless the principal may post every (index, type) given:
    an agency token, of an organization the permission matrix lets post each type. Each refusal
    names what the organization may post, and so does the problem's `may_post`."""
    if principal.role is not Role.AGENCY:
        raise BatchRejected("forbidden", [Problem(0, "", f"a {principal.role} token cannot post events")])
    organization = principal.organization.value
    forbidden = [Problem(i, "type", not_permitted(organization, t)) for i, t in types if not may_post(organization, t)]
    if forbidden:
        raise BatchRejected("forbidden", forbidden, {"may_post": allowed_types(organization)})


def refusal_kind(refusal: Refusal) -> str:
    """The kind of a batch refused for the domain's `refusal`."""
    if isinstance(refusal, NotPermitted):
        return "forbidden"
    if isinstance(refusal, InvalidReference):
        return "invalid"
    return "conflict"
