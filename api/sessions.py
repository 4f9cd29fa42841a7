"""The dashboard's sessions: a signed cookie that names a token, never holds one.

A monitor signs in by pasting a token into a form. The cookie then holds the token's *name* (its
public part) and a CSRF secret, signed with itsdangerous (HMAC-SHA256) under a key derived from the
ledger's signing key (`Signer.derive_secret`): every API process sharing the signing key honours
the same sessions, a restart does not sign everyone out, and no new secret file needs keeping.
Each request looks the name up again (`Ledger.principal_named`), so revoking the token ends its
sessions at once, everywhere.

The cookie is HttpOnly (no script reads it), SameSite=Strict (no other site's page sends it) and
Secure when served over https; every POST form carries the session's CSRF secret as well, checked
in constant time. Signing in starts a new session with a new CSRF secret, so a session fixed
before sign-in is worth nothing after it.
"""

import hmac
import secrets
from dataclasses import dataclass

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "ledger_session"
PURPOSE = "dashboard-session-cookie-v1"


@dataclass(frozen=True, slots=True)
class Session:
    csrf: str
    token_name: str | None = None  # None until signed in


class Sessions:
    def __init__(self, key: bytes, max_age_seconds: int) -> None:
        self._serializer = URLSafeTimedSerializer(key, salt=PURPOSE)
        self.max_age_seconds = max_age_seconds

    @staticmethod
    def new(token_name: str | None = None) -> Session:
        return Session(secrets.token_urlsafe(32), token_name)

    def read(self, request: Request) -> Session | None:
        """The request's session, or None (no cookie, a forged or altered one, or expired)."""
        cookie = request.cookies.get(COOKIE)
        if not cookie:
            return None
        try:
            data = self._serializer.loads(cookie, max_age=self.max_age_seconds)
        except BadSignature:  # includes SignatureExpired
            return None
        if not isinstance(data, dict) or not isinstance(data.get("csrf"), str):
            return None
        name = data.get("name")
        return Session(data["csrf"], name if isinstance(name, str) else None)

    def write(self, response: Response, request: Request, session: Session) -> None:
        response.set_cookie(
            COOKIE,
            self._serializer.dumps({"csrf": session.csrf, "name": session.token_name}),
            max_age=self.max_age_seconds,
            path="/",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )

    def clear(self, response: Response, request: Request) -> None:
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=request.url.scheme == "https")


def csrf_matches(session: Session | None, submitted: str) -> bool:
    return session is not None and hmac.compare_digest(session.csrf.encode(), submitted.encode())
