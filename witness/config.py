"""What a witness is configured with: its name, its key file, its state file, and the logs it
witnesses, read from a file of `log <verifier key>` lines (the tlog-policy syntax: the parties can
keep one file listing the ledger for their witness and for their verifiers).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ledger.checkpoints import load_or_create_signing_key
from ledger.vkeys import VerifierKey
from ledger.witness_policy import PolicyError, parse_policy
from ledger.witnessing import WitnessConfigError
from witness.service import Cosigner, Witness
from witness.state import WitnessState

DEFAULT_KEY_FILE = Path("var/witness/witness-key.pem")
DEFAULT_STATE_FILE = Path("var/witness/witness.db")


@dataclass(frozen=True)
class WitnessConfig:
    name: str
    key_file: Path = DEFAULT_KEY_FILE
    state_file: Path = DEFAULT_STATE_FILE
    logs_file: Path | None = None

    def cosigner(self) -> Cosigner:
        if not self.name or any(c.isspace() or c == "+" for c in self.name):
            raise WitnessConfigError(f"the witness name {self.name!r} must be non-empty, without spaces or '+'")
        return Cosigner(load_or_create_signing_key(self.key_file), self.name)

    def logs(self) -> dict[str, VerifierKey]:
        if self.logs_file is None:
            raise WitnessConfigError("give the file listing the logs to witness (--config), one `log <verifier key>` line each")
        try:
            policy = parse_policy(self.logs_file.read_text(encoding="utf-8"), need_quorum=False)
        except (OSError, UnicodeDecodeError, PolicyError) as error:
            raise WitnessConfigError(f"{self.logs_file}: {error}") from None
        if not policy.logs:
            raise WitnessConfigError(f"{self.logs_file}: no `log <verifier key>` line")
        return {log.name: log for log in policy.logs}

    def witness(self) -> Witness:
        logs = self.logs()  # read first: a configuration refused makes no key
        return Witness(self.cosigner(), logs, WitnessState(self.state_file))
