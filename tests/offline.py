"""Running an exported bundle's verifiers as an auditor would: `python3 verify.py DIR` on a bare
interpreter, and `ledger verify DIR`; and loading the bundled verify.py as a module."""

import re
import subprocess
import sys
import types
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from api.cli import app

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def report(self) -> str:
        """stderr on one line, without styling (rich wraps at the console width)."""
        return " ".join(_ANSI.sub("", self.stderr).split())

    @property
    def position(self) -> int | None:
        found = re.search(r"at position (\d+)", self.report)
        return int(found.group(1)) if found else None


def verify_py(bundle: Path, *args: str) -> Outcome:
    """The bundle's own verify.py on an isolated interpreter without site-packages (-I -S): it can
    only use the standard library."""
    done = subprocess.run(
        [sys.executable, "-I", "-S", str(bundle / "verify.py"), str(bundle), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return Outcome(done.returncode, done.stdout, done.stderr)


def ledger_verify(bundle: Path, *args: str) -> Outcome:
    """`ledger verify DIR`, which needs no database and no key file."""
    result = CliRunner().invoke(app, ["verify", str(bundle), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return Outcome(result.exit_code, result.stdout, result.stderr)


def both_verifiers(bundle: Path, *args: str) -> list[Outcome]:
    return [verify_py(bundle, *args), ledger_verify(bundle, *args)]


def bundled_verifier(bundle: Path) -> types.ModuleType:
    """verify.py loaded as a module, to call its functions (verify_inclusion, verify_consistency...)."""
    module = types.ModuleType("bundled_verify")
    module.__file__ = str(bundle / "verify.py")
    sys.modules["bundled_verify"] = module  # dataclasses look their module up while being defined
    try:
        exec(compile((bundle / "verify.py").read_text(encoding="utf-8"), module.__file__, "exec"), module.__dict__)
    finally:
        del sys.modules["bundled_verify"]
    return module
