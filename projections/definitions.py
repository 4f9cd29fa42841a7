"""What every number of the compliance report means, published beside it (DESIGN.md §3).

Keys follow the report's JSON paths; `{late_report_days}` is filled with the projection's setting.
"""

from typing import Any

DEFINITIONS: dict[str, str] = {
    "as_of": (
        "The report uses only what the ledger had recorded by this instant (transaction time). "
        "Obligation clocks are read on this instant's UTC date. Asking again for the same as_of "
        "gives the same report, however much was recorded later. A report asked for as of a log "
        "position states the instant that position was recorded, and covers positions up to it only "
        "(a batch shares one instant): reproduce it by the position, its checkpoint tree_size."
    ),
    "checkpoint": (
        "The Merkle tree (RFC 6962) of the log positions the report was computed from: tree_size is "
        "the last position included, root_hash the tree's root. Verify it against a signed checkpoint."
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
        "year: under 5 is under_5, otherwise 5_to_17)."
    ),
    "reunified_by_facilitator": (
        "Reunified children by the organization that posted the case's latest TravelArranged "
        "(occurred time) at or before the reunification; none_recorded when there is none."
    ),
    "reunified_by_month": "Reunified children by the month (YYYY-MM, occurred time) of their first reunification.",
    "obligations": (
        "Per counted case and obligation, at the as-of date: met (fulfilled by its due date), "
        "met_late (fulfilled after it), open (clock running, not yet due), overdue (due and not "
        "fulfilled, or breached), not_applicable (the clock has not started for the case). Dates are "
        "occurred dates (UTC). No clock starts before the terms' effective date: one whose starting "
        "event came earlier starts on that date. A court extension moves the due date of every clock of its obligation "
        "that was not yet due on the extension's effective date, from the moment it is recorded; it "
        "never revives a deadline that had already passed. median_days is the median of the days "
        "from clock start to fulfilment over the cases met or met late (none for availability)."
    ),
    "obligations.first_outreach": "Starts at SeparationIdentified; met by the first ContactAttempted (any outcome).",
    "obligations.parole_decision": "Starts at the first ParoleRequested; met by the first ParoleDecided on or after it.",
    "obligations.parole_term": (
        "Starts at the parole start given by ArrivedInUS; met once the parole granted on arrival, or as "
        "renewed (ParoleRenewed), runs for the term; met_late if a renewal came after the parole had "
        "lapsed; overdue from the day after the parole lapses without cover for the term."
    ),
    "obligations.work_authorization_decision": "Starts at ArrivedInUS; met by the first WorkAuthorizationDecided.",
    "obligations.asylum_filing_window": (
        "Starts at the membership determination (the latest ClassMembershipDetermined, member or "
        "qafm), or at the effective date if that is later; met by the first AsylumApplicationFiled."
    ),
    "obligations.behavioral_health": (
        "Availability: starts at ArrivedInUS (or a FamilyReunified in the US, if earlier); met when the "
        "term ends with the service never interrupted; overdue from the first interruption within it "
        "(a ServiceEnded for behavioral_health with reason interrupted, or a ServiceInterrupted)."
    ),
    "obligations.housing_assistance": "Starts at ArrivedInUS; met by the first ServiceStarted for housing.",
    "obligations.medical_coverage": "Starts at ArrivedInUS; met by the first ServiceStarted for medical.",
    "obligations.parole_renewal": (
        "Due on the parole end given by ArrivedInUS; its clock starts the term's duration before that "
        "date; met by the first ParoleRenewed; not applicable if the parole ended before the terms took effect."
    ),
    "data_quality.corrections": "EntryCorrected events recorded.",
    "data_quality.retractions": "EntryRetracted events recorded.",
    "data_quality.merged_cases": "CasesMerged events recorded.",
    "data_quality.late_reports": (
        "Events posted by agencies whose recorded_at is more than {late_report_days} days after their occurred_at."
    ),
}


def definitions(late_report_days: int) -> dict[str, Any]:
    return {key: text.format(late_report_days=late_report_days) for key, text in DEFINITIONS.items()}
