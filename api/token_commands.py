"""`ledger tokens create|list|revoke`: the API's tokens, each issued and revoked as an event.
"""

from typing import Annotated

import typer
from rich.table import Table

from api.command_line import err, fail, opened_ledger, out
from domain.access import TOKEN_NAME
from domain.organizations import Organization, Role
from domain.permissions import allowed_types

tokens = typer.Typer(no_args_is_help=True, help="Issue, list and revoke API tokens (each one is an event in the log).")


@tokens.command("create")
def create_token(
    name: Annotated[str, typer.Argument(help="Unique name, e.g. kind-intake (never reused).")],
    organization: Annotated[Organization, typer.Option(help="The organization the token acts for.")],
    role: Annotated[Role, typer.Option(help="agency, monitor, auditor or admin.")],
) -> None:
    """Issue a token. It is printed once, here, and stored only as a hash."""
    if not TOKEN_NAME.fullmatch(name):  # refused before a ledger (and its keys) is made or opened
        fail("a token name is 1-40 lowercase letters, digits and dashes")
    if role is Role.AGENCY and not allowed_types(organization.value):
        fail(f"{organization.value} may post no event type, so an agency token of it could do nothing: give it a monitor or auditor token")
    with opened_ledger(creates=True) as ledger:
        try:
            secret = ledger.tokens.issue(name, organization, role)
        except ValueError as error:
            fail(str(error))
    err.print(f"issued {role.value} token [bold]{name}[/] for {organization.value}; it will not be shown again:")
    out.print(secret, highlight=False, soft_wrap=True)


@tokens.command("list")
def list_tokens() -> None:
    """List tokens (names, organizations, roles, revoked or not; never secrets)."""
    with opened_ledger() as ledger:
        table = Table("name", "organization", "role", "revoked")
        for token in ledger.tokens.listed():
            table.add_row(token["name"], token["organization"], token["role"], "yes" if token["revoked"] else "no")
    out.print(table)


@tokens.command("revoke")
def revoke_token(
    name: Annotated[str, typer.Argument(help="The token's name.")],
    reason: Annotated[str, typer.Option(help="Why (recorded in the log).")],
) -> None:
    """Revoke a token: it stops working at once, in every API process."""
    with opened_ledger() as ledger:
        try:
            ledger.tokens.revoke(name, reason)
        except ValueError as error:
            fail(str(error))
    err.print(f"revoked token {name}")
