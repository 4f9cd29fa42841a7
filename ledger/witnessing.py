"""Collecting witnesses' cosignatures of the ledger's checkpoints (c2sp.org/tlog-witness, as the
log's side of it), in background threads of the API process: appends never wait for a witness.

Each configured witness has a thread. When the latest signed checkpoint is one the witness has
not cosigned, the thread sends it (`POST <url>/add-checkpoint`) with the consistency proof from
the size the witness last cosigned (from the cosignatures table; 0 for a new witness). A 409
answer says the size the witness holds: the thread resends from that size at once. A cosignature
that verifies against the witness's configured key is stored with the checkpoint; anything else
(the witness down, a refusal, a bad signature) is retried with exponential backoff, and shows in
`/metrics` and `/healthz`.

LEDGER_WITNESSES lists the witnesses, `<verifier key> <URL>` each, separated by `;` or newlines:
the verifier key is the witness's cosignature/v1 key (`ledger witness key` prints it), its name
the witness's name; the URL its submission prefix.
"""

from __future__ import annotations

import base64
import http.client
import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import NamedTuple
from urllib.parse import urlsplit

from domain.errors import ConfigurationError, Unavailable
from ledger.checkpoints import ed25519_verifies
from ledger.cosignatures import check_cosignature
from ledger.signed_notes import CheckpointError
from ledger.recorders.base import LedgerRecorder
from ledger.recorders.rows import StoredCheckpoint
from ledger.recorders.cosignature_records import StoredCosignature
from ledger.tree import LogTree
from ledger.vkeys import COSIGNATURE_ED25519, VerifierKey, VerifierKeyError, parse_verifier_key

logger = logging.getLogger(__name__)

SIZE_CONTENT_TYPE = "text/x.tlog.size"
REQUEST_TIMEOUT_SECONDS = 10.0
FIRST_RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 300.0
_HOST = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?")  # host names and IPv4 addresses (urlsplit lowercases)
MAX_CONFLICTS = 3  # 409 answers followed in a row before waiting: the witness keeps moving


class WitnessConfigError(ConfigurationError):
    """The witnesses' settings cannot be used: nothing starts."""


@dataclass(frozen=True)
class WitnessEndpoint:
    key: VerifierKey
    url: str  # the submission prefix

    @property
    def name(self) -> str:
        return self.key.name


def parse_witnesses(text: str) -> list[WitnessEndpoint]:
    """LEDGER_WITNESSES: `<verifier key> <URL>` entries, separated by `;` or newlines."""
    endpoints: list[WitnessEndpoint] = []
    for entry in text.replace("\n", ";").split(";"):
        words = entry.split()
        if not words:
            continue
        if len(words) != 2:
            raise WitnessConfigError(f"LEDGER_WITNESSES entry {entry.strip()!r}: expected `<verifier key> <URL>`")
        try:
            key = parse_verifier_key(words[0], COSIGNATURE_ED25519)
        except VerifierKeyError as error:
            raise WitnessConfigError(f"LEDGER_WITNESSES: {error}") from None
        _check_url(key.name, words[1])
        if any(other.key.name == key.name for other in endpoints):
            raise WitnessConfigError(f"LEDGER_WITNESSES: witness {key.name} is listed twice")
        endpoints.append(WitnessEndpoint(key, words[1].rstrip("/")))
    return endpoints


