"""What every number of the compliance report means, published beside it (DESIGN.md §3).

Keys follow the report's JSON paths, and `overdue_list` defines the list of overdue and breached
clocks beside it; `{late_report_days}` is filled with the projection's setting.
"""

from typing import Any

from domain.sequence_warnings import WARNING_CODES

DEFINITIONS: dict[str, str] = {
    "as_of": (
        "The report uses only what the ledger had recorded by this instant (transaction time); "
        "obligation clocks are read on its UTC date. A report asked for as of now, or of today's date, "
        "stands on the latest instant that no append still running could be recorded at or before, "
        "and states it here; a later instant, a later date or a position beyond the log is refused. "
        "Asking again with this instant gives the same report, byte for byte, however much was "
        "recorded later. A report asked for as of a log position states the instant that position "
        "was recorded, and covers positions up to it only (a batch shares one instant): reproduce it "
        "by the position, its checkpoint tree_size."
    ),
    "checkpoint": (
        "The Merkle tree (RFC 6962) of the log positions the report was computed from: tree_size is "
        "the last position included, root_hash the tree's root. Verify it against a signed checkpoint."
    ),
    "witnessed": (
        "The earliest checkpoint at or after the report's tree_size that witnesses cosigned (tree_size, "
        "root_hash) and the witnesses, by name, whose cosignatures the ledger holds for it; tree_size and "
        "root_hash null, and no witnesses, when none has yet (not yet witnessed). Its tree contains the report's: a consistency proof from the "
        "report's tree_size to it (GET /v1/proofs/consistency) shows it. The one part of a report that "
        "can change for the same as-of point: from not yet witnessed to the witnesses that cosigned, "
        "final once the ledger has moved past that checkpoint (a witness cosigns only the latest)."
    ),
    "terms_version": (
        "The version of the settlement terms applied (TermsAdopted), with the court's extensions "
        "recorded since (DeadlineExtended). A what-if report applies the terms it was given instead."
    ),
    "counted_case": (
        "A case counts when it has a SeparationIdentified that is not retracted, is not closed "
        "(latest CaseClosed) as excluded or duplicate, and was not merged into another case. Facts "
        "recorded on a duplicate before its merge stay with the duplicate. Families are counted cases."
    ),
    "children.identified": (
        "Members with role child of counted cases: those listed in SeparationIdentified plus "
        "MemberAdded, less MemberRemoved, after corrections."
    ),
    "children.reunified": (
        "Children named by a FamilyReunified (one naming no children reunifies every child the case "
        "had when it was recorded)."
    ),
    "children.remaining": "Identified children not reunified.",
    "children.remaining_by_status": (
        "Each remaining child's status is the first that holds: declined (the latest "
        "PreferenceRecorded, by occurred time, is declined); in_process (a RegistrationSubmitted, "
        "ParoleRequested, TravelArranged or ArrivedInUS is recorded); informed (a ContactAttempted "
        "with outcome reached, or any PreferenceRecorded); whereabouts_unknown (a "
        "WhereaboutsUnknownDeclared, and no contact reached); not_reached (otherwise)."
    ),
    "families.identified": "Counted cases.",
    "families.registered": "Counted cases with a RegistrationSubmitted.",
    "families.reunified": "Counted cases with at least one child, every one of them reunified.",
    "families.services": "Counted cases with a ServiceStarted for the service (ever; ending it does not uncount).",
    "breakdowns": (
        "Children identified and reunified, by the case's nationality (ISO 3166 alpha-2), border "
        "sector (a Border Patrol sector or southwest-border port of entry in its canonical spelling, "
        "however it was typed; one recorded before that rule, as recorded), separation month "
        "(YYYY-MM of the separation date) and age band at separation (separation year minus birth "
        "year): under_5 when it is under five, otherwise 5_to_17."
    ),
    "reunified_by_facilitator": (
        "Reunified children by the organization that posted the case's latest TravelArranged "
        "(occurred time) at or before the reunification; none_recorded when there is none."
    ),
    "reunified_by_month": "Reunified children by the month (YYYY-MM, occurred time) of their first reunification.",
    "obligations": (
        "Per counted case and obligation, at the as-of date. Each obligation says its kind. A deadline "
        "(kind deadline) is met (fulfilled by its due date), met_late (fulfilled after it), open (clock "
        "running, not yet due), overdue (due and not fulfilled: from the day after the due date) or "
        "not_applicable (the clock has not started for the case). A duration (kind duration: something "
        "must stay in force for a period) is met (the period ended, on its last day, with the record "
        "showing it unbroken: from the day after), open (running, unbroken so far), breached (from the "
        "first day the record shows it broken, and for good, whatever is recorded for later days) or "
        "not_applicable; it is never overdue nor met late. Dates are occurred dates (UTC). No clock "
        "starts before the terms' effective date: one whose starting event came earlier starts on that "
        "date, and nothing is overdue or breached before a clock's start. A court extension moves the "
        "due date, or a duration's last day, of every clock of its obligation not yet past it on the "
        "extension's effective date, from the moment it is recorded; it never revives one already past. "
        "A court order extends an obligation once: the same order recorded again for it changes nothing. "
        "median_days (deadlines only) is the median of the days from clock start to fulfilment over the "
        "cases met or met late; a duration has none, as it is kept over a period, not fulfilled on a day."
    ),
    "obligations.first_outreach": "Deadline. Starts at SeparationIdentified; met by the first ContactAttempted (any outcome).",
    "obligations.parole_decision": "Deadline. Starts at the first ParoleRequested; met by the first ParoleDecided on or after it.",
    "obligations.parole_term": (
        "Duration. Starts at the parole start given by ArrivedInUS (or the effective date, if later) and "
        "lasts the term. The parole is in force from parole_start to parole_end as given on arrival, and "
        "from each ParoleRenewed's day to its valid_until; a ParoleExpired ends it on its valid_until "
        "(every grant in force that day ends with it; one granted later is a parole anew). Breached from "
        "the first day of the term without a parole in force (a lapse, even if a renewal came later; a "
        "parole that had lapsed before the clock started: from its start); met from the day after the "
        "term's last day if it was in force throughout. A granted ParoleDecided does not count: it "
        "authorizes the parole, which begins at the port of entry on the dates CBP records."
    ),
    "obligations.work_authorization_decision": "Deadline. Starts at ArrivedInUS; met by the first WorkAuthorizationDecided.",
    "obligations.asylum_filing_window": (
        "Deadline. Starts at the membership determination (the latest ClassMembershipDetermined, member "
        "or qafm), or at the effective date if that is later; met by the first AsylumApplicationFiled."
    ),
    "obligations.behavioral_health": (
        "Duration. Starts at ArrivedInUS (or a FamilyReunified in the US, if earlier; or the effective "
        "date, if later) and lasts the term. Breached from the first day within it that the service was "
        "interrupted: the family's own (a ServiceEnded for behavioral_health with reason interrupted, "
        "until a later ServiceStarted for it; one not resumed by the clock's start breaks it from the "
        "start), or a provider's outage (ServiceInterrupted). Met from the day after the term's last day "
        "if never interrupted within it."
    ),
    "obligations.housing_assistance": "Deadline. Starts at ArrivedInUS; met by the first ServiceStarted for housing.",
    "obligations.medical_coverage": "Deadline. Starts at ArrivedInUS; met by the first ServiceStarted for medical.",
    "obligations.parole_renewal": (
        "Deadline. Due on the parole end given by ArrivedInUS; its clock starts the term's duration "
        "before that date; met by the first ParoleRenewed; not applicable if the parole ended before "
        "the terms took effect."
    ),
    "overdue_list": (
        "GET /v1/reports/overdue and the dashboard's list: every deadline clock overdue and every "
        "duration clock breached at the as-of point, as the report counts them (total = overdue + "
        "breached), overdue or breached longest first (the earliest since day), then by case id and "
        "obligation. A deadline reads 'due D, overdue since D+1'; a duration 'breached since D'. days "
        "counts since as the first."
    ),
    "data_quality.corrections": "EntryCorrected events recorded.",
    "data_quality.retractions": "EntryRetracted events recorded.",
    "data_quality.merged_cases": "CasesMerged events recorded.",
    "data_quality.late_reports": (
        "Events posted by agencies whose recorded_at is more than {late_report_days} days after their occurred_at."
    ),
    # The warnings a receipt gives (domain/sequence_warnings.py): sequences the rules allow but a
    # monitor would question. Each is read from the case as it stood when the event was recorded
    # (its entries then, retracted ones left out, corrections applied); a later amendment neither
    # adds nor withdraws one.
    "data_quality.contact_before_identification": (
        "ContactAttempted events dated (occurred_at) before the case's SeparationIdentified, as recorded then."
    ),
    "data_quality.parole_decision_without_request": (
        "ParoleDecided events with no ParoleRequested for the case dated on or before them, as recorded then."
    ),
    "data_quality.travel_before_parole_decision": (
        "TravelArranged events with no ParoleDecided for the case dated on or before them, as recorded then."
    ),
    "data_quality.travel_after_parole_denied": (
        "TravelArranged events whose case's latest ParoleDecided dated on or before them was a denial, as recorded then."
    ),
    "data_quality.second_reunification": (
        "FamilyReunified events naming a child (or, naming none, meaning every child of the case) that an "
        "earlier FamilyReunified of the case had already reunified, as recorded then."
    ),
    "data_quality.dated_before_separation": (
        "Events of a case (after its SeparationIdentified, amendments aside) dated on a day before the case's "
        "separation_date, as recorded then."
    ),
    "data_quality.dated_after_closure": (
        "Events of a case (amendments aside) dated after a CaseClosed of the case, as recorded then: a second "
        "closure included."
    ),
}
_UNDEFINED = {f"data_quality.{code}" for code in WARNING_CODES} - DEFINITIONS.keys()
if _UNDEFINED:
    raise RuntimeError(f"every warning the data quality counts needs a definition: {sorted(_UNDEFINED)}")


def definitions(late_report_days: int) -> dict[str, Any]:
    return {key: text.format(late_report_days=late_report_days) for key, text in DEFINITIONS.items()}
