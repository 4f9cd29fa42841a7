"""`make run` serves where it is told: HOST= and PORT= reach `ledger serve --host --port`.

Read from `make -n` (what make would run, without running it), so no server is started."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _serve_line(*variables: str) -> str:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    dry = subprocess.run(["make", "-n", "run", *variables], cwd=ROOT, capture_output=True, text=True, check=True)
    [line] = [line for line in dry.stdout.splitlines() if "ledger serve" in line]
    return line


def test_make_run_passes_host_and_port_to_ledger_serve() -> None:
    assert _serve_line("HOST=0.0.0.0", "PORT=9000").endswith("ledger serve --host 0.0.0.0 --port 9000")


def test_make_run_serves_on_the_loopback_interface_at_port_8000_by_default() -> None:
    assert _serve_line().endswith("ledger serve --host 127.0.0.1 --port 8000")
