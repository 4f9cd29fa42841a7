"""The `ledger` command: serve the API, manage tokens, import backfills, export, verify, report,
run a witness and write the docs. Each group of commands is a module of its own, registered here:

    api/command_line.py     the app, failures by the error table, the runtime, progress bars
    api/token_commands.py   ledger tokens create|list|revoke
    api/log_commands.py     ledger import|export|forget|verify|checkpoint
    api/report_commands.py  ledger report|rebuild|project|migrate|demo
    api/witness_commands.py      ledger witness serve|key|status
    api/docs_commands.py         ledger docs

Every command exits non-zero with a one-line reason on failure; long work shows a progress bar
on a terminal.
"""

from typing import Annotated

import typer

from api import docs_commands, log_commands, report_commands  # noqa: F401 - they register their commands on the app
from api.command_line import app, err, fail, opened
from api.http_server import raise_descriptor_limit, server_options
from api.settings import from_environment
from api.token_commands import tokens
from api.witness_commands import witness

app.add_typer(tokens, name="tokens")
app.add_typer(witness, name="witness")
app.command("docs")(docs_commands.docs)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
) -> None:
    """Serve the HTTP API (OpenAPI at /docs) and the monitors' dashboard (at /)."""
    import uvicorn

    settings = from_environment()
    settings.witness_endpoints  # noqa: B018 - a bad LEDGER_WITNESSES refused here (one line), not in the server's start-up
    try:
        raise_descriptor_limit(settings.max_connections)
    except ValueError as error:
        fail(str(error))
    # The database and the key files are checked here, each refusal one line, not in the server's start-up
    with opened(finish_forgetting=False, creates=True) as runtime:
        runtime.ledger.signed_heads.check_signer()
    err.print(f"ledger on {settings.database_url.split('@')[-1]} at http://{host}:{port} (dashboard at /, docs at /docs)")
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, **server_options(settings))


def main() -> None:
    app()
