"""A throwaway PostgreSQL cluster of a test's own (initdb, pg_ctl), to stop and restart at will.

Never the machine's shared server: this one lives in a temporary directory, on a free port, and
is stopped and deleted afterwards. initdb refuses to run as root, so as root (as CI runs) the
cluster is made and run by the `postgres` OS user.
"""

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.live_server import free_port

SEARCHED = ("/usr/local/bin", "/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin")


def postgres_binaries() -> tuple[str, str] | None:
    """(initdb, pg_ctl), or None if this machine has no PostgreSQL server binaries."""
    for directory in (None, *SEARCHED):
        initdb = shutil.which("initdb", path=directory)
        pg_ctl = shutil.which("pg_ctl", path=directory)
        if initdb and pg_ctl:
            return initdb, pg_ctl
    return None


class Cluster:
    def __init__(self, pg_ctl: str, root: Path, port: int, as_postgres: bool) -> None:
        self.pg_ctl, self.root, self.port, self.as_postgres = pg_ctl, root, port, as_postgres
        self.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_postgres else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        self._run(self.pg_ctl, "-D", str(self.root / "data"), "-l", str(self.root / "server.log"), "-o", options, "-w", "start")

    def stop(self, mode: str = "immediate") -> None:
        """`immediate` is a crash as far as the clients can tell: their connections just die."""
        self._run(self.pg_ctl, "-D", str(self.root / "data"), "-m", mode, "-w", "stop")


@contextmanager
def throwaway_cluster(initdb: str, pg_ctl: str) -> Iterator[Cluster]:
    as_postgres = os.geteuid() == 0
    # Short: the server's socket goes in here, and socket paths are limited to ~100 bytes.
    root = Path(tempfile.mkdtemp(prefix="ledger-pg-"))
    try:
        if as_postgres:
            account = pwd.getpwnam("postgres")
            os.chown(root, account.pw_uid, account.pw_gid)
        cluster = Cluster(pg_ctl, root, free_port(), as_postgres)
        cluster._run(initdb, "-D", str(root / "data"), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
        cluster.start()
        try:
            yield cluster
        finally:
            try:
                cluster.stop()
            except subprocess.CalledProcessError:
                pass  # already stopped
    finally:
        shutil.rmtree(root, ignore_errors=True)
