"""Response shapes of the HTTP contract (DESIGN.md §3), as published in the OpenAPI schema."""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, create_model

from api.problems import PROBLEM_TYPE_PREFIX
from domain.sequence_warnings import WARNING_CODES
from projections.report_numbers import DATA_QUALITY
from projections.definitions import DEFINITIONS


class ProblemItem(BaseModel):
    index: int | None = Field(description="Position of the offending event in the batch, if any.")
    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field(description=f"The kind of problem: `{PROBLEM_TYPE_PREFIX}<name>` (the names: see the API's description).")
    title: str = Field(description="The kind's summary, the same for every problem of that type.")
    status: int
    detail: str
    errors: list[ProblemItem] | None = None
    may_post: list[str] | None = Field(
        default=None, description="On a 403 from POST /v1/events: the event types the token's organization may post."
    )


class Receipt(BaseModel):
    event_id: str
    case_id: str
    type: str
    version: int = Field(description="The event's order within its case (1 for SeparationIdentified).")
    position: int = Field(description="The event's place in the whole log; its Merkle leaf index is position − 1.")
    recorded_at: str = Field(description="When the ledger accepted it (UTC); never decreases with position.")
    leaf_hash: str = Field(description="Lowercase hex SHA-256 Merkle leaf hash.")


class SequenceWarning(BaseModel):
    """A sequence the rules allow but a monitor would question; the report counts each code under `data_quality`."""

    code: Literal[WARNING_CODES]  # type: ignore[valid-type]
    message: str = Field(description="What was questionable, with the dates it read (never personal data).")


class PostedReceipt(Receipt):
    warnings: list[SequenceWarning] = Field(description="What a monitor would question about the event, given its case as it stood; usually none.")


class ProposedReceipt(BaseModel):
    """A dry run's receipt for an event a real post would append: what only storing gives (position,
    recorded_at, leaf_hash) is absent."""

    event_id: str
    case_id: str
    type: str
    version: int = Field(description="The version the event would have in its case.")
    warnings: list[SequenceWarning]


class PostedReceipts(BaseModel):
    receipts: list[PostedReceipt | ProposedReceipt] = Field(
        description="One per envelope, in the batch's order. In a dry run, an event already in the log has its "
        "receipt, and one it would append a receipt without position, recorded_at and leaf_hash."
    )


class RecordedBy(BaseModel):
    organization: str
    token: str


class Correction(BaseModel):
    """A later EntryCorrected amending the event."""

    event_id: str = Field(description="The EntryCorrected event's id.")
    position: int = Field(description="Its place in the log.")
    version: int = Field(description="Its version in the case (its page: `after` = version − 1).")
    changes: dict[str, Any] = Field(description="New values of fields of the event's data (null: a field cleared).")
    occurred_at: str | None = Field(description="The corrected occurred_at, or null if this correction left it as it was.")
    reason: str


class Retraction(BaseModel):
    """The later EntryRetracted that withdrew the event: it no longer counts."""

    event_id: str = Field(description="The EntryRetracted event's id.")
    position: int = Field(description="Its place in the log.")
    version: int = Field(description="Its version in the case.")
    reason: str


class HistoryEntry(BaseModel):
    event_id: str
    case_id: str
    type: str
    occurred_at: str = Field(description="As recorded; a correction's `occurred_at` supersedes it.")
    data: dict[str, Any] = Field(description="As recorded, never edited; corrections' `changes` supersede fields of it.")
    recorded_by: RecordedBy
    receipt: Receipt
    corrections: list[Correction] = Field(
        description="The corrections of this event wherever they sit in the history, in the order recorded: "
        "for each field, the last one that changes it stands."
    )
    retraction: Retraction | None = Field(description="The retraction of this event, if it was retracted.")


class CaseHistory(BaseModel):
    case_id: str
    version: int = Field(description="The case's version (its last event's) when this page was read.")
    events: list[HistoryEntry] = Field(description="The page: the case's events after `after`, in order.")
    next_after: int | None = Field(description="Pass as `after` for the next page; null on the last page.")


class Member(BaseModel):
    member_id: str
    role: str
    birth_year: int | None
    name: str | None
    status: str | None = Field(
        description="For children: reunified, declined, in_process, informed, whereabouts_unknown or not_reached."
    )


