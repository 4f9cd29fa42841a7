"""`ledger docs`: write the documentation's generated sections, or (`--check`) fail if one is stale.

Kept apart from api/cli.py, which registers it: it needs no database, only the code it documents.
"""

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from api import docs_generator

err = Console(stderr=True, soft_wrap=True)


def docs(
    check: Annotated[bool, typer.Option("--check", help="Change nothing; exit 1 if a generated section is stale (2: not a checkout).")] = False,
    root: Annotated[
        Path, typer.Option(file_okay=False, help="The repository's checkout (README.md, docs/, examples/).")
    ] = Path("."),
) -> None:
    """Generate the sections of README.md, docs/ and examples/README.md that are derived from the code
    (who may post what, the event types, the report's definitions, the obligations). Exit 1: a
    section is stale (--check); exit 2: ROOT is not the ledger's checkout."""
    if not (root / "README.md").is_file() or not (root / "docs").is_dir():
        err.print(f"[bold red]error:[/] {root.absolute()} is not the ledger's checkout (no README.md and docs/): give --root", highlight=False)
        raise typer.Exit(2)
    try:
        changed = docs_generator.stale(root) if check else docs_generator.write(root)
    except (OSError, docs_generator.MissingMarkers) as error:
        err.print(f"[bold red]error:[/] {error}", highlight=False)
        raise typer.Exit(1) from None
    if check and changed:
        err.print(f"[bold red]error:[/] stale: {', '.join(changed)}; run `ledger docs`", highlight=False)
        raise typer.Exit(1)
    err.print(("up to date" if check else f"wrote {', '.join(changed)}") if changed or check else "already up to date")
