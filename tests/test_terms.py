"""Terms and obligation clocks, without a database: calendar arithmetic, extensions, each kind of clock."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.day_spans import care_gaps, parole_cover
from domain.vocabulary import Obligation
from domain.clocks import Clock, ClockInputs, evaluate
from domain.obligation_status import KIND_OF, STATUSES_OF, ObligationKind
from domain.terms import SETTLEMENT_2023, Span, Terms, day_of, fold_terms, iso

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


def parole(start: str, *spans: tuple[str, str], ended: tuple[str, ...] = (), terms: Terms = TERMS) -> Clock:
    """The parole term of a parole given from `start`, covered by `spans` (first, valid until),
    cut short by the ParoleExpired days `ended`."""
    cover = parole_cover([(d(first), d(last)) for first, last in spans], [d(day) for day in ended])
    return clock(Obligation.PAROLE_TERM, ClockInputs(d(start), cover=cover), terms)


def test_a_parole_term_is_open_while_covered_and_met_only_the_day_after_its_last_day() -> None:
    whole = parole("2024-03-01", ("2024-03-01", "2027-03-01"))
    assert (iso(whole.start), iso(whole.due), whole.since, whole.elapsed) == ("2024-03-01", "2027-03-01", None, None)
    assert [whole.status(d(day)) for day in ("2024-02-29", "2024-03-01", "2027-03-01", "2027-03-02")] == [
        "not_applicable", "open", "open", "met"
    ]


def test_a_parole_term_is_breached_from_the_first_uncovered_day_and_stays_breached() -> None:
    short = parole("2024-03-01", ("2024-03-01", "2025-03-01"))
    assert (short.status(d("2025-03-01")), short.status(d("2025-03-02")), iso(short.since)) == ("open", "breached", "2025-03-02")
    renewed_late = parole("2024-03-01", ("2024-03-01", "2025-03-01"), ("2025-04-01", "2028-01-01"))
    assert iso(renewed_late.since) == "2025-03-02"
    assert [renewed_late.status(d(day)) for day in ("2025-05-01", "2027-03-02", "2030-01-01")] == ["breached"] * 3


def test_a_renewal_the_day_after_the_paroles_last_day_keeps_the_term_unbroken() -> None:
    next_day = parole("2024-03-01", ("2024-03-01", "2025-03-01"), ("2025-03-02", "2028-01-01"))
    assert (next_day.since, next_day.status(d("2027-03-02"))) == (None, "met")
    a_day_late = parole("2024-03-01", ("2024-03-01", "2025-03-01"), ("2025-03-03", "2028-01-01"))
    assert iso(a_day_late.since) == "2025-03-02"


def test_a_parole_covering_the_terms_last_day_keeps_it_and_one_ending_the_day_before_breaks_it_that_day() -> None:
    assert parole("2024-03-01", ("2024-03-01", "2027-03-01")).since is None
    assert iso(parole("2024-03-01", ("2024-03-01", "2027-02-28")).since) == "2027-03-01"


def test_a_parole_ended_early_breaks_the_term_the_day_after_it_ended() -> None:
    ended = parole("2024-03-01", ("2024-03-01", "2027-03-01"), ended=("2025-06-30",))
    assert (iso(ended.since), ended.status(d("2025-06-30")), ended.status(d("2025-07-01"))) == ("2025-07-01", "open", "breached")
    # A renewal in force on the day the parole ended ends with it; one granted after is a parole anew.
    assert iso(parole("2024-03-01", ("2024-03-01", "2025-03-01"), ("2025-02-01", "2028-01-01"), ended=("2025-06-30",)).since) == "2025-07-01"
    assert parole("2024-03-01", ("2024-03-01", "2027-03-01"), ("2025-07-01", "2028-01-01"), ended=("2025-06-30",)).since is None
    # An expiry on or after the term's last day, or dated before the parole began, breaks nothing.
    assert parole("2024-03-01", ("2024-03-01", "2027-03-01"), ended=("2027-03-01",)).since is None
    assert parole("2024-03-01", ("2024-03-01", "2027-03-01"), ended=("2023-01-01",)).since is None


def test_the_record_of_a_parole_is_merged_into_the_days_it_was_in_force() -> None:
    cover = parole_cover([(d("2024-03-01"), d("2025-03-01")), (d("2025-03-02"), d("2026-01-01")), (d("2025-01-01"), d("2025-02-01"))], [])
    assert cover == ((d("2024-03-01"), d("2026-01-01")),)
    assert parole_cover([(d("2024-03-01"), d("2025-03-01"))], [d("2024-01-01")]) == ((d("2024-03-01"), d("2025-03-01")),)


def test_a_parole_that_lapsed_before_the_terms_took_effect_is_breached_from_the_effective_date() -> None:
    lapsed = parole("2021-05-01", ("2021-05-01", "2022-05-01"))
    assert (iso(lapsed.start), iso(lapsed.since), iso(lapsed.due)) == ("2023-12-11", "2023-12-11", "2026-12-11")
    assert (lapsed.status(d("2023-12-10")), lapsed.status(d("2023-12-11"))) == ("not_applicable", "breached")
    on_the_day = parole("2021-05-01", ("2021-05-01", "2023-12-11"))
    assert iso(on_the_day.since) == "2023-12-12"  # it was in force on the effective date itself
    held = parole("2021-05-01", ("2021-05-01", "2026-12-11"))
    assert (held.since, held.status(d("2026-12-11")), held.status(d("2026-12-12"))) == (None, "open", "met")


def test_no_parole_term_ends_before_three_years_after_the_effective_date() -> None:
    earliest = parole("2019-01-01", ("2019-01-01", "2030-01-01"))
    assert iso(earliest.due) == "2026-12-11" and iso(earliest.met) == "2026-12-12"


def test_an_extension_moves_a_terms_end_if_it_takes_effect_by_that_day() -> None:
    def extended(effective: str) -> Terms:
        return TERMS.extended(
            {"court_order_id": "o-1", "obligation": "parole_term", "extension": {"months": 6}, "effective_date": effective}
        )

    on_the_last_day = parole("2024-03-01", ("2024-03-01", "2027-03-01"), terms=extended("2027-03-01"))
    assert (iso(on_the_last_day.due), iso(on_the_last_day.since)) == ("2027-09-01", "2027-03-02")
    the_day_after = parole("2024-03-01", ("2024-03-01", "2027-03-01"), terms=extended("2027-03-02"))
    assert (iso(the_day_after.due), the_day_after.since, the_day_after.status(d("2027-03-02"))) == ("2027-03-01", None, "met")


def test_the_same_court_order_recorded_twice_extends_once() -> None:
    order = {"court_order_id": "o-1", "obligation": "parole_term", "extension": {"months": 6}, "effective_date": "2025-07-15"}
    twice = fold_terms([("TermsAdopted", SETTLEMENT_2023), ("DeadlineExtended", order), ("DeadlineExtended", order)])
    assert len(twice.extensions) == 1
    assert iso(twice.due(Obligation.PAROLE_TERM, d("2027-03-01"))) == "2027-09-01"
    other_obligation = twice.extended({**order, "obligation": "behavioral_health"})
    assert len(other_obligation.extensions) == 2


@given(
    st.integers(d("2020-01-01"), d("2028-01-01")),
    st.lists(st.tuples(st.integers(d("2020-01-01"), d("2031-01-01")), st.integers(0, 1500)), max_size=4),
    st.lists(st.integers(d("2020-01-01"), d("2031-01-01")), max_size=2),
)
def test_a_duration_clock_is_never_overdue_nor_met_late_and_once_breached_stays_breached(
    start: int, grants: list[tuple[int, int]], ended: list[int]
) -> None:
    cover = parole_cover([(first, first + days) for first, days in grants], ended)
    term = clock(Obligation.PAROLE_TERM, ClockInputs(start, cover=cover))
    assert term.since is None or term.start <= term.since <= term.due  # never before the clock's start
    statuses = [term.status(day) for day in range(term.start - 1, term.due + 3)]
    assert set(statuses) <= set(STATUSES_OF[ObligationKind.DURATION])
    settled = statuses.index("met") if "met" in statuses else statuses.index("breached") if "breached" in statuses else None
    assert settled is not None  # by the day after its last day, a term is met or breached
    assert len(set(statuses[settled:])) == 1


def test_every_obligation_is_a_deadline_or_a_duration() -> None:
    durations = {o for o, kind in KIND_OF.items() if kind is ObligationKind.DURATION}
    assert durations == {Obligation.PAROLE_TERM, Obligation.BEHAVIORAL_HEALTH}
    assert KIND_OF.keys() == set(Obligation)


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
    assert (kept.status(d("2025-01-01")), kept.status(d("2027-03-01")), kept.status(d("2027-03-02")), kept.elapsed) == (
        "open", "open", "met", None
    )
    broken = clock(Obligation.BEHAVIORAL_HEALTH, ClockInputs(arrival, interrupted=care_gaps([d("2025-02-01")], [])))
    assert (broken.status(d("2025-01-31")), broken.status(d("2025-02-01")), broken.status(d("2027-03-02"))) == (
        "open", "breached", "breached"
    )
    outage = TERMS.interrupted({"service": "behavioral_health", "from": "2024-01-01", "to": "2024-02-01", "cause": "x"})
    before_arrival = clock(Obligation.BEHAVIORAL_HEALTH, ClockInputs(arrival), outage)
    assert before_arrival.since is None  # the outage ended before this family's term began
    ongoing = outage.interrupted({"service": "behavioral_health", "from": "2025-05-01", "cause": "contract terminated"})
    assert clock(Obligation.BEHAVIORAL_HEALTH, ClockInputs(arrival), ongoing).since == d("2025-05-01")
    legal = TERMS.interrupted({"service": "legal", "from": "2025-05-01", "cause": "contract terminated"})
    assert clock(Obligation.BEHAVIORAL_HEALTH, ClockInputs(arrival), legal).since is None


def test_care_interrupted_before_the_clock_started_is_breached_from_its_start_unless_it_resumed() -> None:
    arrival = d("2021-06-01")  # before the terms took effect: the clock starts on the effective date

    def care(interrupted: list[str], started: list[str]) -> Clock:
        gaps = care_gaps([d(day) for day in interrupted], [d(day) for day in started])
        return clock(Obligation.BEHAVIORAL_HEALTH, ClockInputs(arrival, interrupted=gaps))

    assert iso(care(["2022-01-10"], ["2021-07-01"]).since) == "2023-12-11"
    assert care(["2022-01-10"], ["2021-07-01", "2022-03-01"]).since is None
    # an interruption long past does not hide a later one
    assert iso(care(["2022-01-10", "2025-04-01"], ["2021-07-01", "2022-03-01"]).since) == "2025-04-01"


def test_terms_without_an_obligation_start_no_clock_for_it() -> None:
    terms = Terms.adopted({**SETTLEMENT_2023, "obligations": {"first_outreach": {"days": 30}}})
    assert evaluate(Obligation.PAROLE_DECISION, ClockInputs(d("2025-01-01")), terms) is None
    assert evaluate(Obligation.FIRST_OUTREACH, ClockInputs(d("2025-01-01")), Terms()) is None


def test_an_instant_falls_on_its_utc_date() -> None:
    assert day_of("2025-01-01T23:59:59.999999Z") == d("2025-01-01")