def _check_url(name: str, text: str) -> None:
    """A witness's submission prefix: http(s), a host name or IP address, a port in 1..65535 if
    given, a path; no user info (a password would show in /healthz and /metrics, and the collector
    sends none) and no query or fragment (the collector drops them). The refusal never repeats a
    URL that carries user info."""
    shown = "(not shown: it has user info)" if "@" in text else repr(text)
    try:
        url = urlsplit(text)
        port = url.port
    except ValueError:  # a port out of range or not a number, a bracketed host not an IP address
        raise WitnessConfigError(f"LEDGER_WITNESSES: witness {name}'s URL {shown} has an invalid host or port (1..65535)") from None
    if url.scheme not in ("http", "https") or not url.hostname:
        raise WitnessConfigError(f"LEDGER_WITNESSES: witness {name}'s URL {shown} is not http(s)://host/…")
    if "@" in url.netloc:
        raise WitnessConfigError(f"LEDGER_WITNESSES: witness {name}'s URL {shown}: user info (user:password@) is not allowed")
    if "?" in text or "#" in text:
        raise WitnessConfigError(f"LEDGER_WITNESSES: witness {name}'s URL {shown} has a query or fragment, which are not sent")
    if port == 0:
        raise WitnessConfigError(f"LEDGER_WITNESSES: witness {name}'s URL {shown} has an invalid host or port (1..65535)")
    if not _HOST.fullmatch(url.hostname) and not url.netloc.startswith("["):  # [IPv6] urlsplit checked
        raise WitnessConfigError(f"LEDGER_WITNESSES: witness {name}'s URL {shown} has an invalid host or port (1..65535)")


@dataclass
class WitnessStatus:
    """What /metrics and /healthz show of a witness (this process's view)."""

    name: str
    url: str
    up: bool | None = None  # None: not asked yet
    cosigned_tree_size: int | None = None
    last_error: str | None = None
    last_error_at: str | None = None
    failures: int = 0  # in a row

    def as_json(self) -> dict[str, object]:
        """As /healthz shows it: every field but the failures in a row."""
        return {name: value for name, value in asdict(self).items() if name != "failures"}


class WitnessUnavailable(Unavailable):
    """The witness did not cosign this time; the message says why (no personal data, no token)."""


def cosigned_note(store: LedgerRecorder, checkpoint: StoredCheckpoint) -> tuple[str, list[StoredCosignature]]:
    """The checkpoint's note with every cosignature collected appended, and those cosignatures."""
    cosignatures = store.cosignatures(checkpoint.tree_size)
    return checkpoint.note + "".join(c.line for c in cosignatures), cosignatures


class WitnessAnswer(NamedTuple):
    """A witness's answer to an add-checkpoint request (its first 64 KiB of text)."""

    status: int
    content_type: str
    text: str


