"""What a case's record says about each obligation, whatever the terms: the `ClockInputs` its
clock is evaluated from (domain/clocks.py), read off the case's folded facts.

Each obligation hangs on its own facts: outreach on identification and the first contact, the
parole decision on its request, the asylum window on the membership decision, the parole term
and its renewal on the parole CBP granted on arrival, care and services on arrival or
reunification in the US.
"""

from collections.abc import Callable

from domain.case_facts import CaseFacts, earliest
from domain.clocks import ClockInputs
from domain.day_spans import care_gaps, parole_cover
from domain.terms import day_of
from domain.vocabulary import Obligation, Service


def clock_input(facts: CaseFacts, obligation: Obligation) -> ClockInputs | None:
    """What the record says of one obligation, or None if nothing can start its clock yet."""
    return _CLOCK_INPUTS[obligation](facts)


def _outreach_input(facts: CaseFacts) -> ClockInputs | None:
    return None if facts.identified_on is None else ClockInputs(facts.identified_on, facts.first_contact)


def _parole_decision_input(facts: CaseFacts) -> ClockInputs | None:
    if facts.parole_requested is None:
        return None
    decided = min((d for d in facts.parole_decisions if d >= facts.parole_requested), default=None)
    return ClockInputs(facts.parole_requested, decided)


def _asylum_input(facts: CaseFacts) -> ClockInputs | None:
    if facts.membership is None or facts.membership.value == "excluded":
        return None
    return ClockInputs(day_of(facts.membership.occurred_at), facts.asylum_filed)


def _care_input(facts: CaseFacts) -> ClockInputs | None:
    care_from = earliest(None if facts.arrival is None else day_of(facts.arrival.occurred_at), facts.reunified_in_us)
    if care_from is None:
        return None
    return ClockInputs(care_from, interrupted=care_gaps(facts.care_interrupted, facts.care_started))


def _parole_term_input(facts: CaseFacts) -> ClockInputs | None:
    """The parole in force: given on arrival (parole_start..parole_end), then renewed (each
    ParoleRenewed from its day to its valid_until), cut short by a ParoleExpired.

    A granted ParoleDecided does not count: it authorizes the parole (and travel); the parole
    itself begins at the port of entry, on the dates CBP records with ArrivedInUS, and USCIS
    extends a parole in force with ParoleRenewed. Counting the decision's valid_until, which
    runs from the decision and not the arrival, could cover days the parole CBP granted did
    not, and hide a lapse.
    """
    if facts.arrival is None:
        return None
    parole_start, parole_end = facts.arrival.parole_start, facts.arrival.parole_end
    return ClockInputs(parole_start, cover=parole_cover([(parole_start, parole_end), *facts.renewals], facts.parole_ended))


def _renewal_input(facts: CaseFacts) -> ClockInputs | None:
    if facts.arrival is None:
        return None
    return ClockInputs(facts.arrival.parole_end, min(facts.renewals)[0] if facts.renewals else None)


def _after_arrival(facts: CaseFacts, met: int | None) -> ClockInputs | None:
    return None if facts.arrival is None else ClockInputs(day_of(facts.arrival.occurred_at), met)


_CLOCK_INPUTS: dict[Obligation, Callable[[CaseFacts], ClockInputs | None]] = {
    Obligation.FIRST_OUTREACH: _outreach_input,
    Obligation.PAROLE_DECISION: _parole_decision_input,
    Obligation.PAROLE_TERM: _parole_term_input,
    Obligation.WORK_AUTHORIZATION_DECISION: lambda f: _after_arrival(f, f.work_authorization),
    Obligation.ASYLUM_FILING_WINDOW: _asylum_input,
    Obligation.BEHAVIORAL_HEALTH: _care_input,
    Obligation.HOUSING_ASSISTANCE: lambda f: _after_arrival(f, f.service_starts.get(Service.HOUSING)),
    Obligation.MEDICAL_COVERAGE: lambda f: _after_arrival(f, f.service_starts.get(Service.MEDICAL)),
    Obligation.PAROLE_RENEWAL: _renewal_input,
}
if _CLOCK_INPUTS.keys() != set(Obligation):
    raise RuntimeError("every obligation needs its clock's inputs")
