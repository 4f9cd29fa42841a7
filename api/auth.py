"""Bearer tokens: who is calling, and whether their role may use a route."""

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from domain.access import Principal
from domain.organizations import Role
from ledger.application import Ledger

_bearer = HTTPBearer(auto_error=False, description="A token issued with `ledger tokens create`.")
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


async def get_ledger(request: Request) -> Ledger:
    return request.app.state.ledger  # type: ignore[no-any-return]


def principal(
    ledger: Annotated[Ledger, Depends(get_ledger)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise HTTPException(401, "this route needs a bearer token", headers=_CHALLENGE)
    who = ledger.tokens.authenticate(credentials.credentials)
    if who is None:
        raise HTTPException(401, "the token is unknown or revoked", headers=_CHALLENGE)
    return who


def allow(*roles: Role) -> Callable[[Principal], Principal]:
    names = ", ".join(sorted(role.value for role in roles))

    async def check(who: Annotated[Principal, Depends(principal)]) -> Principal:
        if who.role not in roles:
            raise HTTPException(403, f"{who.role.with_article} token cannot use this route (it needs: {names})")
        return who

    return check
