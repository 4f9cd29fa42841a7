"""The write path: deciding a batch on the cases it touches and appending it whole, or nothing.

Appending a batch is one transaction (all of it or none of it). Each event's Merkle leaf is
written by the recorder in that same transaction. Idempotency rests on the leaves' unique
event_id; concurrency on eventsourcing's unique (stream, version): a writer that loses a race
re-reads and decides again, so nothing is lost and nothing is doubled. Personal values are sealed
with their case's key (CaseKeys.sealed) before the mapper stores an event, explicitly.
"""

import random
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple
from uuid import UUID, uuid5

from eventsourcing.persistence import IntegrityError, Mapper

from domain.access import Principal
from domain.catalog import TermsAdopted as TermsAdoptedPayload
from domain.catalog import has_personal_values, stored_data
from domain.envelope import SETTLEMENT_CASE_ID, Posting
from domain.errors import BatchRejected, CaseConflict, LedgerBusy, Problem, Refusal
from domain.events import (
    SETTLEMENT_STREAM_ID,
    STREAM_NAMESPACE,
    LedgerEvent,
    case_stream_id,
)
from domain.family_case import FamilyCase
from domain.organizations import LEDGER_OPERATOR
from domain.permissions import refuse_forbidden
from domain.sequence_warnings import sequence_warnings
from domain.settlement import Settlement
from domain.terms import SETTLEMENT_2023
from domain.values import utc_text
from ledger.decision_cache import DecisionCache
from ledger.leaves import LeafKey
from ledger.log_reader import LogReader
from ledger.personal_data import BatchKeys, PersonalData
from ledger.receipts import (
    AppendResult,
    ProposedReceipt,
    Receipt,
    Warnings,
    proposed_receipt_of,
    receipt_of,
)
from ledger.recorders.base import LedgerRecorder, LogHead
from ledger.recorders.case_keys import CaseKeyChanges
from ledger.recorders.rows import KnownEvent

# A writer that keeps losing races on a hot case gives up after this many tries (HTTP 503 with
# Retry-After: nothing was appended, and the client retries).
APPEND_ATTEMPTS = 16
MAX_BACKOFF_SECONDS = 0.25
# When the court approved the settlement: the default terms' occurred_at.
SETTLEMENT_APPROVED = "2023-12-08T00:00:00.000000Z"


@dataclass(frozen=True, slots=True)
class _Decision:
    """A batch's postings decided on the kept cases, not yet saved."""

    events: list[LedgerEvent]  # in the order to append them
    touched: list[Any]  # the aggregates they changed
    warnings: dict[str, Warnings] = field(default_factory=dict)  # by event id, for those that drew any


class _BatchAgainstLog(NamedTuple):
    """The log's head when a batch was read against it, the batch's ids already in it, and its
    postings still to decide (with their index in the batch)."""

    head: LogHead
    known: dict[str, KnownEvent]
    fresh: list[tuple[int, Posting]]


class Forgotten(NamedTuple):
    """A forgetting recorded: its event's receipt, and how many case keys it destroyed."""

    receipt: Receipt
    keys_destroyed: int


