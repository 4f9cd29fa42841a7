"""The users' documentation: its generated sections are what the code generates now, `ledger docs`
brings a stale one up to date (and `--check` fails on it), and it never points a reader at a file
the repository does not hold (the project's internal notes, ../shared, are not shipped)."""

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api import docs_generator
from api.cli import app

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", ROOT / "examples" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of the documentation files with generated sections, as in the repository."""
    for section in docs_generator.SECTIONS:
        (tmp_path / section.path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / section.path, tmp_path / section.path)
    return tmp_path


def test_every_generated_section_is_what_the_code_generates_now() -> None:
    assert docs_generator.stale(ROOT) == [], "run `ledger docs` and commit what it wrote"


def test_check_fails_naming_a_file_whose_section_is_stale_and_ledger_docs_restores_it(checkout: Path) -> None:
    catalog = checkout / "docs" / "catalog.md"
    original = catalog.read_text(encoding="utf-8")
    catalog.write_text(original.replace("| `CBP` | U.S. Customs and Border Protection | ArrivedInUS |", "| `CBP` | | ArrivedInUS, FamilyReunified |"))
    runner = CliRunner()

    check = runner.invoke(app, ["docs", "--check", "--root", str(checkout)])
    assert check.exit_code == 1, check.output
    assert "stale: docs/catalog.md" in check.stderr

    assert runner.invoke(app, ["docs", "--root", str(checkout)]).exit_code == 0
    assert catalog.read_text(encoding="utf-8") == original
    assert runner.invoke(app, ["docs", "--check", "--root", str(checkout)]).exit_code == 0


def test_a_file_that_lost_its_markers_is_an_error_not_silently_skipped(checkout: Path) -> None:
    definitions = checkout / "docs" / "definitions.md"
    definitions.write_text(definitions.read_text(encoding="utf-8").replace("<!-- end generated: definitions -->", ""))

    result = CliRunner().invoke(app, ["docs", "--root", str(checkout)])

    assert result.exit_code == 1
    assert "docs/definitions.md has no <!-- generated: definitions -->" in " ".join(result.stderr.split())


def test_every_measure_obligation_and_event_type_is_in_the_documentation() -> None:
    from domain.catalog import CATALOG
    from domain.vocabulary import Obligation
    from projections.definitions import DEFINITIONS

    text = {name: (ROOT / "docs" / name).read_text(encoding="utf-8") for name in ("definitions.md", "obligations.md", "catalog.md")}
    assert all(f"**`{key}`**" in text["definitions.md"] for key in DEFINITIONS)
    assert all(f"| `{obligation.value}` |" in text["obligations.md"] for obligation in Obligation)
    assert all(f"### {event_type}\n" in text["catalog.md"] for event_type in CATALOG)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_the_documentation_links_only_to_files_the_repository_holds(document: Path) -> None:
    text = document.read_text(encoding="utf-8")
    assert "../shared" not in text and "DESIGN.md" not in text and "DOMAIN.md" not in text
    for target in _LINK.findall(text):
        if "://" not in target:
            assert (document.parent / target).exists(), f"{document.name} links to {target}, which is not there"


def test_the_openapi_schema_sends_no_reader_to_the_projects_internal_notes() -> None:
    from api.app import create_app

    schema = json.dumps(create_app().openapi())
    assert "DESIGN.md" not in schema and "DOMAIN.md" not in schema


def test_outside_a_checkout_the_check_exits_2_not_the_1_of_a_stale_section(tmp_path: Path) -> None:
    """Found: `ledger docs --check` outside a checkout exited 1, as a stale section does, so CI could
    not tell a misconfigured job from stale documentation."""
    result = CliRunner().invoke(app, ["docs", "--check", "--root", str(tmp_path)])
    assert result.exit_code == 2 and "is not the ledger's checkout" in result.output
