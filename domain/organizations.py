"""Who may hold a token: the settlement's organizations and the roles a token can carry."""

from enum import StrEnum


class Organization(StrEnum):
    FRTF = "FRTF"  # DHS Family Reunification Task Force
    ORR = "ORR"  # HHS Office of Refugee Resettlement
    CBP = "CBP"
    ICE = "ICE"
    USCIS = "USCIS"
    STATE = "STATE"  # State Department
    IOM = "IOM"  # International Organization for Migration (contractor)
    KIND = "KIND"  # Steering Committee NGOs: KIND, Justice in Motion, Women's Refugee Commission
    JIM = "JIM"
    WRC = "WRC"
    AOL = "AOL"  # Al Otro Lado
    SENECA = "SENECA"  # service providers
    ACACIA = "ACACIA"
    DOJ = "DOJ"
    ACLU = "ACLU"  # class counsel
    MONITOR = "MONITOR"
    OIG = "OIG"


# Events the ledger writes on its own behalf (token issue and revoke, terms shipped with the
# ledger) carry this in place of an organization: it is the operator, not a party.
LEDGER_OPERATOR = "LEDGER"


class Role(StrEnum):
    AGENCY = "agency"  # posts the events its organization may post; reads cases
    MONITOR = "monitor"  # reports and dashboard; never personal data
    AUDITOR = "auditor"  # everything, read-only: log, proofs, histories, exports
    ADMIN = "admin"  # tokens
