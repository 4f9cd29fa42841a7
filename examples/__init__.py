"""The example journey (examples/journey/): one family's case from identification to closure, one
JSON Lines file per organization's part, posted in the order of the files' numbers.

Loaded here so that the tests post every file through the API (tests/test_examples.py) and the
catalog shows them as each type's example envelope (api/catalog.py): the examples an integrator
copies are ones the ledger has just accepted.
"""

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

JOURNEY = Path(__file__).parent / "journey"


@dataclass(frozen=True)
class ExampleFile:
    """`NN-org-what.jsonl`: posted NN-th, with a token of the organization `org`."""

    path: Path
    organization: str
    envelopes: tuple[dict[str, Any], ...]


@cache
def journey() -> tuple[ExampleFile, ...]:
    """The journey's files, in the order they are posted."""
    return tuple(
        ExampleFile(
            path,
            path.name.split("-")[1].upper(),
            tuple(json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()),
        )
        for path in sorted(JOURNEY.glob("*.jsonl"))
    )


def example_envelope(event_type: str) -> dict[str, Any] | None:
    """The journey's first envelope of the type, or None if the journey has none."""
    return next((e for f in journey() for e in f.envelopes if e["type"] == event_type), None)
