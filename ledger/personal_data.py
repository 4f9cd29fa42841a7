"""Personal data sealed per case, and forgotten by destroying the case's keys.

The personal fields of the catalog (names, phone numbers, addresses, free-text notes) are stored
sealed: AES-GCM under a key of the case's own, itself wrapped (AES key wrap, RFC 3394) by the
ledger's master key. The sealed text is what the event's Merkle leaf commits to, so destroying a
case's keys ("forgetting" it) makes its personal data unreadable for good while every event,
leaf, checkpoint, proof and report stays exactly as it was. Nothing else is encrypted: reports and
verification never need the keys.

A sealed value reads `sealed:v1:<key id>:<base64 of nonce and ciphertext>`; the case id is its
associated data, so a sealed value moved to another case does not open.

A case's first key is made here but stored only by the append that first seals with it, in that
append's transaction (ledger/recorders/case_keys.py): a refused batch leaves no key behind.
"""

import base64
import copy
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any, NamedTuple

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import (
    InvalidUnwrap,
    aes_key_unwrap,
    aes_key_wrap,
)

from domain.catalog import has_personal_values, personal_values
from domain.envelope import Posting
from domain.errors import ConfigurationError
from domain.events import LedgerEvent
from domain.values import SEALED_PREFIX, utc_text
from ledger.key_files import read_or_create
from ledger.recorders.base import LedgerRecorder
from ledger.recorders.case_keys import CaseKeyRow

REDACTED = "[redacted]"
_VERSION = "v1"
_NONCE = 12
_SEALED_KEY_ID = re.compile(re.escape(f"{SEALED_PREFIX}{_VERSION}:").encode() + rb"([0-9a-f]+):")


def key_ids_sealed_in(stored_state: bytes) -> set[str]:
    """The ids of the keys that sealed values in a stored event's payload."""
    return {match.decode() for match in _SEALED_KEY_ID.findall(stored_state)}


class MasterKeyError(ConfigurationError):
    """The master key file exists but does not hold a 32-byte key."""


def load_or_create_master_key(path: Path) -> bytes:
    """The 32-byte master key in `path` (base64), created with mode 0600 on first use."""
    text = read_or_create(path, lambda: base64.b64encode(secrets.token_bytes(32)) + b"\n")
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except ValueError:
        raise MasterKeyError(f"{path}: not a base64 key") from None
    if len(key) != 32:
        raise MasterKeyError(f"{path}: holds {len(key)} bytes, not a 32-byte key")
    return key


@dataclass(frozen=True)
class CaseKey:
    key_id: str
    key: bytes

    @cached_property
    def _aead(self) -> AESGCM:
        return AESGCM(self.key)

    @cached_property
    def _digest_key(self) -> bytes:
        return hmac.new(self.key, b"ledger idempotency digest", hashlib.sha256).digest()

    def seal(self, case_id: str, value: str) -> str:
        nonce = os.urandom(_NONCE)
        sealed = self._aead.encrypt(nonce, value.encode(), case_id.encode())
        return f"{SEALED_PREFIX}{_VERSION}:{self.key_id}:{base64.b64encode(nonce + sealed).decode()}"

    def open(self, case_id: str, raw: bytes) -> str:
        return self._aead.decrypt(raw[:_NONCE], raw[_NONCE:], case_id.encode()).decode()

    def digest(self, value: str) -> str:
        """A keyed hash standing in for the value in idempotency digests (useless once forgotten)."""
        return "hmac:" + hmac.digest(self._digest_key, value.encode(), "sha256").hex()  # one-shot: C all the way


class CaseKeys:
    """The current key of some cases, for one append: seals their personal values. `created`: the
    keys made for cases that had none, which the append stores with the events they seal."""

    def __init__(self, keys: dict[str, CaseKey], created: Mapping[str, CaseKeyRow] | None = None) -> None:
        self._keys = keys
        self._created = dict(created or {})

    def __contains__(self, case_id: str) -> bool:
        return case_id in self._keys

    def created_for(self, case_ids: Iterable[str]) -> tuple[CaseKeyRow, ...]:
        """The keys made for these cases, to store with the events sealed with them."""
        return tuple(self._created[case_id] for case_id in sorted(set(case_ids)) if case_id in self._created)

    def key_ids(self) -> dict[str, str]:
        return {case_id: key.key_id for case_id, key in self._keys.items()}

    def made_for(self, case_id: str) -> tuple[CaseKey, CaseKeyRow] | None:
        """The key made for the case (and its row to store), if it had none stored."""
        row = self._created.get(case_id)
        return None if row is None else (self._keys[case_id], row)

    def seal(self, case_id: str, data: Any) -> Any:
        key = self._keys.get(case_id)
        if key is None:
            raise LookupError(f"no key to seal the personal data of case {case_id}: refusing to store it in clear")
        return personal_values(data, lambda value: key.seal(case_id, value))

    def sealed(self, event: LedgerEvent) -> LedgerEvent:
        """The event as it is stored: a copy with its personal values sealed, or itself if it has none."""
        if not has_personal_values(event.data):
            return event
        copied = copy.copy(event)  # the event itself is immutable, and shared by the kept cases
        object.__setattr__(copied, "data", self.seal(event.case_id, event.data))
        return copied

    def hasher(self, case_id: str) -> Callable[[str], str] | None:
        key = self._keys.get(case_id)
        return None if key is None else key.digest


