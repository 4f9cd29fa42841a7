"""The generated sections of the repository's documentation, produced from the code they describe.

A user's documentation must not drift from what the ledger does: who may post what (the
permission matrix), each type's fields (the pydantic models), what each number of the report
means (projections/definitions.py), each obligation's clock (domain/obligation_status.py). So those parts of
README.md, docs/ and examples/README.md sit between markers,

    <!-- generated: NAME -->
    ...
    <!-- end generated: NAME -->

and are written by `ledger docs`; `ledger docs --check` (and tests/test_docs.py) fails when one is
stale. Everything else in those files is written by hand.
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from api.catalog import catalog
from api.settings import Settings
from domain.catalog import AMENDMENTS
from domain.vocabulary import Obligation
from domain.organizations import NAMES, Organization
from domain.permissions import allowed_types, may_post
from domain.obligation_status import KINDS, KIND_OF
from domain.terms import SETTLEMENT_2023
from examples import journey
from projections.definitions import DEFINITIONS
from projections.labels import label, path_label


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    header = list(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _codes(names: Iterable[str]) -> str:
    return ", ".join(f"`{name}`" for name in names) or "—"


def who_may_post() -> str:
    """Each organization that may post, and the types it may post; corrections and retractions,
    which every agency may post for its own entries, said once below the table."""
    posting = [o for o in Organization if allowed_types(o.value)]
    rows = [(f"`{o.value}`", NAMES[o], ", ".join(t for t in allowed_types(o.value) if t not in AMENDMENTS)) for o in posting]
    amending = [o.value for o in posting if all(may_post(o.value, t) for t in AMENDMENTS)]
    who = "Each of them" if len(amending) == len(posting) else ", ".join(amending)
    return _table(["Organization", "", "May post"], rows) + (
        f"\n\n{who} may also post {' and '.join(sorted(AMENDMENTS))}, amending its own entries only."
    )


def catalog_types() -> str:
    """Each event type: its purpose, who may post it, its fields and personal fields."""
    sections = []
    for entry in catalog().event_types:
        sections.append(
            f"### {entry.type}\n\n{entry.purpose}\n\n"
            f"- posted to: {'the case id `SETTLEMENT`' if entry.stream == 'settlement' else 'a family case'}\n"
            f"- may post: {_codes(entry.may_post)}\n"
            f"- required fields of `data`: {_codes(entry.required_fields)}\n"
            f"- optional fields of `data`: {_codes(entry.optional_fields)}\n"
            f"- personal data: {_codes(entry.personal_fields)}"
        )
    return "\n\n".join(sections)


def _late_days() -> str:
    default = Settings.model_fields["late_report_days"].default
    return f"`LEDGER_LATE_REPORT_DAYS` ({default} unless set)"


def definitions() -> str:
    """Every measure of the report: its JSON path, its label, its definition."""
    return "\n".join(
        f"- **`{key}`** ({path_label(key)}): {text.format(late_report_days=_late_days())}"
        for key, text in DEFINITIONS.items()
    )


def _span(duration: dict[str, int]) -> str:
    return ", ".join(f"{value} {unit if value != 1 else unit[:-1]}" for unit, value in duration.items() if value)


def obligations() -> str:
    """Each obligation: its kind, its clock, its duration in the shipped terms, when it starts and
    what meets it; then how a court's extension moves it."""
    terms = SETTLEMENT_2023["obligations"]
    rows = [
        (
            f"`{obligation.value}`",
            label(obligation.value),
            KIND_OF[obligation].value,
            KINDS[obligation].value,
            _span(terms[obligation.value]) if obligation.value in terms else "—",
            DEFINITIONS[f"obligations.{obligation.value}"],
        )
        for obligation in Obligation
    ]
    table = _table(["Obligation", "", "Kind", "Clock", "settlement-2023", "Start, and what meets it"], rows)
    return f"{table}\n\nHow every clock is read, and how an extension moves it:\n\n{DEFINITIONS['obligations']}"


def terms_in_force() -> str:
    """The shipped terms, as the ledger adopts them on its first start."""
    rows = [(f"`{name}`", _span(duration)) for name, duration in SETTLEMENT_2023["obligations"].items()]
    return (
        f"`settlement-2023`: terms version {SETTLEMENT_2023['terms_version']}, effective "
        f"{SETTLEMENT_2023['effective_date']} ({SETTLEMENT_2023['court_order_id']}).\n\n" + _table(["Obligation", "Duration"], rows)
    )


def examples() -> str:
    """The journey's files, in order: who posts each, and which types it holds."""
    rows = []
    for example in journey():
        types = list(dict.fromkeys(envelope["type"] for envelope in example.envelopes))
        rows.append((f"`{example.path.name}`", f"`{example.organization}`", str(len(example.envelopes)), ", ".join(types)))
    return _table(["File", "Token of", "Events", "Types"], rows)


@dataclass(frozen=True)
class Section:
    path: str  # relative to the repository's root
    name: str
    render: Callable[[], str]


SECTIONS = (
    Section("README.md", "who-may-post", who_may_post),
    Section("docs/catalog.md", "who-may-post", who_may_post),
    Section("docs/catalog.md", "event-types", catalog_types),
    Section("docs/definitions.md", "definitions", definitions),
    Section("docs/obligations.md", "obligations", obligations),
    Section("docs/obligations.md", "terms", terms_in_force),
    Section("docs/settlement.md", "terms", terms_in_force),
    Section("examples/README.md", "examples", examples),
)


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"(<!-- generated: {re.escape(name)} -->\n)(.*?)(<!-- end generated: {re.escape(name)} -->)", re.DOTALL)


class MissingMarkers(Exception):
    """A file lacks a generated section's markers."""


def regenerated(text: str, name: str, body: str, where: str = "") -> str:
    """`text` with the section `name` holding `body`."""
    pattern = _pattern(name)
    if not pattern.search(text):
        raise MissingMarkers(f"{where or 'the text'} has no <!-- generated: {name} --> ... <!-- end generated: {name} --> markers")
    return pattern.sub(lambda found: f"{found.group(1)}\n{body}\n\n{found.group(3)}", text, count=1)


def expected_files(root: Path) -> dict[Path, tuple[str, str]]:
    """Each documentation file under `root` with generated sections: (its text now, as it should be)."""
    files: dict[Path, tuple[str, str]] = {}
    rendered: dict[Callable[[], str], str] = {}
    for section in SECTIONS:
        path = root / section.path
        if path not in files:
            current = path.read_text(encoding="utf-8")
            files[path] = (current, current)
        body = rendered.setdefault(section.render, section.render())
        current, expected = files[path]
        files[path] = (current, regenerated(expected, section.name, body, section.path))
    return files


def stale(root: Path) -> list[str]:
    """The files whose generated sections are not what the code now generates."""
    return [str(path.relative_to(root)) for path, (now, expected) in expected_files(root).items() if now != expected]


def write(root: Path) -> list[str]:
    """Brings every generated section up to date; the files it changed."""
    changed = []
    for path, (now, expected) in expected_files(root).items():
        if now != expected:
            path.write_text(expected, encoding="utf-8")
            changed.append(str(path.relative_to(root)))
    return changed