class CaseView(BaseModel):
    """A case as the log held it at `position` (not the case-status projection's rows)."""

    case_id: str
    position: int = Field(description="The log position this state was read at (the as-of point).")
    version: int
    identified: bool
    separation: dict[str, Any]
    members: list[Member]
    milestones: dict[str, str | None]
    contact_attempts: int
    preference: str | None
    travel_arranged_by: str | None
    services: dict[str, str]
    closed: str | None
    merged_into: str | None
    merged_cases: list[str]
    corrections: int
    retractions: int


class LogEntry(BaseModel):
    position: int
    case_id: str
    type: str
    version: int
    recorded_at: str
    leaf_hash: str


class LogPage(BaseModel):
    entries: list[LogEntry]
    next_after: int = Field(description="Pass as `after` to read on.")


class Checkpoint(BaseModel):
    origin: str
    tree_size: int
    root_hash: str
    timestamp: str
    note: str = Field(description="The C2SP signed note: origin, size, base64 root, timestamp, blank line, signature.")
    public_key: str = Field(description="Ed25519 public key, base64 of the raw 32 bytes.")
    verifier_key: str = Field(
        description="The same key as a C2SP note verifier key, `<origin>+<key ID hex>+<base64(0x01 || key)>`."
    )
    cosigned_note: str = Field(description="`note` with every witness cosignature collected (cosignature/v1 lines).")
    cosignatures: list["Cosignature"] = Field(description="The witnesses' cosignatures of this checkpoint.")


class Cosignature(BaseModel):
    witness: str = Field(description="The witness's name (its key name).")
    key_id: str = Field(description="Its cosignature/v1 key ID, hex.")
    cosigned_at: int = Field(description="The cosignature's timestamp, POSIX seconds.")
    line: str = Field(description="The note signature line.")


WITNESSED_CHECKPOINT = "Witness mode only: the cosigned checkpoint note at the proof's tree size, which met the quorum."


class InclusionProof(BaseModel):
    position: int
    tree_size: int
    leaf_hash: str
    audit_path: list[str]
    root_hash: str
    checkpoint: str | None = Field(default=None, description=WITNESSED_CHECKPOINT)


class ConsistencyProof(BaseModel):
    first: int
    second: int
    proof: list[str]
    first_root: str
    second_root: str
    checkpoint: str | None = Field(default=None, description=WITNESSED_CHECKPOINT)


class ProjectionFault(BaseModel):
    position: int = Field(description="The log position the projection cannot get past (the event whose projection failed).")
    error_type: str = Field(description="The failure's exception type (its message is never shown: it may quote personal data).")
    first_failed_at: str = Field(description="When it first failed there (UTC).")
    last_failed_at: str = Field(description="When it last did; it is retried every few seconds.")
    attempts: int


class ProjectionHealth(BaseModel):
    generation: int
    position: int = Field(description="The last log position the case-status projection has applied.")
    lag: int = Field(description="Log head minus position: events not yet in reports.")
    fault: ProjectionFault | None = Field(
        default=None, description="Set while the projection is stalled by a failure, in whichever process it runs."
    )


class WitnessHealth(BaseModel):
    name: str
    url: str
    up: bool | None = Field(description="Whether its last attempt succeeded; null before the first.")
    cosigned_tree_size: int | None
    last_error: str | None
    last_error_at: str | None


class Health(BaseModel):
    status: str = Field(description="ok; stalled (the projection cannot get past `projection.fault`); or unavailable.")
    database: str
    tree_size: int | None
    projection: ProjectionHealth | None = None
    witnesses: list[WitnessHealth] = Field(default=[], description="The witnesses that cosign checkpoints; one down does not make the ledger unhealthy.")


class ReportCheckpoint(BaseModel):
    tree_size: int = Field(description="The last log position the report includes.")
    root_hash: str = Field(description="Lowercase hex RFC 6962 root of the tree of that size.")


class ReportWitnessed(BaseModel):
    tree_size: int | None = Field(
        description="The earliest checkpoint at or after the report's tree size that witnesses cosigned; null: not yet witnessed."
    )
    root_hash: str | None = Field(description="Its root hash (lowercase hex); null: not yet witnessed.")
    witnesses: list[str] = Field(description="The witnesses, by name, whose cosignatures of it the ledger holds (none: not yet witnessed).")


class RemainingByStatus(BaseModel):
    in_process: int
    informed: int
    not_reached: int
    whereabouts_unknown: int
    declined: int


class Children(BaseModel):
    identified: int
    reunified: int
    remaining: int
    remaining_by_status: RemainingByStatus


