"""The SQLite database file is its owner's alone (issue 15, item 5): created 0600 like the keys,
whatever the umask, and so are the -wal and -shm files SQLite creates beside it later."""

import os
import stat
from pathlib import Path

import pytest

from domain.organizations import Organization, Role
from ledger.application import Ledger
from ledger.checkpoints import Signer
from projections.runner import Projection


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077], ids=["umask 000", "umask 022", "umask 077"])
def test_the_database_and_its_wal_and_shm_files_are_created_owner_only(tmp_path: Path, signer: Signer, master_key: bytes, umask: int) -> None:
    path = tmp_path / "var" / "ledger.db"
    previous = os.umask(umask)
    try:
        with Ledger(f"sqlite:///{path}", signer, master_key) as ledger:
            ledger.appender.adopt_default_terms()
            ledger.tokens.issue("frtf-intake", Organization.FRTF, Role.AGENCY)
            Projection(ledger).catch_up()  # the read model's tables, in the same file
            ledger.signed_heads.sign()
            modes = {file.name: mode(file) for file in path.parent.iterdir()}
    finally:
        os.umask(previous)
    assert modes == {"ledger.db": 0o600, "ledger.db-wal": 0o600, "ledger.db-shm": 0o600}


def test_a_database_file_already_there_keeps_its_mode(tmp_path: Path, signer: Signer) -> None:
    """The operator's choice (a backup group, say) stands; only a new file is made 0600."""
    path = tmp_path / "ledger.db"
    with Ledger(f"sqlite:///{path}", signer):
        pass
    path.chmod(0o640)
    with Ledger(f"sqlite:///{path}", signer) as ledger:
        ledger.appender.adopt_default_terms()
        assert mode(path) == 0o640 and mode(path.with_name("ledger.db-wal")) == 0o640
