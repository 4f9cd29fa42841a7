"""What-if terms: the negotiators' "what if the deadline were 45 days?", applied without writing anything."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from domain.catalog import Obligation
from domain.terms import NAMED_TERMS, Span, Terms, day_of
from domain.values import Duration, IsoDate
from ledger.application import Ledger


class WhatIf(BaseModel):
    """Durations (and optionally an effective date) replacing those of the terms in force."""

    model_config = ConfigDict(extra="forbid")

    obligations: Annotated[dict[Obligation, Duration], Field(min_length=1)]
    effective_date: IsoDate | None = None


def what_if_terms(ledger: Ledger, text: str, position: int) -> Terms:
    """A named terms document, or a JSON `WhatIf` applied to the terms in force at log `position`.

    An obligation given a new duration loses the court's recorded extensions: the what-if states
    its deadline whole. Raises ValueError or pydantic's ValidationError on a bad document.
    """
    if text in NAMED_TERMS:
        return Terms.adopted(NAMED_TERMS[text])
    if not text.lstrip().startswith("{"):
        raise ValueError(f"unknown terms document {text!r}: name one of {sorted(NAMED_TERMS)} or give a JSON object")
    document = WhatIf.model_validate_json(text)
    recorded = ledger.terms_at(position)
    changed = {obligation: Span(d.years, d.months, d.days) for obligation, d in document.obligations.items()}
    return Terms(
        version=recorded.version,
        effective=day_of(document.effective_date.isoformat()) if document.effective_date else recorded.effective,
        durations={**recorded.durations, **changed},
        extensions=tuple(e for e in recorded.extensions if e.obligation not in changed),
        interruptions=recorded.interruptions,
        court_order_id=recorded.court_order_id,
    )
