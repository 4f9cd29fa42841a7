"""The compliance report's numbers (DESIGN.md §3), summed from the cells the case rows contribute.

Pure: the same cells, as-of day and terms give the same report, whether the cells came from the
live projection, a rebuild, or a what-if evaluation.
"""

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from domain.case_facts import NONE_RECORDED, REMAINING_STATUSES
from domain.vocabulary import Obligation, Service
from domain.permissions import POSTERS
from domain.sequence_warnings import WARNING_CODES
from domain.obligation_status import KIND_OF, STATUSES_OF, ObligationKind, status_on
from domain.terms import Terms
from projections.case_rows import BREAKDOWNS, Cell

# Then the events that drew each warning (domain/sequence_warnings.py), by its code.
DATA_QUALITY = ("corrections", "retractions", "merged_cases", "late_reports", *WARNING_CODES)
# Every organization that may arrange travel is listed, with zero if it arranged none.
FACILITATORS = tuple(sorted(POSTERS["TravelArranged"]))


def report_numbers(cells: Mapping[Cell, int], today: int, terms: Terms) -> dict[str, Any]:
    """Every section of the report after `as_of`, `checkpoint` and `terms_version`."""
    by_section: dict[str, list[tuple[Cell, int]]] = {}
    for cell, count in cells.items():
        if count:
            by_section.setdefault(cell[0], []).append((cell, count))

    def tally(section: str) -> Counter[Any]:
        return Counter({cell[1:] if len(cell) > 2 else cell[1]: n for cell, n in by_section.get(section, [])})

    statuses = tally("children")
    identified = sum(statuses.values())
    families = tally("families")
    services = tally("services")
    facilitators = tally("facilitator")
    quality = tally("data_quality")
    return {
        "children": {
            "identified": identified,
            "reunified": statuses["reunified"],
            "remaining": identified - statuses["reunified"],
            "remaining_by_status": {status: statuses[status] for status in REMAINING_STATUSES},
        },
        "families": {
            "identified": families["identified"],
            "registered": families["registered"],
            "reunified": families["reunified"],
            "services": {service.value: services[service.value] for service in Service},
        },
        "breakdowns": {dimension: _breakdown(tally(dimension)) for dimension in BREAKDOWNS},
        "reunified_by_facilitator": {
            **{org: facilitators[org] for org in sorted({*FACILITATORS, *facilitators} - {NONE_RECORDED})},
            NONE_RECORDED: facilitators[NONE_RECORDED],
        },
        "reunified_by_month": {month: n for month, n in sorted(tally("reunified_month").items())},
        "obligations": _obligations(by_section.get("obligation", []), families["identified"], today, terms),
        "data_quality": {kind: quality[kind] for kind in DATA_QUALITY},
    }


def _breakdown(counts: Counter[Any]) -> dict[str, dict[str, int]]:
    values = sorted({value for value, _ in counts})
    return {value: {"identified": counts[(value, "identified")], "reunified": counts[(value, "reunified")]} for value in values}


def _obligations(
    cells: Iterable[tuple[Cell, int]], families: int, today: int, terms: Terms
) -> dict[str, dict[str, Any]]:
    """Each obligation of the terms with its kind and its kind's statuses; deadlines also with
    their median (a duration has none: it is not fulfilled on a day, it is kept for a period)."""
    kinds = {o.value: KIND_OF[o] for o in Obligation if o in terms.durations}
    counts = {name: dict.fromkeys(STATUSES_OF[kind], 0) for name, kind in kinds.items()}
    elapsed: dict[str, Counter[int]] = {name: Counter() for name in counts}
    for cell, n in cells:
        _, obligation, state, *rest = cell
        tallies = counts.get(obligation)
        if tallies is None:
            continue
        if state == "pending":
            start, met, since = rest
            tallies[status_on(today, kinds[obligation], start, met, False, since)] += n
        else:
            tallies[state] += n
            elapsed[obligation][rest[0]] += n
    report: dict[str, dict[str, Any]] = {}
    for obligation, tallies in counts.items():
        started = sum(tallies.values()) - tallies["not_applicable"]
        tallies["not_applicable"] = families - started
        kind = kinds[obligation]
        median = {"median_days": _median(elapsed[obligation])} if kind is ObligationKind.DEADLINE else {}
        report[obligation] = {"kind": kind.value, **tallies, **median}
    return report


def _median(histogram: Counter[int]) -> float | int | None:
    total = sum(histogram.values())
    if not total:
        return None
    middle = [(total - 1) // 2, total // 2]
    found: list[int] = []
    seen = 0
    for days in sorted(histogram):
        seen += histogram[days]
        while len(found) < 2 and middle[len(found)] < seen:
            found.append(days)
    low, high = found
    return (low + high) // 2 if (low + high) % 2 == 0 else (low + high) / 2