class BatchKeys:
    """A batch's case keys and its idempotency digests under them, read after each head the batch
    is decided on. Keys read before a forgetting that the head includes would seal the batch with a
    destroyed key; read after the head, a key is live, or a forgetting destroyed it since, moving
    its case's version on, and the batch's save clashes and is decided again."""

    def __init__(self, personal: "PersonalData | None", postings: Sequence[Posting], organization: str, case_ids: Iterable[str]) -> None:
        self._personal = personal
        self._postings = postings
        self._organization = organization
        self._case_ids = sorted(set(case_ids))
        self.keys = CaseKeys({})
        # A case with personal values gets its postings' digests once its key is read.
        sealed_cases = set(self._case_ids)
        self.digests = ["" if posting.case_id in sealed_cases else posting.digest(organization) for posting in postings]

    def read(self) -> None:
        """The cases' keys as stored now (a key made earlier for a case still without one kept)."""
        if self._personal is None or not self._case_ids:
            return
        keys = self._personal.keys_for(self._case_ids, self.keys)
        before, now = self.keys.key_ids(), keys.key_ids()
        for i, posting in enumerate(self._postings):
            if before.get(posting.case_id) != now.get(posting.case_id):
                self.digests[i] = posting.digest(self._organization, keys.hasher(posting.case_id))
        self.keys = keys


class Revealed(NamedTuple):
    """Data with its sealed values opened, and how many were (each opening is an access logged)."""

    data: Any
    opened: int


class PersonalData:
    def __init__(self, store: LedgerRecorder, master_key: bytes) -> None:
        self._store = store
        self._master = master_key
        self._unwrapped: dict[bytes, CaseKey] = {}

    def keys_for(self, case_ids: Iterable[str], earlier: CaseKeys | None = None) -> CaseKeys:
        """Each case's current key, a new one made (not stored) for a case without any: its first
        personal data, or its first since it was forgotten. Read afresh every time: never a key
        since destroyed. A case still without a stored key keeps the one made for it `earlier`
        (the same batch's last try), so the batch's idempotency digests stay the same."""
        wanted = sorted(set(case_ids))
        if not wanted:
            return CaseKeys({})
        stored = self._store.case_keys(wanted)
        keys: dict[str, CaseKey] = {}
        created: dict[str, CaseKeyRow] = {}
        for case_id in wanted:
            if stored.get(case_id):
                keys[case_id] = self._case_key(*stored[case_id][-1])  # the newest
            elif earlier is not None and (made := earlier.made_for(case_id)) is not None:
                keys[case_id], created[case_id] = made
            else:
                key = CaseKey(secrets.token_hex(8), AESGCM.generate_key(bit_length=256))
                keys[case_id] = key
                created[case_id] = CaseKeyRow(case_id, key.key_id, aes_key_wrap(self._master, key.key), utc_text(datetime.now(UTC)))
        return CaseKeys(keys, created)

    def reveal(self, case_id: str, data: Any) -> "Revealed":
        """`data` with its sealed values opened (REDACTED where the key is gone): and how many opened."""
        stored = dict(self._store.case_keys([case_id]).get(case_id, []))
        opened = 0

        def open_value(value: str) -> str:
            nonlocal opened
            if not value.startswith(SEALED_PREFIX):
                return value
            try:
                _, version, key_id, body = value.split(":", 3)
                if version != _VERSION:
                    raise ValueError(version)
                raw = base64.b64decode(body, validate=True)
                key = self._case_key(key_id, stored[key_id])
                plain = key.open(case_id, raw)
            except (ValueError, KeyError, InvalidTag, InvalidUnwrap):
                return REDACTED
            opened += 1
            return plain

        return Revealed(personal_values(data, open_value), opened)

    def _case_key(self, key_id: str, wrapped: bytes) -> CaseKey:
        # Unwrapping is the costly step of a batch: the wrapped keys are read afresh each time (so
        # a destroyed key is never used again), and what one unwraps to never changes.
        key = self._unwrapped.get(wrapped)
        if key is None:
            key = CaseKey(key_id, aes_key_unwrap(self._master, wrapped))
            if len(self._unwrapped) >= 50_000:
                self._unwrapped.clear()
            self._unwrapped[wrapped] = key
        return key


def in_clear(data: Any) -> bool:
    """Whether any personal value in `data` is not sealed (so must never be stored as it is)."""
    clear = False

    def check(value: str) -> str:
        nonlocal clear
        clear = clear or not value.startswith(SEALED_PREFIX)
        return value

    personal_values(data, check)
    return clear