class Families(BaseModel):
    identified: int
    registered: int
    reunified: int
    services: dict[str, int]


class Counts(BaseModel):
    identified: int
    reunified: int


class DeadlineStatus(BaseModel):
    """A deadline clock (first outreach, parole decision, work authorization, asylum filing window,
    parole renewal, housing and medical starts): cases by status, and the median days to meet it."""

    kind: Literal["deadline"]
    met: int
    met_late: int
    open: int
    overdue: int
    not_applicable: int
    median_days: float | None


class DurationStatus(BaseModel):
    """A duration clock (parole term, behavioral health available): kept for its period or breached;
    no median (it is not fulfilled on a day)."""

    kind: Literal["duration"]
    met: int
    open: int
    breached: int
    not_applicable: int


ObligationStatus = Annotated[DeadlineStatus | DurationStatus, Field(discriminator="kind")]


# Each count with its definition (projections/definitions.py), from the report's own list of them.
DataQuality = create_model(
    "DataQuality",
    **{
        measure: (int, Field(description=DEFINITIONS[f"data_quality.{measure}"].format(late_report_days="LEDGER_LATE_REPORT_DAYS (30)")))
        for measure in DATA_QUALITY
    },  # type: ignore[call-overload]
)


class ComplianceReport(BaseModel):
    """The compliance report; every number is defined at /v1/reports/definitions (and in docs/definitions.md)."""

    as_of: str = Field(description="Only what was recorded by this instant counts.")
    checkpoint: ReportCheckpoint
    witnessed: ReportWitnessed = Field(description="The witnessed checkpoint vouching for the report's log.")
    terms_version: int
    children: Children
    families: Families
    breakdowns: dict[str, dict[str, Counts]] = Field(
        description="nationality, border_sector, separation_month and age_band, each value → children counts."
    )
    reunified_by_facilitator: dict[str, int]
    reunified_by_month: dict[str, int] = Field(description="Reunified children by the month of their reunification.")
    obligations: dict[str, ObligationStatus]
    data_quality: DataQuality
    terms: dict[str, Any] = Field(description="The terms applied: durations, extensions, and whether they are what-if.")


_PROBLEM = {"model": Problem, "content": {"application/problem+json": {}}}

PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {**_PROBLEM, "description": "No token, or an unknown or revoked one."},
    403: {**_PROBLEM, "description": "The token's role or organization may not do this."},
    422: {**_PROBLEM, "description": "Invalid input; `errors` names each field."},
    503: {**_PROBLEM, "description": "Temporarily unavailable; retry after `Retry-After` seconds."},
}
NOT_FOUND = {404: {**_PROBLEM, "description": "Not found."}}
NOT_WITNESSED = {409: {**_PROBLEM, "description": "Witness mode: no checkpoint at that size, or too few of the witnesses cosigned it (named)."}}


class OverdueClock(BaseModel):
    case_id: str
    obligation: str
    kind: Literal["deadline", "duration"]
    status: Literal["overdue", "breached"] = Field(description="overdue for a deadline, breached for a duration.")
    due: str | None = Field(
        default=None, description="Deadlines only: the due date (after extensions), ISO 8601. Absent for a duration."
    )
    since: str = Field(
        description="A deadline: the first day overdue (the day after it was due). A duration: the first day the "
        "record shows it broken (a lapse, an interruption), never before the clock's start."
    )
    days: int = Field(description="Days overdue or breached at the as-of date, counting `since` as the first.")


class OverdueObligations(BaseModel):
    as_of: str
    tree_size: int
    total: int = Field(description="Deadline clocks overdue plus duration clocks breached, as the report counts them: what the list holds.")
    overdue: int = Field(description="Deadline clocks overdue.")
    breached: int = Field(description="Duration clocks breached.")
    obligations: list[OverdueClock] = Field(
        description="A page of them, overdue or breached longest first (earliest `since`), then by case id and obligation."
    )
    next_after: str | None = Field(
        description="Pass as `after` (with the same `as_of`, e.g. this tree_size) for the next page; null on the last."
    )


class AccessLogEntry(BaseModel):
    id: int
    at: str = Field(description="When (UTC).")
    token: str = Field(description="The token's name, or `ledger-cli (user)` for the command line.")
    organization: str
    role: str
    action: str = Field(description="read case, read history, export or forget.")
    case_id: str | None
    detail: str


class AccessLogPage(BaseModel):
    entries: list[AccessLogEntry]
    next_after: int = Field(description="Pass as `after` to read on.")
