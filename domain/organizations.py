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

    @property
    def with_article(self) -> str:
        """The role as a sentence says it: "an agency", "a monitor", "an auditor"."""
        return f"{'an' if self.value[0] in 'aeiou' else 'a'} {self.value}"


# What each code stands for, as a reader who does not know the settlement's acronyms needs it.
NAMES: dict[Organization, str] = {
    Organization.FRTF: "Family Reunification Task Force",
    Organization.ORR: "Office of Refugee Resettlement",
    Organization.CBP: "U.S. Customs and Border Protection",
    Organization.ICE: "U.S. Immigration and Customs Enforcement",
    Organization.USCIS: "U.S. Citizenship and Immigration Services",
    Organization.STATE: "Department of State",
    Organization.IOM: "International Organization for Migration",
    Organization.KIND: "Kids in Need of Defense",
    Organization.JIM: "Justice in Motion",
    Organization.WRC: "Women's Refugee Commission",
    Organization.AOL: "Al Otro Lado",
    Organization.SENECA: "Seneca Family of Agencies",
    Organization.ACACIA: "Acacia Center for Justice",
    Organization.DOJ: "Department of Justice",
    Organization.ACLU: "American Civil Liberties Union",
    Organization.MONITOR: "the settlement's monitor",
    Organization.OIG: "Office of Inspector General",
}
if set(NAMES) != set(Organization):
    raise RuntimeError(f"organizations without a name: {sorted(set(Organization) - set(NAMES))}")
