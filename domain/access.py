"""Access tokens as streams: issuing and revoking a token are events in the log like any other.

A token reads `<name>.<secret>`. The name is public and picks the stream; only the SHA-256 of the
whole token is stored, and it is compared in constant time.
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import AggregateCreated, BaseAggregate

from domain.events import LedgerEvent, token_stream_id
from domain.organizations import LEDGER_OPERATOR, Organization, Role
from domain.values import utc_text

TOKEN_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's name, organization and role."""

    name: str
    organization: Organization
    role: Role


class Token(BaseAggregate[UUID]):
    TOPIC = "Token"
    Event = LedgerEvent

    class TokenIssued(LedgerEvent, AggregateCreated):
        TOPIC = "TokenIssued"

    class TokenRevoked(LedgerEvent):
        TOPIC = "TokenRevoked"

    def __init__(self, case_id: str) -> None:
        self.name = case_id.removeprefix("token:")
        self.organization = Organization.OIG
        self.role = Role.AUDITOR
        self.digest = ""
        self.revoked = False

    def record_entry(self, event: LedgerEvent) -> None:
        if event.type == "TokenIssued":
            self.organization = Organization(event.data["organization"])
            self.role = Role(event.data["role"])
            self.digest = event.data["token_sha256"]
        else:
            self.revoked = True

    @classmethod
    def issue(cls, name: str, organization: Organization, role: Role, now: Any) -> tuple["Token", str]:
        """A new token and its secret, which is shown once and never stored."""
        if not TOKEN_NAME.fullmatch(name):
            raise ValueError("a token name is 1-40 lowercase letters, digits and dashes")
        token = f"{name}.{secrets.token_urlsafe(32)}"
        issued = cls._create(
            cls.TokenIssued,
            id=token_stream_id(name),
            **_operator_event(
                name,
                now,
                {
                    "name": name,
                    "organization": organization.value,
                    "role": role.value,
                    "token_sha256": token_digest(token),
                },
            ),
        )
        return issued, token

    def revoke(self, reason: str, now: Any) -> None:
        if self.revoked:
            raise ValueError(f"token {self.name} is already revoked")
        if not reason.strip() or len(reason) > 200:
            raise ValueError("a reason of 1-200 characters is needed: it is recorded in the log")
        self.trigger_event(self.TokenRevoked, **_operator_event(self.name, now, {"reason": reason}))

    def admits(self, token: str) -> Principal | None:
        if self.revoked or not hmac.compare_digest(self.digest, token_digest(token)):
            return None
        return Principal(self.name, self.organization, self.role)

    @property
    def description(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "organization": self.organization.value,
            "role": self.role.value,
            "revoked": self.revoked,
            "version": self.version,
        }


def token_name_of(token: str) -> str | None:
    name, dot, _ = token.partition(".")
    return name if dot and TOKEN_NAME.fullmatch(name) else None


def _operator_event(name: str, now: Any, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_id": str(uuid4()),
        "case_id": f"token:{name}",  # never a case id: those cannot contain a colon
        "occurred_at": utc_text(now),
        "organization": LEDGER_OPERATOR,
        "token_name": "ledger-cli",
        "data": data,
    }
