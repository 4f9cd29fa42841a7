"""The settlement's closed vocabularies (DOMAIN.md §4): every enum an event's data may hold.

StrEnums: each member is its own word in stored JSON, reports and the API's schema.
"""

from enum import StrEnum


class Source(StrEnum):
    GOVERNMENT_RECORDS = "government_records"
    NGO = "ngo"
    REGISTRATION = "registration"


class Certainty(StrEnum):
    CERTIFIED = "certified"
    INDICATION_ONLY = "indication_only"


class MemberRole(StrEnum):
    PARENT = "parent"
    CHILD = "child"
    QAFM = "qafm"  # qualifying additional family member


class Channel(StrEnum):
    PHONE = "phone"
    IN_PERSON = "in_person"
    MESSAGING = "messaging"
    VIA_RELATIVE = "via_relative"
    MAIL = "mail"


class Outcome(StrEnum):
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    INVALID_NUMBER = "invalid_number"
    WRONG_PERSON = "wrong_person"
    REFUSED = "refused"


class Election(StrEnum):
    REUNIFY_IN_US = "reunify_in_us"
    REUNIFY_IN_HOME_COUNTRY = "reunify_in_home_country"
    DECLINED = "declined"
    UNDECIDED = "undecided"


class MembershipDecision(StrEnum):
    MEMBER = "member"
    QAFM = "qafm"
    EXCLUDED = "excluded"


class Decision(StrEnum):
    GRANTED = "granted"
    DENIED = "denied"


class AsylumOutcome(StrEnum):
    GRANTED = "granted"
    DENIED = "denied"
    REFERRED = "referred"
    DISMISSED = "dismissed"


class Service(StrEnum):
    CASE_MANAGEMENT = "case_management"
    BEHAVIORAL_HEALTH = "behavioral_health"
    HOUSING = "housing"
    MEDICAL = "medical"
    LEGAL = "legal"


class ServiceEndReason(StrEnum):
    COMPLETED = "completed"
    DECLINED = "declined"
    LOST_CONTACT = "lost_contact"
    INTERRUPTED = "interrupted"
    OTHER = "other"


class CloseReason(StrEnum):
    REUNIFIED_SERVICES_COMPLETE = "reunified_services_complete"
    DECLINED = "declined"
    EXCLUDED = "excluded"
    DUPLICATE = "duplicate"
    OTHER = "other"


class Obligation(StrEnum):
    """The clocks compliance is measured against (docs/obligations.md)."""

    FIRST_OUTREACH = "first_outreach"
    PAROLE_DECISION = "parole_decision"
    PAROLE_TERM = "parole_term"
    WORK_AUTHORIZATION_DECISION = "work_authorization_decision"
    ASYLUM_FILING_WINDOW = "asylum_filing_window"
    BEHAVIORAL_HEALTH = "behavioral_health"
    HOUSING_ASSISTANCE = "housing_assistance"
    MEDICAL_COVERAGE = "medical_coverage"
    PAROLE_RENEWAL = "parole_renewal"
