"""What-if terms: the negotiators' "what if the deadline were 45 days?", applied without writing anything.

A what-if document's values are checked as a `TermsAdopted`'s are (the same date ranges and spans), so no terms
a report computes with can be ones the log would have refused: a bad one is a WhatIfRefused naming
its field, which the API answers with 422 and the CLI with exit 2, never a 500.
"""

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from domain.vocabulary import Obligation
from domain.date_ranges import CalendarDate
from domain.errors import InvalidInput
from domain.terms import NAMED_TERMS, Span, Terms, day_of
from domain.values import Duration
from ledger.application import Ledger


class WhatIf(BaseModel):
    """Durations (and optionally an effective date) replacing those of the terms in force."""

    model_config = ConfigDict(extra="forbid")

    obligations: Annotated[dict[Obligation, Duration], Field(min_length=1)]
    effective_date: CalendarDate | None = None


class WhatIfRefused(InvalidInput):
    """A what-if terms document that cannot be applied; `location` is where in it, from `terms`."""

    def __init__(self, location: tuple[Any, ...], message: str) -> None:
        self.location = ("terms", *location)
        self.field = ".".join(f"[{part}]" if isinstance(part, int) else str(part) for part in self.location).replace(".[", "[")
        self.message = message
        super().__init__(f"{self.field}: {message}")


def what_if_terms(ledger: Ledger, text: str, position: int) -> Terms:
    """A named terms document, or a JSON `WhatIf` applied to the terms in force at log `position`.

    An obligation given a new duration loses the court's recorded extensions: the what-if states
    its deadline whole. Raises WhatIfRefused on a bad document.
    """
    if text in NAMED_TERMS:
        return Terms.adopted(NAMED_TERMS[text])
    if not text.lstrip().startswith("{"):
        shown = text if len(text) <= 60 else text[:60] + "..."
        raise WhatIfRefused((), f"unknown terms document {shown!r}: name one of {sorted(NAMED_TERMS)} or give a JSON object")
    try:
        document = WhatIf.model_validate_json(text)
    except ValidationError as error:
        first = error.errors()[0]
        location = () if first["type"] == "json_invalid" else tuple(first["loc"])
        raise WhatIfRefused(location, first["msg"]) from None
    recorded = ledger.reader.terms_at(position)
    changed = {obligation: Span(d.years, d.months, d.days) for obligation, d in document.obligations.items()}
    return Terms(
        version=recorded.version,
        effective=day_of(document.effective_date.isoformat()) if document.effective_date else recorded.effective,
        durations={**recorded.durations, **changed},
        extensions=tuple(e for e in recorded.extensions if e.obligation not in changed),
        interruptions=recorded.interruptions,
        court_order_id=recorded.court_order_id,
    )
