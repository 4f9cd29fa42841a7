"""The Ledger: eventsourcing's Application, with the append path and the reads the parties need.

Appending a batch is one transaction (all of it or none of it). Each event's Merkle leaf is
written by the recorder in that same transaction. Idempotency rests on the leaves' unique
event_id; concurrency on eventsourcing's unique (stream, version): a writer that loses a race
re-reads and decides again, so nothing is lost and nothing is doubled.
"""

import random
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, Mapper, StoredEvent

from domain.access import Principal, Token, token_name_of
from domain.as_of import AsOf, Point
from domain.catalog import TermsAdopted as TermsAdoptedPayload
from domain.catalog import has_personal_values, stored_data
from domain.envelope import SETTLEMENT_CASE_ID, Posting
from domain.errors import CaseConflict, Refusal
from domain.events import STREAM_NAMESPACE, SETTLEMENT_STREAM_ID, LedgerEvent, case_stream_id, token_stream_id
from domain.family_case import FamilyCase
from domain.organizations import LEDGER_OPERATOR, Organization, Role
from domain.sequence_warnings import sequence_warnings
from domain.settlement import Settlement
from domain.terms import SETTLEMENT_2023, Terms, fold_terms
from domain.values import utc_text
from ledger.append_outcomes import AppendResult, BatchRejected, LedgerBusy, Problem, refuse_forbidden, refusal_kind
from ledger.as_of import resolve
from ledger.case_history import HISTORY_PAGE, HistoryPage, history_page
from ledger.checkpoints import Signer
from ledger.config import persistence_env
from ledger.decision_cache import DecisionCache
from ledger.key_files import create_database_file
from ledger.leaves import LeafKey
from ledger.mapper import LedgerMapper
from ledger.personal_data import BatchKeys, PersonalData
from ledger.receipts import ProposedReceipt, Receipt, Warnings, proposed_receipt_of, receipt_of, warnings_when_recorded
from ledger.recorders.base import LedgerRecorder, LogHead, LoggedEvent, StoredCheckpoint
from ledger.recorders.case_keys import CaseKeyChanges
from ledger.recorders.sqlite import in_wal_mode
from ledger.tree import LogTree

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


