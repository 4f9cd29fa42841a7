"""The test harness: the origin test checkpoints are signed for, and tokens issued on demand."""

from uuid import uuid4

from domain.organizations import Organization, Role
from ledger.application import Ledger

ORIGIN = "test.ledger/ms-l"


class Tokens:
    """Issues tokens on demand through the client's ledger: tokens.get("KIND") → bearer headers."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger
        self._issued: dict[tuple[str, str], str] = {}

    def secret(self, organization: str, role: str = "agency") -> str:
        key = (organization, role)
        if key not in self._issued:
            name = f"{organization.lower()}-{role}-{uuid4().hex[:6]}"
            self._issued[key] = self._ledger.issue_token(name, Organization(organization), Role(role))
        return self._issued[key]

    def get(self, organization: str, role: str = "agency") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret(organization, role)}"}
