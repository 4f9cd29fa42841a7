"""One entry of a case's record, with the amendments later entries made to it."""

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Entry:
    """One event of the case as recorded, with the amendments later entries made to it."""

    event_id: str
    type: str
    organization: str
    occurred_at: str
    data: dict[str, Any]
    version: int
    retracted: bool = False
    corrections: list[dict[str, Any]] = field(default_factory=list)

    @property
    def effective_data(self) -> dict[str, Any]:
        data = dict(self.data)
        for correction in self.corrections:
            data.update(correction.get("changes", {}))
        return data

    @property
    def effective_occurred_at(self) -> str:
        for correction in reversed(self.corrections):
            if "occurred_at" in correction:
                return str(correction["occurred_at"])
        return self.occurred_at
