"""Clients that send slowly, or too much, cannot keep others out (issue 15, item 4).

Served as `ledger serve` serves (api/http_server.py: uvicorn with a deadline and a size limit for
each request's head and a cap on connections; api/limits.py: a deadline for the body), on loopback,
on both backends, with the deadlines set short. Before issue 15, 200 connections holding half a
request head were all still open after 35 s, and a body sent a byte at a time was waited for
without end.
"""

import json
import os
import selectors
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.http_server import MAX_HEAD_BYTES, server_options
from api.settings import Settings
from domain.organizations import Organization, Role
from ledger.application import Ledger
from ledger.checkpoints import Signer
from tests.builders import batch, separation
from tests.live_server import free_port, serving

HEAD_TIMEOUT = 1.0
BODY_TIMEOUT = 1.0
HALF_A_HEAD = b"POST /v1/events HTTP/1.1\r\nHost: ledger\r\nContent-Ty"


class Served:
    def __init__(self, base: str, ledger: Ledger, token: str) -> None:
        self.base = base
        self.port = int(base.rsplit(":", 1)[1])
        self.ledger = ledger
        self.headers = {"Authorization": f"Bearer {token}"}

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=10)


@pytest.fixture
def serve(settings: Settings, signer: Signer, master_key: bytes) -> Iterator[object]:
    """A function that serves the ledger with the given cap on connections (short deadlines)."""
    opened: list[object] = []
    with Ledger(settings.database_url, signer, master_key) as ledger:
        token = ledger.tokens.issue("frtf-intake", Organization.FRTF, Role.AGENCY)

        def start(max_connections: int = 1000) -> Served:
            short = settings.model_copy(update={
                "request_head_timeout_seconds": HEAD_TIMEOUT,
                "request_body_timeout_seconds": BODY_TIMEOUT,
                "max_connections": max_connections,
                "log_level": "WARNING",
            })
            context = serving(create_app(short, ledger), **server_options(short))
            base = context.__enter__()
            opened.append(context)
            return Served(base, ledger, token)

        try:
            yield start
        finally:
            for context in reversed(opened):
                context.__exit__(None, None, None)  # type: ignore[attr-defined]


def half_sent(served: Served, count: int) -> list[socket.socket]:
    connections = []
    for _ in range(count):
        connection = served.connect()
        connection.sendall(HALF_A_HEAD)
        connections.append(connection)
    return connections


def closed_within(connections: list[socket.socket], seconds: float) -> dict[socket.socket, tuple[float, bytes]]:
    """For each connection the server closed within `seconds`: when, and what it answered first."""
    started = time.monotonic()
    found: dict[socket.socket, tuple[float, bytes]] = {}
    answers = {connection: b"" for connection in connections}
    with selectors.DefaultSelector() as selector:
        for connection in connections:
            connection.setblocking(False)
            selector.register(connection, selectors.EVENT_READ)
        while len(found) < len(connections) and time.monotonic() - started < seconds:
            for key, _ in selector.select(timeout=0.1):
                connection = key.fileobj
                assert isinstance(connection, socket.socket)
                try:
                    chunk = connection.recv(65536)
                except ConnectionResetError:
                    chunk = b""
                if chunk:
                    answers[connection] += chunk
                else:
                    found[connection] = (time.monotonic() - started, answers[connection])
                    selector.unregister(connection)
    return found


def timed_post(served: Served, case_id: str) -> tuple[float, httpx.Response]:
    started = time.monotonic()
    response = httpx.post(f"{served.base}/v1/events", json=batch(separation(case_id)), headers=served.headers, timeout=10)
    return time.monotonic() - started, response


def test_two_hundred_half_sent_heads_keep_no_one_out_and_are_closed_with_408_at_the_head_deadline(serve: object) -> None:
    served = serve()  # type: ignore[operator]
    slow = half_sent(served, 200)
    try:
        opened = time.monotonic()
        seconds, response = timed_post(served, "FRTF-000001")
        assert response.status_code == 201 and seconds < 1.0, (response.status_code, seconds)
        assert httpx.get(f"{served.base}/healthz", timeout=10).status_code == 200
        closed = closed_within(slow, HEAD_TIMEOUT + 3)
        assert len(closed) == 200, f"{200 - len(closed)} half-sent heads still open {HEAD_TIMEOUT + 3:g} s after the deadline"
        waited = time.monotonic() - opened
        assert all(answer.startswith(b"HTTP/1.1 408 ") for _, answer in closed.values())
        assert all(b"application/problem+json" in answer for _, answer in closed.values())
        assert waited >= HEAD_TIMEOUT * 0.8  # closed by the deadline, not at once
    finally:
        for connection in slow:
            connection.close()
    assert served.ledger.reader.case("FRTF-000001") is not None