class _Client:
    """One keep-alive HTTP connection to a witness, reopened after any failure."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self._https = parts.scheme == "https"
        self._host, self._port = parts.hostname or "", parts.port
        self._path = (parts.path or "").rstrip("/") + "/add-checkpoint"
        self._connection: http.client.HTTPConnection | None = None

    def post(self, body: bytes) -> "WitnessAnswer":
        if self._connection is None:
            kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._connection = kind(self._host, self._port, timeout=REQUEST_TIMEOUT_SECONDS)
        try:
            self._connection.request("POST", self._path, body, {"Content-Type": "text/plain; charset=utf-8"})
            response = self._connection.getresponse()
            return WitnessAnswer(
                response.status, response.getheader("Content-Type", ""), response.read(64 * 1024).decode("utf-8", "replace")
            )
        except (OSError, http.client.HTTPException) as error:
            self.close()
            raise WitnessUnavailable(f"unreachable ({type(error).__name__})") from None

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class CosignatureCollector:
    def __init__(self, store: LedgerRecorder, tree: LogTree, witnesses: list[WitnessEndpoint], poll_seconds: float = 1.0) -> None:
        self.store = store
        self.tree = tree
        self.witnesses = witnesses
        self.poll_seconds = poll_seconds
        self.status = {w.name: WitnessStatus(w.name, w.url) for w in witnesses}
        self._clients = {w.name: _Client(w.url) for w in witnesses}
        self._held: dict[str, int] = {}  # the size each witness last said it holds

    def submit_latest(self, witness: WitnessEndpoint) -> StoredCosignature | None:
        """Has the witness cosign the latest checkpoint, if it has not; the cosignature stored,
        or None if there was nothing to cosign. Raises WitnessUnavailable."""
        latest = self.store.checkpoints(latest=True)
        if not latest:
            return None
        checkpoint = latest[0]
        status = self.status[witness.name]
        cosigned = self.store.latest_cosigned(witness.name, witness.key.key_id.hex())
        if cosigned is not None and cosigned >= checkpoint.tree_size:
            status.cosigned_tree_size = cosigned
            return None
        held = self._held.get(witness.name, cosigned or 0)
        for _ in range(MAX_CONFLICTS):
            if held > checkpoint.tree_size:
                raise WitnessUnavailable(f"holds tree size {held}, beyond the ledger's latest checkpoint")
            proof = self.tree.consistency_proof(held, checkpoint.tree_size) if 0 < held < checkpoint.tree_size else []
            body = f"old {held}\n" + "".join(f"{_b64(node)}\n" for node in proof) + "\n" + checkpoint.note
            code, content_type, text = self._clients[witness.name].post(body.encode())
            if code == 409 and content_type.split(";")[0].strip() == SIZE_CONTENT_TYPE:
                held = _size(text)
                self._held[witness.name] = held
                continue
            if code != 200:
                raise WitnessUnavailable(f"HTTP {code}: {text.strip().splitlines()[0][:200] if text.strip() else ''}")
            stored = self._store(witness, checkpoint, text)
            self._held[witness.name] = checkpoint.tree_size
            status.cosigned_tree_size = checkpoint.tree_size
            return stored
        raise WitnessUnavailable("the witness's size kept changing (409 after 409)")

    def _store(self, witness: WitnessEndpoint, checkpoint: StoredCheckpoint, answer: str) -> StoredCosignature:
        lines = [line + "\n" for line in answer.split("\n") if line]
        try:
            check = check_cosignature(checkpoint.note + "".join(lines), witness.key, ed25519_verifies)
        except CheckpointError as error:
            raise WitnessUnavailable(f"answered with malformed signature lines ({error})") from None
        if check.status != "valid" or check.timestamp is None:
            raise WitnessUnavailable(f"answered without a valid cosignature by its key ({check.status})")
        line = next(line for line in lines if line.split(" ")[1:2] == [witness.name] and _line_key_id(line) == witness.key.key_id)
        stored = StoredCosignature(checkpoint.tree_size, witness.name, witness.key.key_id.hex(), check.timestamp, line, _now())
        self.store.insert_cosignature(stored)
        return stored

    def follow(self, witness: WitnessEndpoint, stop: threading.Event) -> None:
        """Until `stop`: cosignatures of each new checkpoint, retried with backoff while failing."""
        status = self.status[witness.name]
        delay = 0.0
        while not stop.wait(delay):
            try:
                self.submit_latest(witness)
            except WitnessUnavailable as error:
                status.up, status.failures = False, status.failures + 1
                status.last_error, status.last_error_at = str(error), _now()
                delay = min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** (status.failures - 1))
                logger.warning("witness %s: %s; retrying in %.0fs", witness.name, error, delay)
                continue
            except Exception as error:  # noqa: BLE001 - the database away: the next round retries
                status.last_error, status.last_error_at = f"ledger side: {type(error).__name__}", _now()
                delay = self.poll_seconds
                continue
            status.up, status.failures, delay = True, 0, self.poll_seconds
        self._clients[witness.name].close()


def _b64(node: bytes) -> str:
    return base64.b64encode(node).decode("ascii")


def _line_key_id(line: str) -> bytes:
    try:
        return base64.b64decode(line.split(" ")[2].strip())[:4]
    except (IndexError, ValueError):
        return b""


def _size(text: str) -> int:
    value = text.strip()
    if not value.isdigit() or len(value) > 20:
        raise WitnessUnavailable("answered 409 without a tree size")
    return int(value)


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@contextmanager
def collecting_cosignatures(collector: CosignatureCollector | None) -> Iterator[None]:
    """A thread per witness while the block runs (none without witnesses)."""
    if collector is None or not collector.witnesses:
        yield
        return
    stop = threading.Event()
    threads = [
        threading.Thread(target=collector.follow, args=(w, stop), name=f"witness-{w.name}", daemon=True)
        for w in collector.witnesses
    ]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=REQUEST_TIMEOUT_SECONDS + 5)
