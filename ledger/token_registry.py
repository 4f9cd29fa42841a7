"""The API's tokens: each issued and revoked as an event of its own stream, stored as a hash."""

from datetime import UTC, datetime
from typing import Any

from eventsourcing.persistence import IntegrityError

from domain.access import Principal, Token, token_name_of
from domain.events import token_stream_id
from domain.organizations import Organization, Role
from ledger.log_reader import LogReader
from ledger.recorders.base import LedgerRecorder


class TokenRegistry:
    def __init__(self, store: LedgerRecorder, reader: LogReader, save: Any) -> None:
        self._store = store
        self._reader = reader
        self._save = save  # the Application's save: a token's events are its own stream's

    def issue(self, name: str, organization: Organization, role: Role) -> str:
        """A new token's secret (shown once; only its hash is kept)."""
        token, secret = Token.issue(name, organization, role, datetime.now(UTC))
        try:
            self._save(token)
        except IntegrityError:
            raise ValueError(f"a token named {name} already exists; names are never reused") from None
        return secret

    def revoke(self, name: str, reason: str) -> None:
        """Records the revocation, then ends the token's dashboard sessions. Were the process to
        stop in between, the sessions still open nothing: every request reads the token again."""
        token = self._reader.aggregate(Token, token_stream_id(name))
        if token is None:
            raise ValueError(f"there is no token named {name}")
        token.revoke(reason, datetime.now(UTC))
        self._save(token)
        self._store.delete_sessions_of(name)

    def listed(self) -> list[dict[str, Any]]:
        names = {
            self._reader.decode(n).data["name"]
            for n in self._store.select_notifications(start=None, limit=1_000_000, topics=["TokenIssued"])
        }
        return [self._reader.aggregate(Token, token_stream_id(name)).description for name in sorted(names)]

    def principal_named(self, name: str) -> Principal | None:
        """The principal of a live (issued, unrevoked) token, by its name: for the CLI's imports."""
        holder = self._reader.aggregate(Token, token_stream_id(name))
        return None if holder is None or holder.revoked else Principal(holder.name, holder.organization, holder.role)

    def authenticate(self, token: str) -> Principal | None:
        """The principal a bearer token stands for, or None (unknown, malformed or revoked)."""
        name = token_name_of(token)
        holder = self._reader.aggregate(Token, token_stream_id(name)) if name else None
        return holder.admits(token) if holder else None
