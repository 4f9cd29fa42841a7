"""Settlement: the ledger-wide stream of terms, court-ordered extensions and service interruptions."""

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import BaseAggregate

from domain.envelope import Posting
from domain.errors import CaseConflict
from domain.events import SETTLEMENT_STREAM_ID, LedgerEvent
from domain.terms import court_order


class SettlementEvent(LedgerEvent):
    def mutate(self, aggregate: Any) -> Any:
        # The stream has no birth event: whichever settlement event comes first opens it.
        return super().mutate(Settlement.empty() if aggregate is None else aggregate)


class Settlement(BaseAggregate[UUID]):
    TOPIC = "Settlement"
    Event = SettlementEvent

    class TermsAdopted(SettlementEvent):
        TOPIC = "TermsAdopted"

    class DeadlineExtended(SettlementEvent):
        TOPIC = "DeadlineExtended"

    class ServiceInterrupted(SettlementEvent):
        TOPIC = "ServiceInterrupted"

    def __init__(self) -> None:
        self.terms_version = 0
        self.obligations: set[str] = set()
        # The court orders' extensions in force, (court_order_id, obligation) → the event_id that
        # recorded it: new terms replace them.
        self.extensions: dict[tuple[str, str], str] = {}

    @classmethod
    def empty(cls) -> "Settlement":
        settlement = cls.__new__(cls)
        settlement.__base_init__(originator_id=SETTLEMENT_STREAM_ID, originator_version=0, timestamp=datetime.min)
        settlement.__init__()  # type: ignore[misc]
        return settlement

    def record_entry(self, event: LedgerEvent) -> None:
        if event.type == "TermsAdopted":
            self.terms_version = event.data["terms_version"]
            self.obligations = set(event.data["obligations"])
            self.extensions = {}
        elif event.type == "DeadlineExtended":
            self.extensions.setdefault(court_order(event.data), event.event_id)

    def record(self, posting: Posting, organization: str, token_name: str) -> LedgerEvent:
        if posting.expected_version is not None and posting.expected_version != self.version:
            raise CaseConflict(
                f"expected_version is {posting.expected_version} but the settlement stream "
                f"is at version {self.version}",
                "expected_version",
            )
        if posting.type == "TermsAdopted" and posting.data["terms_version"] <= self.terms_version:
            raise CaseConflict(
                f"terms version {self.terms_version} is in force; new terms need a higher version",
                "data.terms_version",
            )
        if posting.type == "DeadlineExtended" and posting.data["obligation"] not in self.obligations:
            raise CaseConflict(
                f"the terms in force have no obligation {posting.data['obligation']}"
                if self.terms_version
                else "no terms have been adopted yet",
                "data.obligation",
            )
        if posting.type == "DeadlineExtended" and court_order(posting.data) in self.extensions:
            court_order_id, obligation = court_order(posting.data)
            raise CaseConflict(
                f"court order {court_order_id!r} already extended {obligation} (event "
                f"{self.extensions[court_order(posting.data)]}): an order extends an obligation once",
                "data.court_order_id",
            )
        event_class = {
            "TermsAdopted": self.TermsAdopted,
            "DeadlineExtended": self.DeadlineExtended,
            "ServiceInterrupted": self.ServiceInterrupted,
        }[posting.type]
        self.trigger_event(
            event_class,
            event_id=posting.event_id,
            case_id=posting.case_id,
            occurred_at=posting.occurred_at,
            organization=organization,
            token_name=token_name,
            data=posting.data,
        )
        return self.pending_events[-1]  # type: ignore[return-value]