def test_a_body_sent_too_slowly_is_cut_off_with_408_and_nothing_is_appended(serve: object) -> None:
    served = serve()  # type: ignore[operator]
    body = json.dumps(batch(separation("FRTF-000002"))).encode()
    size = served.ledger.store.tree_size()
    connection = served.connect()
    head = (
        f"POST /v1/events HTTP/1.1\r\nHost: ledger\r\nAuthorization: {served.headers['Authorization']}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    connection.sendall(head + body[: len(body) // 2])
    started = time.monotonic()
    answer = b""
    connection.settimeout(0.2)
    for byte in body[len(body) // 2 : -1]:  # a byte every 0.2 s: each arrives well within any per-read wait
        try:
            connection.sendall(bytes([byte]))
            chunk = connection.recv(65536)
        except TimeoutError:
            continue
        except (BrokenPipeError, ConnectionResetError):
            break
        answer += chunk
        if not chunk or time.monotonic() - started > BODY_TIMEOUT + 3:
            break
    cut_after = time.monotonic() - started
    connection.close()
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert b"connection: close" in answer.lower()
    assert BODY_TIMEOUT * 0.8 <= cut_after < BODY_TIMEOUT + 3
    assert served.ledger.store.tree_size() == size


def test_a_body_the_app_answers_without_reading_cannot_hold_the_connection_open(serve: object) -> None:
    served = serve()  # type: ignore[operator]
    connection = served.connect()
    connection.sendall(b"POST /no-such-route HTTP/1.1\r\nHost: ledger\r\nContent-Length: 100000\r\n\r\nxx")
    closed = closed_within([connection], HEAD_TIMEOUT + 3)
    connection.close()
    assert [answer[:13] for _, answer in closed.values()] == [b"HTTP/1.1 404 "]


def test_a_head_over_the_size_limit_is_refused_with_431_and_closed(serve: object) -> None:
    served = serve()  # type: ignore[operator]
    connection = served.connect()
    try:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: ledger\r\n" + b"X-Padding: " + b"x" * MAX_HEAD_BYTES + b"\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    closed = closed_within([connection], 5)
    connection.close()
    assert [answer[:13] for _, answer in closed.values()] == [b"HTTP/1.1 431 "]


def test_past_the_connection_cap_a_request_is_answered_503_at_once_and_under_it_served(serve: object) -> None:
    served = serve(max_connections=20)  # type: ignore[operator]
    slow = half_sent(served, 10)
    try:
        seconds, response = timed_post(served, "FRTF-000003")  # the 11th connection: under the cap
        assert response.status_code == 201 and seconds < 1.0
        slow += half_sent(served, 15)  # 25 open: past the cap
        seconds, response = timed_post(served, "FRTF-000004")
        assert response.status_code == 503 and seconds < 1.0, (response.status_code, seconds)
        assert response.headers["retry-after"] == "1"
        assert response.headers["content-type"] == "application/problem+json"
        assert "20" in response.json()["detail"]
        assert len(closed_within(slow, HEAD_TIMEOUT + 3)) == 25
        seconds, response = timed_post(served, "FRTF-000004")  # the slow ones gone: served again
        assert response.status_code == 201 and seconds < 1.0
    finally:
        for connection in slow:
            connection.close()


def test_ledger_serve_applies_the_deadlines_and_refuses_a_cap_its_open_file_limit_cannot_hold(tmp_path: Path) -> None:
    """The command itself, as `make run` and the container run it: a half-sent head is closed with
    408 at LEDGER_REQUEST_HEAD_TIMEOUT_SECONDS; a cap the process cannot open files for is refused
    with a one-line reason naming the setting."""
    port = free_port()
    env = {
        **os.environ,
        "LEDGER_DATABASE_URL": f"sqlite:///{tmp_path}/ledger.db",
        "LEDGER_SIGNING_KEY_FILE": str(tmp_path / "signing-key.pem"),
        "LEDGER_REQUEST_HEAD_TIMEOUT_SECONDS": "1",
        "LEDGER_LOG_LEVEL": "WARNING",
    }
    ledger_command = str(Path(sys.executable).parent / "ledger")
    process = subprocess.Popen([ledger_command, "serve", "--port", str(port)], env=env, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and process.poll() is None, "ledger serve did not start"
            time.sleep(0.1)
        connection = socket.create_connection(("127.0.0.1", port), timeout=10)
        connection.sendall(HALF_A_HEAD)
        closed = closed_within([connection], 4)
        connection.close()
        assert [answer[:13] for _, answer in closed.values()] == [b"HTTP/1.1 408 "]
    finally:
        process.terminate()
        process.wait(timeout=30)

    def low_limit() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))

    refused = subprocess.run(
        [ledger_command, "serve", "--port", str(free_port())],
        env={**env, "LEDGER_MAX_CONNECTIONS": "1000"},
        preexec_fn=low_limit,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 1
    assert "LEDGER_MAX_CONNECTIONS=1000" in refused.stderr and "256" in refused.stderr
