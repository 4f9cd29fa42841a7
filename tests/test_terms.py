"""Terms and obligation clocks, without a database: calendar arithmetic, extensions, each kind of clock."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.catalog import Obligation
from domain.terms import SETTLEMENT_2023, Clock, ClockInputs, Span, Terms, day_of, evaluate, fold_terms, iso

TERMS = Terms.adopted(SETTLEMENT_2023)
EFFECTIVE = date(2023, 12, 11).toordinal()


def d(text: str) -> int:
    return date.fromisoformat(text).toordinal()


@pytest.mark.parametrize(
    ("start", "span", "expected"),
    [
        ("2024-01-31", Span(months=1), "2024-02-29"),  # the 31st becomes the month's last day
        ("2023-01-31", Span(months=1), "2023-02-28"),
        ("2024-02-29", Span(years=1), "2025-02-28"),
        ("2024-11-30", Span(months=3), "2025-02-28"),
        ("2023-12-11", Span(years=2), "2025-12-11"),
        ("2023-12-11", Span(years=3, months=6), "2027-06-11"),
        ("2024-01-01", Span(days=30), "2024-01-31"),
        ("2024-12-15", Span(months=1, days=20), "2025-02-04"),
    ],
)
def test_calendar_durations_count_as_courts_do(start: str, span: Span, expected: str) -> None:
    assert iso(span.after(d(start))) == expected


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)), st.integers(0, 400))
def test_a_span_of_days_goes_back_exactly_where_it_came_from(day: date, days: int) -> None:
    span = Span(days=days)
    assert span.before(span.after(day.toordinal())) == day.toordinal()


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)), st.integers(0, 5), st.integers(0, 30))
def test_later_starts_never_have_earlier_deadlines(day: date, years: int, months: int) -> None:
    span = Span(years=years, months=months)
    assert span.after(day.toordinal()) <= span.after(day.toordinal() + 1)


def test_an_extension_moves_only_deadlines_not_yet_passed_on_its_effective_date() -> None:
    terms = TERMS.extended(
        {"court_order_id": "o-1", "obligation": "first_outreach", "extension": {"days": 30}, "effective_date": "2025-06-01"}
    )
    assert iso(terms.due(Obligation.FIRST_OUTREACH, d("2025-06-01"))) == "2025-07-01"
    assert iso(terms.due(Obligation.FIRST_OUTREACH, d("2025-05-31"))) == "2025-05-31"
    assert iso(terms.due(Obligation.PAROLE_DECISION, d("2025-06-10"))) == "2025-06-10"  # another obligation


def test_extensions_apply_in_order_of_effect_each_to_the_deadline_the_last_left() -> None:
    terms = fold_terms(
        [
            ("TermsAdopted", SETTLEMENT_2023),
            ("DeadlineExtended", {"court_order_id": "b", "obligation": "first_outreach", "extension": {"days": 10}, "effective_date": "2025-03-01"}),
            ("DeadlineExtended", {"court_order_id": "a", "obligation": "first_outreach", "extension": {"days": 20}, "effective_date": "2025-02-01"}),
        ]
    )
    # 2025-02-20 ≥ Feb 1 → Mar 12 ≥ Mar 1 → Mar 22
    assert iso(terms.due(Obligation.FIRST_OUTREACH, d("2025-02-20"))) == "2025-03-22"
    # 2025-01-15 passed before either took effect
    assert iso(terms.due(Obligation.FIRST_OUTREACH, d("2025-01-15"))) == "2025-01-15"


def test_new_terms_replace_durations_and_extensions_but_keep_outages() -> None:
    terms = fold_terms(
        [
            ("TermsAdopted", SETTLEMENT_2023),
            ("DeadlineExtended", {"court_order_id": "a", "obligation": "first_outreach", "extension": {"days": 20}, "effective_date": "2025-02-01"}),
            ("ServiceInterrupted", {"service": "behavioral_health", "from": "2025-03-01", "cause": "contract ended"}),
            ("TermsAdopted", {**SETTLEMENT_2023, "terms_version": 2, "obligations": {"first_outreach": {"days": 45}}}),
        ]
    )
    assert (terms.version, terms.extensions, len(terms.interruptions)) == (2, (), 1)
    assert terms.durations == {Obligation.FIRST_OUTREACH: Span(days=45)}


def clock(obligation: Obligation, inputs: ClockInputs, terms: Terms = TERMS) -> Clock:
    evaluated = evaluate(obligation, inputs, terms)
    assert evaluated is not None
    return evaluated


def test_a_deadline_clock_is_met_late_open_or_overdue_by_the_as_of_date() -> None:
    met = clock(Obligation.FIRST_OUTREACH, ClockInputs(d("2025-01-01"), d("2025-01-20")))
    late = clock(Obligation.FIRST_OUTREACH, ClockInputs(d("2025-01-01"), d("2025-03-01")))
    pending = clock(Obligation.FIRST_OUTREACH, ClockInputs(d("2025-01-01")))
    assert (met.status(d("2025-06-01")), met.elapsed) == ("met", 19)
    assert (late.status(d("2025-06-01")), late.elapsed) == ("met_late", 59)
    assert pending.status(d("2025-01-31")) == "open"  # due that day
    assert pending.status(d("2025-02-01")) == "overdue"
    assert pending.status(d("2024-12-31")) == "not_applicable"


def test_no_clock_starts_before_the_terms_took_effect() -> None:
    old = clock(Obligation.FIRST_OUTREACH, ClockInputs(d("2019-03-01"), d("2020-01-01")))
    assert (old.start, old.status(d("2025-01-01")), old.elapsed) == (EFFECTIVE, "met", 0)
    never = clock(Obligation.FIRST_OUTREACH, ClockInputs(d("2019-03-01")))
    assert iso(never.due) == "2024-01-10"


def test_the_asylum_window_opens_at_the_effective_date_or_a_later_membership_decision() -> None:
    early = clock(Obligation.ASYLUM_FILING_WINDOW, ClockInputs(d("2022-05-01")))
    later = clock(Obligation.ASYLUM_FILING_WINDOW, ClockInputs(d("2024-05-01")))
    assert (iso(early.start), iso(early.due)) == ("2023-12-11", "2025-12-11")
    assert (iso(later.start), iso(later.due)) == ("2024-05-01", "2026-05-01")
    assert evaluate(Obligation.ASYLUM_FILING_WINDOW, ClockInputs(None), TERMS) is None


def test_a_parole_term_is_met_by_cover_and_breached_the_day_after_a_lapse() -> None:
    arrival = d("2024-03-01")
    whole = clock(Obligation.PAROLE_TERM, ClockInputs(arrival, grants=((arrival, d("2027-03-01")),)))
    assert (whole.status(d("2024-06-01")), whole.elapsed) == ("met", 0)
    short = clock(Obligation.PAROLE_TERM, ClockInputs(arrival, grants=((arrival, d("2025-03-01")),)))
    assert short.status(d("2025-03-01")) == "open"
    assert short.status(d("2025-03-02")) == "overdue"
    renewed_late = clock(
        Obligation.PAROLE_TERM, ClockInputs(arrival, grants=((arrival, d("2025-03-01")), (d("2025-04-01"), d("2028-01-01"))))
    )
    assert (renewed_late.status(d("2025-05-01")), renewed_late.elapsed) == ("met_late", 396)


def test_a_renewal_is_due_on_the_expiry_and_its_clock_starts_the_lead_time_before() -> None:
    expiry = d("2026-06-30")
    waiting = clock(Obligation.PAROLE_RENEWAL, ClockInputs(expiry))
    assert (iso(waiting.start), iso(waiting.due)) == ("2026-04-01", "2026-06-30")
    assert waiting.status(d("2026-03-01")) == "not_applicable"
    assert waiting.status(d("2026-05-01")) == "open"
    assert waiting.status(d("2026-07-01")) == "overdue"
    early = clock(Obligation.PAROLE_RENEWAL, ClockInputs(expiry, d("2026-01-01")))
    assert early.status(d("2026-01-02")) == "met"  # renewed before the clock even started
    assert evaluate(Obligation.PAROLE_RENEWAL, ClockInputs(d("2022-01-01")), TERMS) is None  # before the terms


def test_availability_is_broken_by_the_cases_interruption_or_a_providers_outage() -> None:
    arrival = d("2024-03-01")
    kept = clock(Obligation.BEHAVIORAL_HEALTH, ClockInputs(arrival))
    assert (kept.status(d("2025-01-01")), kept.status(d("2027-03-01")), kept.elapsed) == ("open", "met", None)
    broken = clock(Obligation.BEHAVIORAL_HEALTH, ClockInputs(arrival, breach=d("2025-02-01")))
    assert (broken.status(d("2025-01-31")), broken.status(d("2025-02-01"))) == ("open", "overdue")
    outage = TERMS.interrupted({"service": "behavioral_health", "from": "2024-01-01", "to": "2024-02-01", "cause": "x"})
    before_arrival = clock(Obligation.BEHAVIORAL_HEALTH, ClockInputs(arrival), outage)
    assert before_arrival.breach is None  # the outage ended before this family's term began
    ongoing = outage.interrupted({"service": "behavioral_health", "from": "2025-05-01", "cause": "contract terminated"})
    assert clock(Obligation.BEHAVIORAL_HEALTH, ClockInputs(arrival), ongoing).breach == d("2025-05-01")
    legal = TERMS.interrupted({"service": "legal", "from": "2025-05-01", "cause": "contract terminated"})
    assert clock(Obligation.BEHAVIORAL_HEALTH, ClockInputs(arrival), legal).breach is None


def test_terms_without_an_obligation_start_no_clock_for_it() -> None:
    terms = Terms.adopted({**SETTLEMENT_2023, "obligations": {"first_outreach": {"days": 30}}})
    assert evaluate(Obligation.PAROLE_DECISION, ClockInputs(d("2025-01-01")), terms) is None
    assert evaluate(Obligation.FIRST_OUTREACH, ClockInputs(d("2025-01-01")), Terms()) is None


def test_an_instant_falls_on_its_utc_date() -> None:
    assert day_of("2025-01-01T23:59:59.999999Z") == d("2025-01-01")
