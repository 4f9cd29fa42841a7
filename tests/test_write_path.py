"""A posting's way from the route to its Merkle leaf is short and written down (ARCHITECTURE.md).

The path is traced, not read: every Python function that runs in the request's thread from the
moment the route's handler is called until the recorder's append has returned (the leaves are
written) is counted by the file it lives in. The domain's rules it consults (domain/) are listed
apart: they are what a posting is decided by, not a place the thread passes through.
"""

import re
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from domain.access import Principal
from domain.envelope import EventBatch, postings
from domain.organizations import Organization, Role
from ledger.application import Ledger
from ledger.checkpoints import Signer
from tests.builders import batch, contact, separation
from tests.harness import Tokens

ROOT = Path(__file__).resolve().parent.parent
MOST_FILES = 10
FRTF = Principal("frtf-elsewhere", Organization.FRTF, Role.AGENCY)
RECORDERS = {"ledger/recorders/sqlite.py", "ledger/recorders/postgres.py"}
APPEND = ("ledger/recorders/base.py", "append")  # the recorders' append, for both backends
LEAVES_WRITTEN = "_append_in"  # each backend's statements that write a batch's events and leaves
MOST_CALLS = 8  # of ours on the stack from the route's handler to where the leaves are written


class PathTracer:
    """Records the project files whose functions run in a route's thread, from the handler's call
    to the recorder's append's return. Installed in every thread before the app starts (a sync
    route runs in a worker thread the test client starts)."""

    def __init__(self, handler: str) -> None:
        self.handler = handler
        self.files: set[str] = set()
        self.threads: list[list[str]] = []  # the calls of ours on the stack where leaves are written
        self._armed = False
        self._tracing: set[int] = set()

    def __call__(self, frame: FrameType, event: str, _arg: Any) -> None:
        if not self._armed or event not in ("call", "return"):
            return
        path = frame.f_code.co_filename
        if not path.startswith(str(ROOT)) or "/.venv/" in path or "/tests/" in path:
            return
        where = Path(path).relative_to(ROOT).as_posix()
        thread = threading.get_ident()
        if event == "call" and where == self.handler and frame.f_code.co_name == "post_events":
            self._tracing.add(thread)
        if thread not in self._tracing:
            return
        if event == "call":
            self.files.add(where)
            if frame.f_code.co_name == LEAVES_WRITTEN and where in RECORDERS:
                self.threads.append(_calls_of_ours(frame))
        elif (where, frame.f_code.co_name) == APPEND:
            self._tracing.discard(thread)  # the leaves are written

    def __enter__(self) -> "PathTracer":
        self._armed = True
        return self

    def __exit__(self, *_: object) -> None:
        self._armed = False


def _calls_of_ours(frame: FrameType | None) -> list[str]:
    calls: list[str] = []
    while frame is not None:
        path = frame.f_code.co_filename
        if path.startswith(str(ROOT)) and "/.venv/" not in path and "/tests/" not in path:
            calls.append(f"{Path(path).relative_to(ROOT).as_posix()}:{frame.f_code.co_name}")
        frame = frame.f_back
    return calls[::-1]


@pytest.fixture
def traced(database_url: str, tmp_path: Path, signer: Signer, master_key: bytes) -> Iterator[tuple[TestClient, PathTracer, Ledger]]:
    tracer = PathTracer("api/routes/events.py")
    settings = Settings(database_url=database_url, signing_key_file=tmp_path / "signing-key.pem", origin=signer.origin)
    threading.setprofile(tracer)
    sys.setprofile(tracer)
    try:
        with Ledger(database_url, signer, master_key) as ledger, TestClient(create_app(settings, ledger)) as client:
            yield client, tracer, ledger
    finally:
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]


def documented_posting_path() -> str:
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    return text.split("## The data path of a posting", 1)[1].split("\n## ", 1)[0]


def test_a_posting_is_four_files_deep_and_crosses_at_most_ten_files_of_ours_from_the_route_to_its_leaf_each_named_in_architecture_md(
    traced: tuple[TestClient, PathTracer, Ledger], signer: Signer, master_key: bytes, database_url: str
) -> None:
    client, tracer, ledger = traced
    tokens = Tokens(ledger)
    frtf, kind = tokens.get("FRTF"), tokens.get("KIND")
    assert client.post("/v1/events", json=batch(separation("FRTF-0")), headers=frtf).status_code == 201  # warmed up
    with tracer:
        # A new case, with personal data; a posting on a case the process keeps; and one after
        # another process has appended (the kept cases are checked against the log first).
        assert client.post("/v1/events", json=batch(separation("FRTF-1")), headers=frtf).status_code == 201
        assert client.post("/v1/events", json=batch(contact("FRTF-1")), headers=kind).status_code == 201
        with Ledger(database_url, signer, master_key) as other:
            other.appender.append(postings(EventBatch.model_validate(batch(separation("FRTF-2")))), FRTF)
        assert client.post("/v1/events", json=batch(contact("FRTF-2")), headers=kind).status_code == 201
    ours = {f for f in tracer.files if not f.startswith("domain/")}
    rules = tracer.files - ours
    assert "api/routes/events.py" in ours and ours & RECORDERS, tracer.files  # the trace saw the path
    assert len(ours) <= MOST_FILES, " ".join(sorted(ours))
    documented = set(re.findall(r"`([\w/]+\.py)`", documented_posting_path()))
    assert ours <= documented, f"on the path but not in ARCHITECTURE.md: {sorted(ours - documented)}"
    assert {"domain/family_case.py", "domain/permissions.py"} <= rules, sorted(rules)
    # The thread itself, where the leaves are written: the route, the Appender, the recorders'
    # append and the backend's statements; everything else was a call that returned.
    assert len(tracer.threads) == 3, tracer.threads
    for calls in tracer.threads:
        files = list(dict.fromkeys(call.split(":")[0] for call in calls))
        assert files[:3] == ["api/routes/events.py", "ledger/appending.py", "ledger/recorders/base.py"], calls
        assert files[3:] in ([f] for f in RECORDERS), calls
        assert len(calls) <= MOST_CALLS, " -> ".join(calls)