class Ledger(Application[UUID]):
    name = "Ledger"

    def __init__(
        self, database_url: str, signer: Signer | None = None, master_key: bytes | None = None, create_tables: bool = True
    ) -> None:
        """`master_key` seals personal data (see ledger/personal_data.py); without one, postings
        carrying personal fields are refused. `create_tables=False` for a helper process of a
        ledger already open: schema changes run by several processes at once can deadlock."""
        env = persistence_env(database_url)
        if not create_tables:
            env["CREATE_TABLE"] = "no"
        self.database_url = database_url  # for processes that open the same database (may hold a password: never log it)
        if "SQLITE_DBNAME" in env:
            create_database_file(Path(env["SQLITE_DBNAME"]))  # 0600, before SQLite makes it 0644
            in_wal_mode(env["SQLITE_DBNAME"], float(env["SQLITE_LOCK_TIMEOUT"]))
        try:
            super().__init__(env)
        except BaseException:
            # The library opens its connection pool before it can fail (e.g. on an unreachable
            # server): close it here, or its threads outlive this half-built ledger.
            if (factory := vars(self).get("factory")) is not None:
                factory.close()
            raise
        assert isinstance(self.recorder, LedgerRecorder)
        self.personal = PersonalData(self.recorder, master_key) if master_key is not None else None
        self.store: LedgerRecorder = self.recorder
        self.backend = "postgresql" if env["PERSISTENCE_MODULE"].endswith("postgres") else "sqlite"
        self.signer = signer
        self.tree = LogTree(self.store.leaf_hashes)
        # Within a process, decide-and-save runs one batch at a time: the store serialises inserts
        # anyway, and deciding on state another thread is about to change only wastes the work.
        # Across processes, a lost race is an IntegrityError, and the batch is decided again.
        self._writing = threading.Lock()
        self._decisions = DecisionCache(self.store, self.mapper)

    def construct_mapper(self) -> Mapper[UUID]:
        return self.factory.mapper(transcoder=self.construct_transcoder(), mapper_class=LedgerMapper)

    # --- appending ------------------------------------------------------------------------------

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

        batch_keys = BatchKeys(self.personal, postings, organization, self._personal_cases(postings))
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
        if personal and self.personal is None:
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
            return AppendResult(self._receipts_at([known[p.event_id][0] for p in postings]), appended=0)
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
    ) -> tuple[LogHead, dict[str, tuple[int, str | None]], list[tuple[int, Posting]]]:
        """The log's head, the batch's ids already in it (position, digest) and the postings still
        to decide, after refusing the batch (409) if any known id was posted with other content.
        The keys are read after the head (see BatchKeys)."""
        head, known = self.store.head_and_known_event_ids([p.event_id for p in postings])
        batch_keys.read()
        conflicts = [
            Problem(i, "event_id", "this event_id was already used for different content")
            for i, (posting, digest) in enumerate(zip(postings, batch_keys.digests, strict=True))
            if posting.event_id in known and known[posting.event_id][1] != digest
        ]
        if conflicts:
            raise BatchRejected("conflict", conflicts)
        return head, known, [(i, posting) for i, posting in enumerate(postings) if posting.event_id not in known]

    def _result(
        self,
        postings: Sequence[Posting],
        known: dict[str, tuple[int, str | None]],
        new: Mapping[str, Receipt | ProposedReceipt],
        dry_run: bool = False,
    ) -> AppendResult:
        """The batch's receipts in its order: `new` for the events decided now, the original ones
        for those already in the log."""
        replayed = self._receipts_at([known[p.event_id][0] for p in postings if p.event_id in known])
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
            stored = [self.mapper.to_stored_event(sealed(event)) for event in events]
            # A case's first key is stored with the first events it seals, or not at all.
            created = batch_keys.keys.created_for(e.case_id for e in events)
            # The recorder directly: Application.save() would only add snapshotting and
            # notifications (unused here) and a per-event Protocol isinstance check (costly).
            # `after`: the head the batch was decided on (if another writer got there first, the
            # PostgreSQL recorder's positions clash; on SQLite, the cases' versions).
            leaves = self.store.append(stored, keys, after=head, case_keys=CaseKeyChanges(created=created))
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
                    raise BatchRejected(refusal_kind(refusal), [Problem(index, refusal.field, refusal.message)]) from None
        except BaseException:
            self._decisions.forget(touched.values())
            raise
        return _Decision(events, list(touched.values()), warnings)

    def _get(self, cls: type, stream_id: UUID, version: int | None = None) -> Any:
        try:
            aggregate = self.repository.get(stream_id, version=version)
        except AggregateNotFoundError:
            return None
        return aggregate if isinstance(aggregate, cls) else None

    # --- reading --------------------------------------------------------------------------------

    def resolve(self, as_of: AsOf) -> Point:
        """The point of the log `as_of` stands for; raises BeyondTheLog past the latest one that
        can be reported (ledger/as_of.py)."""
        return resolve(self.store, as_of)

    def case(self, case_id: str, position: int | None = None) -> FamilyCase | None:
        """The case as the log stood once it held positions 1..position, or now."""
        stream_id = case_stream_id(case_id)
        if position is None:
            return self._get(FamilyCase, stream_id)
        version = self.store.stream_version_at(stream_id, position)
        return self._get(FamilyCase, stream_id, version) if version else None

    def history(self, case_id: str, after: int = 0, limit: int = HISTORY_PAGE) -> HistoryPage | None:
        """The case's events after version `after` (at most `limit`), each marked with the
        corrections and retraction amending it, wherever they sit; None if there is no such case."""
        return history_page(self.store, self.decode, case_id, case_stream_id(case_id), after, limit)

    def stream_through(self, stream_id: UUID, position: int) -> list[LedgerEvent]:
        """A stream's events among log positions 1..position, in order."""
        return [self.decode(stored) for stored in self.store.stream_through(stream_id, position)]

    def terms_at(self, position: int) -> Terms:
        """The settlement's terms in force once the log held positions 1..position."""
        return fold_terms((event.type, event.data) for event in self.stream_through(SETTLEMENT_STREAM_ID, position))

    def log(self, after: int, limit: int) -> list[tuple[LoggedEvent, LedgerEvent]]:
        return [(logged, self.decode(logged.stored)) for logged in self.store.logged_after(after, limit)]

    def decode(self, stored: StoredEvent) -> Any:
        return self.mapper.to_domain_event(stored)

    def _receipts_at(self, positions: list[int]) -> list[Receipt]:
        """The receipts of events already in the log, as they were given (their warnings derived again)."""
        if not positions:
            return []
        logged = [(entry, self.decode(entry.stored)) for entry in self.store.logged_at(positions)]
        warnings = warnings_when_recorded(self.store, self.decode, (event for _, event in logged))
        by_position = {entry.position: receipt_of(event, entry, warnings.get(event.event_id, ())) for entry, event in logged}
        return [by_position[position] for position in positions]

    # --- checkpoints ----------------------------------------------------------------------------

    def checkpoint(self, tree_size: int | None = None) -> StoredCheckpoint | None:
        """The signed checkpoint at `tree_size`, or the latest one, signing the current head if newer."""
        if tree_size is not None:
            found = self.store.checkpoints(tree_size=tree_size)
            return found[0] if found else None
        size = self.store.tree_size()
        latest = self.store.checkpoints(latest=True)
        if latest and latest[0].tree_size >= size:
            return latest[0]
        return self.sign_checkpoint(size)

    def sign_checkpoint(self, size: int | None = None) -> StoredCheckpoint:
        if self.signer is None:
            raise RuntimeError("this ledger has no signing key configured")
        size = self.store.tree_size() if size is None else size
        signed = self.signer.sign(size, self.tree.root(size), utc_text(datetime.now(UTC)))
        self.store.insert_checkpoint(StoredCheckpoint(size, signed.root_hash, signed.timestamp, signed.note))
        return self.store.checkpoints(tree_size=size)[0]  # whichever process's signature landed first

    # --- personal data ---------------------------------------------------------------------------

    def reveal(self, case_id: str, data: Any) -> tuple[Any, int]:
        """`data` of the case with its sealed personal values opened (redacted where forgotten)."""
        if self.personal is None:
            return data, 0
        return self.personal.reveal(case_id, data)

    def forget_personal_data(self, case_id: str, reason: str) -> tuple[Receipt, int]:
        """Records PersonalDataForgotten on the case and, in the same transaction, destroys the
        case's keys (overwritten in place): its personal data reads as redacted from then on,
        everywhere, while its events and leaves are untouched. Returns the event's receipt and how
        many of the case's keys are destroyed. Their old bytes may still be in the database's files
        until ledger/erasure.py's finish_erasure has removed them."""
        if self.personal is None:
            raise ValueError("this ledger has no key for personal data, so nothing to forget")
        for _ in range(APPEND_ATTEMPTS):
            case = self._get(FamilyCase, case_stream_id(case_id))
            if case is None:
                raise ValueError(f"there is no case {case_id}")
            try:
                event = case.forget_personal_data(reason, utc_text(datetime.now(UTC)))
            except Refusal as refusal:
                raise ValueError(refusal.message) from None
            try:
                with self._writing:
                    leaves = self.store.append(
                        [self.mapper.to_stored_event(event)],
                        [LeafKey(event.event_id, None)],
                        case_keys=CaseKeyChanges(forgotten=(case_id,)),
                    )
                break
            except IntegrityError:
                continue  # the case moved on meanwhile: record it on the case as it is now
        else:
            raise LedgerBusy("too many concurrent writers on this case; retry")
        return receipt_of(event, leaves[0]), len(self.store.destroyed_case_keys().get(case_id, ()))

    def record_access(self, who: Principal | str, action: str, case_id: str | None, detail: str) -> None:
        """Notes in the access log who read personal data or exported the log, and when: a token's
        principal, or the operator at the command line."""
        if isinstance(who, Principal):
            token, organization, role = who.name, who.organization.value, who.role.value
        else:
            token, organization, role = who, LEDGER_OPERATOR, "operator"
        self.store.record_access(utc_text(datetime.now(UTC)), token, organization, role, action, case_id, detail)

    # --- the settlement's terms -----------------------------------------------------------------

    def adopt_default_terms(self) -> bool:
        """On first start, adopt the settlement's terms as approved; False if terms are in force.

        Posted by the ledger operator with a fixed event id, so concurrent first starts adopt once.
        """
        settlement = self._get(Settlement, SETTLEMENT_STREAM_ID) or Settlement.empty()
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
            self.store.append([self.mapper.to_stored_event(event)], [LeafKey(posting.event_id, posting.digest(LEDGER_OPERATOR))])
        except IntegrityError:
            return False  # another process adopted them first
        return True

    # --- tokens ---------------------------------------------------------------------------------

    def issue_token(self, name: str, organization: Organization, role: Role) -> str:
        token, secret = Token.issue(name, organization, role, datetime.now(UTC))
        try:
            self.save(token)
        except IntegrityError:
            raise ValueError(f"a token named {name} already exists; names are never reused") from None
        return secret

    def revoke_token(self, name: str, reason: str) -> None:
        """Records the revocation, then ends the token's dashboard sessions. Were the process to
        stop in between, the sessions still open nothing: every request reads the token again."""
        token = self._get(Token, token_stream_id(name))
        if token is None:
            raise ValueError(f"there is no token named {name}")
        token.revoke(reason, datetime.now(UTC))
        self.save(token)
        self.store.delete_sessions_of(name)

    def tokens(self) -> list[dict[str, Any]]:
        names = {
            self.decode(n).data["name"]
            for n in self.store.select_notifications(start=None, limit=1_000_000, topics=["TokenIssued"])
        }
        return [self._get(Token, token_stream_id(name)).description for name in sorted(names)]

    def principal_named(self, name: str) -> Principal | None:
        """The principal of a live (issued, unrevoked) token, by its name: for the CLI's imports."""
        holder = self._get(Token, token_stream_id(name))
        return None if holder is None or holder.revoked else Principal(holder.name, holder.organization, holder.role)

    def authenticate(self, token: str) -> Principal | None:
        """The principal a bearer token stands for, or None (unknown, malformed or revoked)."""
        name = token_name_of(token)
        holder = self._get(Token, token_stream_id(name)) if name else None
        return holder.admits(token) if holder else None


