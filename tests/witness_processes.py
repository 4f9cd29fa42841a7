"""Real processes for the witness tests: `ledger serve` and `ledger witness serve` on loopback,
each started as an operator would, with its own files, and stopped (or killed) by the test."""

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.live_server import free_port

LEDGER_COMMAND = str(Path(sys.executable).parent / "ledger")


@dataclass
class Process:
    name: str
    args: list[str]
    env: dict[str, str]
    port: int
    log: Path
    popen: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_path: str = "/") -> "Process":
        with open(self.log, "ab") as log:
            self.popen = subprocess.Popen(self.args, env=self.env, stdout=log, stderr=log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start: {self.log.read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(self.url + ready_path, timeout=1).status_code < 500:
                    return self
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not start: {self.log.read_text(errors='replace')[-2000:]}")

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self.popen = None


def witness_process(directory: Path, name: str, logs_file: Path, port: int | None = None) -> Process:
    directory.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    args = [
        LEDGER_COMMAND, "witness", "serve", "--name", name, "--config", str(logs_file),
        "--key-file", str(directory / "key.pem"), "--state-file", str(directory / "state.db"), "--port", str(port),
    ]
    return Process(name, args, dict(os.environ), port, directory / "witness.log")


def ledger_process(directory: Path, env: dict[str, str]) -> Process:
    port = free_port()
    return Process("ledger", [LEDGER_COMMAND, "serve", "--port", str(port)], {**os.environ, **env}, port, directory / "ledger.log")


class Blackhole:
    """A port that accepts connections and never answers: a witness hung, not down."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"

    def close(self) -> None:
        self.socket.close()
