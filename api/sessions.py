"""The dashboard's sessions: a row in the ledger's database, named by a signed cookie.

A monitor signs in by pasting a token into a form. The session is then a row in the ledger's
database (ledger/recorders/session_records.py: the token's *name*, never the token; the hash of a
random session id; when it began and when it ends), and the cookie holds the session id, the
token's name and a CSRF secret, signed with itsdangerous (HMAC-SHA256) under a key derived from the
ledger's signing key (`Signer.derive_secret`).

A cookie opens the dashboard only while its row lives, checked at every request. The database is
the one state all API processes share, so signing out (the row deleted), revoking the token (all
its rows deleted, and the token read again at every request besides) and expiry (`expires_at`,
whatever the cookie claims) end the session at once, in every process: a copy of the cookie taken
before is worth nothing after. A forged cookie fails its signature; a genuine one whose row is gone
opens nothing. A restart signs no one out.

The cookie is HttpOnly (no script reads it), SameSite=Strict (no other site's page sends it) and
Secure when served over https; every POST form carries the session's CSRF secret as well, checked
in constant time. Signing in starts a new session with a new id and a new CSRF secret, so a session
fixed before sign-in is worth nothing after it. Before sign-in, a session is the cookie alone (the
sign-in form's CSRF secret): nothing is stored for visitors.
"""

import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from domain.values import utc_text
from ledger.recorders.session_records import SessionRecords, StoredSession

COOKIE = "ledger_session"
# v2: the cookie names a stored session. A v1 cookie (signed, not stored) fails the signature.
PURPOSE = "dashboard-session-cookie-v2"


@dataclass(frozen=True, slots=True)
class Session:
    csrf: str
    token_name: str | None = None  # None until signed in
    session_id: str | None = None  # the stored session's id (a secret), once signed in


class Sessions:
    def __init__(self, key: bytes, lifetime: timedelta, store: SessionRecords) -> None:
        self._serializer = URLSafeTimedSerializer(key, salt=PURPOSE)
        self.lifetime = lifetime
        self._store = store

    @staticmethod
    def anonymous() -> Session:
        """A visitor's session: only the sign-in form's CSRF secret."""
        return Session(secrets.token_urlsafe(32))

    def read(self, request: Request) -> Session | None:
        """The cookie's session, or None (no cookie, a forged or altered one, or an expired one).
        Genuine is not live: a signed-in session is live only while `is_live` says so."""
        cookie = request.cookies.get(COOKIE)
        if not cookie:
            return None
        try:
            data = self._serializer.loads(cookie, max_age=math.ceil(self.lifetime.total_seconds()))
        except BadSignature:  # includes SignatureExpired
            return None
        if not isinstance(data, dict) or not isinstance(data.get("csrf"), str):
            return None
        name, session_id = data.get("name"), data.get("sid")
        if isinstance(name, str) and isinstance(session_id, str):
            return Session(data["csrf"], name, session_id)
        return Session(data["csrf"])

    def start(self, response: Response, request: Request, token_name: str, replacing: Session | None) -> Session:
        """Stores a new session for the token and sets its cookie (a new id and CSRF secret); the
        session this browser had (`replacing`) ends."""
        now = datetime.now(UTC)
        if replacing is not None and replacing.session_id is not None:
            self._store.delete_session(replacing.session_id)
        self._store.delete_sessions_expired(utc_text(now))  # keeps the table to the sessions alive
        session_id = secrets.token_urlsafe(32)
        self._store.insert_session(session_id, StoredSession(token_name, utc_text(now), utc_text(now + self.lifetime)))
        session = Session(secrets.token_urlsafe(32), token_name, session_id)
        self.write(response, request, session)
        return session

    def is_live(self, session: Session) -> bool:
        """Whether the session's row is stored, for its token, and not past its end."""
        if session.session_id is None or session.token_name is None:
            return False
        stored = self._store.stored_session(session.session_id)
        return stored is not None and stored.token_name == session.token_name and stored.live_at(utc_text(datetime.now(UTC)))

    def end(self, response: Response, request: Request, session: Session | None) -> None:
        """Ends the session in the database (every copy of its cookie dies with it) and clears
        this browser's cookie."""
        if session is not None and session.session_id is not None:
            self._store.delete_session(session.session_id)
        self.clear(response, request)

    def clear(self, response: Response, request: Request) -> None:
        """Clears this browser's cookie (of a session already over: nothing stored is touched)."""
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=request.url.scheme == "https")

    def write(self, response: Response, request: Request, session: Session) -> None:
        data = {"csrf": session.csrf}
        if session.session_id is not None:
            data |= {"name": session.token_name, "sid": session.session_id}
        response.set_cookie(
            COOKIE,
            self._serializer.dumps(data),
            max_age=math.ceil(self.lifetime.total_seconds()),
            path="/",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )


def csrf_matches(session: Session | None, submitted: str) -> bool:
    return session is not None and hmac.compare_digest(session.csrf.encode(), submitted.encode())
