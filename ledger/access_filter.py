"""Which lines of the access log an auditor asks for: by organization, token, action, case and a
range of days (UTC), validated before any of it reaches SQL, and turned into conditions on fixed
columns (the values always go as parameters)."""

from datetime import date, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from domain.organizations import LEDGER_OPERATOR, Organization
from domain.values import ID_PATTERN

# Every action the ledger writes to its access log (api/routes, api/cli.py).
ACTIONS = ("read case", "read history", "export", "forget", "view access log", "download access log")
ORGANIZATIONS = (*(organization.value for organization in Organization), LEDGER_OPERATOR)
FILTER_FIELDS = ("organization", "token", "action", "case_id", "from", "to")


class AccessLogFilter(BaseModel):
    """The filters, each optional; an empty one is no filter."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, populate_by_name=True, frozen=True)

    organization: str | None = Field(None, description=f"One of {', '.join(ORGANIZATIONS)}.")
    token: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = Field(
        None, description="The token's name, exactly (or the operator's, e.g. `ledger-cli (root)`)."
    )
    action: Literal[ACTIONS] | None = None  # type: ignore[valid-type]
    case_id: Annotated[str, StringConstraints(pattern=ID_PATTERN)] | None = None
    since: date | None = Field(None, alias="from", description="The first day, UTC.")
    until: date | None = Field(None, alias="to", description="The last day, UTC (included).")

    @model_validator(mode="before")
    @classmethod
    def _empty_is_none(cls, values: Any) -> Any:
        if isinstance(values, dict):
            return {key: value for key, value in values.items() if not (isinstance(value, str) and not value.strip())}
        return values

    @field_validator("organization")
    @classmethod
    def _known_organization(cls, value: str | None) -> str | None:
        if value is not None and value.upper() not in ORGANIZATIONS:
            raise ValueError(f"must be one of {', '.join(ORGANIZATIONS)}")
        return None if value is None else value.upper()

    @model_validator(mode="after")
    def _days_in_order(self) -> "AccessLogFilter":
        if self.since is not None and self.until is not None and self.until < self.since:
            raise ValueError("the range's last day (to) comes before its first (from)")
        return self

    def conditions(self) -> list[tuple[str, Any]]:
        """(SQL condition on a fixed column with one placeholder, its value) for each filter given."""
        found: list[tuple[str, Any]] = [
            (f"{column} = %s", value)
            for column, value in (("organization", self.organization), ("token", self.token), ("action", self.action), ("case_id", self.case_id))
            if value is not None
        ]
        if self.since is not None:  # `at` is UTC text (domain.values.utc_text): it sorts as it reads
            found.append(("at >= %s", self.since.isoformat()))
        if self.until is not None:
            found.append(("at < %s", (self.until + timedelta(days=1)).isoformat()))
        return found

    def query(self) -> dict[str, str]:
        """The filters as the page's query parameters (for links to other pages and the download)."""
        values = {"organization": self.organization, "token": self.token, "action": self.action, "case_id": self.case_id}
        values |= {"from": self.since.isoformat() if self.since else None, "to": self.until.isoformat() if self.until else None}
        return {key: value for key, value in values.items() if value is not None}

    def described(self) -> str:
        """The filters in words, for the access log's own line about this reading of it."""
        given = self.query()
        return "filters " + ", ".join(f"{key}={value}" for key, value in given.items()) if given else "no filters"