class Appender:
    def __init__(self, store: LedgerRecorder, mapper: Mapper[UUID], reader: LogReader, personal: PersonalData | None) -> None:
        self._store = store
        self._mapper = mapper
        self._reader = reader
        self._personal = personal
        # Within a process, decide-and-save runs one batch at a time: the store serialises inserts
        # anyway, and deciding on state another thread is about to change only wastes the work.
        # Across processes, a lost race is an IntegrityError, and the batch is decided again.
        self._writing = threading.Lock()
        self._decisions = DecisionCache(store, mapper)

    def append(self, postings: Sequence[Posting], principal: Principal, *, dry_run: bool = False) -> AppendResult:
        """Appends the batch whole, or raises BatchRejected / LedgerBusy having appended nothing.

        A `dry_run` decides the batch as a real post would now, on the same state and rules, and
        answers the same (its receipts ProposedReceipts for the events it would append), or
        raises the same refusal; it writes nothing at all."""
        refuse_forbidden(principal, ((i, p.type) for i, p in enumerate(postings)))
        organization = principal.organization.value
        seen: dict[str, int] = {}
        for i, posting in enumerate(postings):
            if posting.event_id in seen:
                raise BatchRejected(
                    "invalid", [Problem(i, "event_id", f"repeats the event_id of event {seen[posting.event_id]}")]
                )
            seen[posting.event_id] = i

        batch_keys = BatchKeys(self._personal, postings, organization, self._personal_cases(postings))
        if dry_run:
            with self._writing:  # the kept cases are read and changed under the write lock only
                return self._dry_run(postings, principal, batch_keys)
        for attempt in range(APPEND_ATTEMPTS):
            if attempt:  # another process won the race: back off, with jitter, before deciding again
                time.sleep(random.uniform(0, min(0.005 * 2**attempt, MAX_BACKOFF_SECONDS)))
            with self._writing:
                result = self._append_once(postings, principal, batch_keys, seen)
            if result is not None:
                return result
        raise LedgerBusy("too many concurrent writers on the same cases; nothing was appended, retry")

    def _personal_cases(self, postings: Sequence[Posting]) -> list[str]:
        """The cases whose keys seal the batch's personal values (and stand in for them in digests)."""
        personal = [i for i, posting in enumerate(postings) if has_personal_values(posting.data)]
        if personal and self._personal is None:
            message = "this ledger has no key for personal data (names, contact details, addresses, notes)"
            raise BatchRejected("invalid", [Problem(i, "data", message) for i in personal])
        return [postings[i].case_id for i in personal]

    def _append_once(
        self, postings: Sequence[Posting], principal: Principal, batch_keys: BatchKeys, seen: dict[str, int]
    ) -> AppendResult | None:
        """One decide-and-save; None if another writer got there first (nothing was appended).
        The keys are read after the head the batch is decided on (see BatchKeys)."""
        trusted = self._decisions.trusted_head()
        if trusted is not None:
            batch_keys.read()
            # No other writer seen since this process last looked: decide on the kept cases
            # without reading first. Were that wrong, or one of these ids already in the log, the
            # save clashes; a refusal might rest on stale cases. Either way nothing was appended,
            # and the batch is decided again below, from a fresh read.
            try:
                written = self._decide_and_save(list(enumerate(postings)), principal, batch_keys, seen, trusted)
            except BatchRejected:
                written = None
            if written is not None:
                return AppendResult([written[p.event_id] for p in postings], appended=len(written))
        head, known, fresh = self._read_for(postings, batch_keys)
        if not fresh:
            return AppendResult(self._reader.receipts_at([known[p.event_id].position for p in postings]), appended=0)
        self._decisions.catch_up(head)
        written = self._decide_and_save(fresh, principal, batch_keys, seen, head)
        if written is None:
            return None
        return self._result(postings, known, written)

    def _dry_run(self, postings: Sequence[Posting], principal: Principal, batch_keys: BatchKeys) -> AppendResult:
        """_append_once's answer, decided on the log as it is now (read first, as after a lost
        race: no save would catch a stale kept case), and nothing saved."""
        head, known, fresh = self._read_for(postings, batch_keys)
        proposed: dict[str, Receipt | ProposedReceipt] = {}
        if fresh:
            self._decisions.catch_up(head)
            decision = self._decide(fresh, principal)
            # The kept cases now hold events that will never be saved: a later batch must not
            # be decided on them.
            self._decisions.forget(decision.touched)
            proposed = {e.event_id: proposed_receipt_of(e, decision.warnings.get(e.event_id, ())) for e in decision.events}
        return self._result(postings, known, proposed, dry_run=True)

    def _read_for(
        self, postings: Sequence[Posting], batch_keys: BatchKeys
    ) -> _BatchAgainstLog:
        """The log's head, the batch's ids already in it (position, digest) and the postings still
        to decide, after refusing the batch (409) if any known id was posted with other content.
        The keys are read after the head (see BatchKeys)."""
        head, known = self._store.head_and_known_event_ids([p.event_id for p in postings])
        batch_keys.read()
        conflicts = [
            Problem(i, "event_id", "this event_id was already used for different content")
            for i, (posting, digest) in enumerate(zip(postings, batch_keys.digests, strict=True))
            if posting.event_id in known and known[posting.event_id].digest != digest
        ]
        if conflicts:
            raise BatchRejected("conflict", conflicts)
        return _BatchAgainstLog(head, known, [(i, posting) for i, posting in enumerate(postings) if posting.event_id not in known])

    def _result(
        self,
        postings: Sequence[Posting],
        known: dict[str, KnownEvent],
        new: Mapping[str, Receipt | ProposedReceipt],
        dry_run: bool = False,
    ) -> AppendResult:
        """The batch's receipts in its order: `new` for the events decided now, the original ones
        for those already in the log."""
        replayed = self._reader.receipts_at([known[p.event_id].position for p in postings if p.event_id in known])
        old = {receipt.event_id: receipt for receipt in replayed}
        return AppendResult([new.get(p.event_id) or old[p.event_id] for p in postings], len(new), dry_run)

    def _decide_and_save(
        self,
        postings: list[tuple[int, Posting]],
        principal: Principal,
        batch_keys: BatchKeys,
        seen: dict[str, int],
        head: LogHead,
    ) -> dict[str, Receipt] | None:
        """Decides the postings on the kept cases and saves the events right after `head`: their
        receipts by event_id, or None if another writer got there first (nothing was appended)."""
        decision = self._decide(postings, principal)
        events, touched = decision.events, decision.touched
        digests = batch_keys.digests
        keys = [LeafKey(e.event_id, digests[seen[e.event_id]] if e.event_id in seen else None) for e in events]
        try:
            sealed = batch_keys.keys.sealed
            stored = [self._mapper.to_stored_event(sealed(event)) for event in events]
            # A case's first key is stored with the first events it seals, or not at all.
            created = batch_keys.keys.created_for(e.case_id for e in events)
            # The recorder directly: Application.save() would only add snapshotting and
            # notifications (unused here) and a per-event Protocol isinstance check (costly).
            # `after`: the head the batch was decided on (if another writer got there first, the
            # PostgreSQL recorder's positions clash; on SQLite, the cases' versions).
            leaves = self._store.append(stored, keys, after=head, case_keys=CaseKeyChanges(created=created))
        except IntegrityError:
            self._decisions.forget(touched)
            return None  # another writer moved a case on, or posted one of these ids
        except BaseException:
            self._decisions.forget(touched)
            raise
        self._decisions.keep(touched, leaves)
        warnings = decision.warnings
        return {e.event_id: receipt_of(e, leaf, warnings.get(e.event_id, ())) for e, leaf in zip(events, leaves, strict=True)}

    def _decide(self, postings: list[tuple[int, Posting]], principal: Principal) -> _Decision:
        """Applies the domain's rules in batch order: the new events, in the order to append them,
        the aggregates they changed, and the warnings each event drew from its case as it stood."""
        streams = self._decisions.load(
            SETTLEMENT_STREAM_ID if p.case_id == SETTLEMENT_CASE_ID else case_stream_id(p.case_id)
            for _, p in postings
        )
        streams.update(
            self._decisions.load(case_stream_id(p.data["duplicate_case_id"]) for _, p in postings if p.type == "CasesMerged")
        )
        events: list[LedgerEvent] = []
        touched: dict[UUID, Any] = {}
        warnings: dict[str, Warnings] = {}
        organization, token = principal.organization.value, principal.name

        def case(case_id: str) -> FamilyCase | None:
            return streams.get(case_stream_id(case_id))

        try:
            for index, posting in postings:
                try:
                    if posting.case_id == SETTLEMENT_CASE_ID:
                        settlement = streams[SETTLEMENT_STREAM_ID] or Settlement.empty()
                        streams[SETTLEMENT_STREAM_ID] = touched[settlement.id] = settlement
                        events.append(settlement.record(posting, organization, token))
                        continue
                    current = case(posting.case_id)
                    if current is None and posting.type == "SeparationIdentified":
                        created = FamilyCase.identify(posting, organization, token)
                        streams[created.id] = touched[created.id] = created
                        events.append(created.pending_events[-1])  # type: ignore[arg-type]
                    elif current is None:
                        raise CaseConflict(
                            f"case {posting.case_id} has no SeparationIdentified; identify the separation first",
                            "case_id",
                        )
                    else:
                        # Derived before the posting is recorded: from the case as it stood.
                        drawn = sequence_warnings(current, posting.type, posting.occurred_at, posting.data)
                        touched[current.id] = current
                        if posting.type == "CasesMerged":
                            duplicate = case(posting.data["duplicate_case_id"])
                            if duplicate is not None:
                                touched[duplicate.id] = duplicate
                            events.extend(current.absorb(duplicate, posting, organization, token))
                        else:
                            events.append(current.record(posting, organization, token))
                        if drawn:
                            warnings[posting.event_id] = drawn
                except Refusal as refusal:
                    raise BatchRejected.of(index, refusal) from None
        except BaseException:
            self._decisions.forget(touched.values())
            raise
        return _Decision(events, list(touched.values()), warnings)

    def forget(self, case_id: str, reason: str) -> Forgotten:
        """Records PersonalDataForgotten on the case and, in the same transaction, destroys the
        keys of the case and of every case merged into it (overwritten in place): the family's
        personal data reads as redacted from then on, everywhere, while its events and leaves are
        untouched. Returns the event's receipt and how many keys are destroyed. Their old bytes may
        still be in the database's files until ledger/erasure.py's finish_erasure has removed them."""
        if self._personal is None:
            raise ValueError("this ledger has no key for personal data, so nothing to forget")
        for _ in range(APPEND_ATTEMPTS):
            case = self._reader.aggregate(FamilyCase, case_stream_id(case_id))
            if case is None:
                raise ValueError(f"there is no case {case_id}")
            family = self._reader.merged_into(case_id)
            earlier = [(case_id, e) for e in case.effective_entries_of("PersonalDataForgotten")] or self._survivors_forgetting(case)
            if earlier and not self._store.case_keys([case_id, *family]):  # a second record would destroy nothing
                by, event = earlier[-1]
                raise ValueError(
                    f"the personal data of case {case_id} was already forgotten (event {event.event_id}"
                    f"{'' if by == case_id else f' on {by}, the case it was merged into'}) and "
                    "none was sealed for it since: there is nothing left to forget"
                )
            try:
                event = case.forget_personal_data(reason, utc_text(datetime.now(UTC)))
            except Refusal as refusal:
                raise ValueError(refusal.message) from None
            try:
                with self._writing:
                    leaves = self._store.append(
                        [self._mapper.to_stored_event(event)],
                        [LeafKey(event.event_id, None)],
                        case_keys=CaseKeyChanges(forgotten=(case_id, *family)),
                    )
                break
            except IntegrityError:
                continue  # the case moved on meanwhile: record it on the case as it is now
        else:
            raise LedgerBusy("too many concurrent writers on this case; retry")
        destroyed = self._store.destroyed_case_keys()
        return Forgotten(receipt_of(event, leaves[0]), sum(len(destroyed.get(c, ())) for c in (case_id, *family)))

    def _survivors_forgetting(self, case: FamilyCase) -> list[tuple[str, Any]]:
        """The forgettings recorded on the case a merged case went into (and on, if that was merged)."""
        seen = {case.case_id}
        while case.merged_into is not None and case.merged_into not in seen:
            seen.add(case.merged_into)
            survivor = self._reader.aggregate(FamilyCase, case_stream_id(case.merged_into))
            if survivor is None:
                return []
            forgotten = survivor.effective_entries_of("PersonalDataForgotten")
            if forgotten:
                return [(survivor.case_id, e) for e in forgotten]
            case = survivor
        return []

    def adopt_default_terms(self) -> bool:
        """On first start, adopt the settlement's terms as approved; False if terms are in force.

        Posted by the ledger operator with a fixed event id, so concurrent first starts adopt once.
        """
        settlement = self._reader.aggregate(Settlement, SETTLEMENT_STREAM_ID) or Settlement.empty()
        if settlement.terms_version:
            return False
        posting = Posting(
            event_id=str(uuid5(STREAM_NAMESPACE, "default-terms/settlement-2023")),
            case_id=SETTLEMENT_CASE_ID,
            type="TermsAdopted",
            occurred_at=SETTLEMENT_APPROVED,
            data=stored_data(TermsAdoptedPayload.model_validate(SETTLEMENT_2023)),
        )
        event = settlement.record(posting, LEDGER_OPERATOR, "ledger")
        try:
            self._store.append([self._mapper.to_stored_event(event)], [LeafKey(posting.event_id, posting.digest(LEDGER_OPERATOR))])
        except IntegrityError:
            return False  # another process adopted them first
        return True
