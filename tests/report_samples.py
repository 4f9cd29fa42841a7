"""Reports for the renderers' tests: a demo population's (every section filled: breakdowns, court
extensions, corrections), and the numbers of a report's JSON form, wherever they are."""

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from domain.as_of import AsOf
from ledger.application import Ledger
from ledger.checkpoints import Signer
from ledger.demo import Population, append_population
from projections.report import compliance_report
from projections.runner import Projection

TODAY = date(2026, 11, 1)
Number = int | float | None


def demo_report(directory: Path, signer: Signer, master_key: bytes, cases: int = 60, seed: int = 3) -> dict[str, Any]:
    with Ledger(f"sqlite:///{directory}/ledger.db", signer, master_key) as ledger:
        ledger.appender.adopt_default_terms()
        append_population(ledger, Population(cases, seed, TODAY))
        projection = Projection(ledger)
        projection.catch_up()
        return compliance_report(ledger, projection, ledger.reader.resolve(AsOf.now()), None, 0)


def json_numbers(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Number]]:
    """(path, number) of every number of a report's JSON form, a median of no case (null) included."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from json_numbers(inner, (*path, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from json_numbers(inner, (*path, index))
    elif value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        yield path, value
