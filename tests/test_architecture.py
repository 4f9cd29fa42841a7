"""What may import what (ARCHITECTURE.md): dependencies point inward, domain → ledger → projections → api."""

import ast
import sys
from pathlib import Path

import pytest

from ledger.export import VERIFIER_MODULES

ROOT = Path(__file__).resolve().parent.parent
# Each project package, and the project packages it may import (besides itself).
MAY_IMPORT = {
    "domain": set(),
    "ledger": {"domain"},
    "projections": {"domain", "ledger"},
    "witness": {"domain", "ledger"},
    "api": {"domain", "ledger", "projections", "witness", "examples"},
}
PROJECT = set(MAY_IMPORT) | {"examples", "tests", "bench", "features"}
# The domain is the settlement's language: beyond the standard library, only its schemas and aggregates.
DOMAIN_THIRD_PARTY = {"pydantic", "pydantic_core", "pydantic_extra_types", "eventsourcing"}
# Shipped in every bundle as one verify.py: the standard library and each other only.
OFFLINE_VERIFIER = {f"ledger/{module.removeprefix('ledger.')}.py" for module in VERIFIER_MODULES}


def imported_top_levels(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def modules_of(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", [p for p in MAY_IMPORT if (ROOT / p).is_dir()])
def test_each_package_imports_only_the_packages_inside_it(package: str) -> None:
    for path in modules_of(package):
        outward = (imported_top_levels(path) & PROJECT) - MAY_IMPORT[package] - {package}
        assert not outward, f"{path.relative_to(ROOT)} imports {sorted(outward)}"


def test_the_domain_needs_nothing_but_the_standard_library_pydantic_and_eventsourcing() -> None:
    for path in modules_of("domain"):
        foreign = imported_top_levels(path) - sys.stdlib_module_names - DOMAIN_THIRD_PARTY - {"domain", "__future__"}
        assert not foreign, f"{path.relative_to(ROOT)} imports {sorted(foreign)}"


def test_the_offline_verifier_needs_nothing_but_the_standard_library() -> None:
    own = {Path(name).stem for name in OFFLINE_VERIFIER}
    for name in OFFLINE_VERIFIER:
        path = ROOT / name
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ledger."):
                assert node.module.removeprefix("ledger.") in own, f"{name} imports {node.module}"
        foreign = imported_top_levels(path) - sys.stdlib_module_names - {"ledger", "__future__"}
        assert not foreign, f"{name} imports {sorted(foreign)}"


def test_no_production_module_is_over_four_hundred_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for package in MAY_IMPORT
        for path in modules_of(package)
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > 400
    }
    assert long == {}, "a module holds one concept and fits on a few screens (STYLE.md): split these by concept"


# The Ledger's own parts, which only its services (ledger/) and the composition root wire together.
LEDGER_PARTS = {"store", "tree", "recorder"}
COMPOSITION_ROOT = {"ledger", "api/bootstrap.py"}


def test_no_caller_reaches_through_the_ledger_into_its_store_or_tree() -> None:
    """A caller asks one of the ledger's services (ARCHITECTURE.md); only ledger/ and the
    composition root touch the recorder and the tree the services are built on."""
    reaching = []
    for package in MAY_IMPORT:
        for path in modules_of(package):
            where = path.relative_to(ROOT).as_posix()
            if where.split("/")[0] in COMPOSITION_ROOT or where in COMPOSITION_ROOT:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Attribute)
                    and node.attr in LEDGER_PARTS
                    and isinstance(inner := node.value, ast.Attribute | ast.Name)
                    and (inner.attr if isinstance(inner, ast.Attribute) else inner.id) in {"ledger", "opened"}
                ):
                    reaching.append(f"{where}:{node.lineno} .{node.attr}")
    assert reaching == []


def test_no_consistency_check_at_import_time_is_an_assert() -> None:
    """`python -O` drops asserts: a check a module makes as it loads raises instead."""
    asserted = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for package in MAY_IMPORT
        for path in modules_of(package)
        for node in ast.parse(path.read_text(encoding="utf-8")).body
        for found in ast.walk(node)
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and isinstance(found, ast.Assert)
    ]
    assert asserted == []
