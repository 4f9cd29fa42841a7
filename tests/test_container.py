"""The container starts (issue 15, item 5). No Docker engine runs the suite, so it checks what it can:

- `docker compose config` accepts docker-compose.yml (the compose plugin, or Debian's
  docker-compose, which `make test` installs as it does chromium);
- the image (Dockerfile, parsed) runs as a user that is not root and owns the data directory, on
  which the compose file mounts its named volume and puts both key files;
- the compose file's environment over the image's starts `ledger serve` as that user (the tests
  run as root: `setpriv` drops to the image's uid), in a working directory it cannot write, with
  the volume's mount point mapped to a directory of its own: on PostgreSQL (what the compose file
  runs, on the test server) and on the image's own default, an SQLite file on the volume. The
  keys (and the database file) are created 0600 and owned by that user, the token command the
  compose file's comment gives works, and an agency posts personal data (the encryption key).
"""

import os
import re
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.builders import batch, separation
from tests.live_server import free_port

ROOT = Path(__file__).resolve().parents[1]
LEDGER = Path(sys.executable).parent / "ledger"
START_SECONDS = 60


@dataclass(frozen=True)
class Image:
    user: str
    uid: int
    owned_directories: dict[str, str]  # made by `install -d -m MODE -o USER`: path → mode
    volume: str
    workdir: str
    env: dict[str, str]


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, arguments = line.partition(" ")
            instructions.append((name.upper(), arguments.strip()))
    return instructions


def image() -> Image:
    instructions = dockerfile_instructions()

    def last(name: str) -> str:
        return [arguments for instruction, arguments in instructions if instruction == name][-1]

    env: dict[str, str] = {}
    for arguments in (arguments for instruction, arguments in instructions if instruction == "ENV"):
        env.update(word.split("=", 1) for word in shlex.split(arguments))  # type: ignore[misc]
    commands = [shlex.split(command) for instruction, run in instructions if instruction == "RUN" for command in run.split("&&")]
    [useradd] = [words for words in commands if words[0] == "useradd"]
    owned = {}
    for words in (words for words in commands if words[:2] == ["install", "-d"]):
        options = dict(zip(words[2::2], words[3::2], strict=False))
        directories = [word for word in words[2:] if word.startswith("/")]
        owned.update({directory: options["-m"] for directory in directories if options.get("-o") == useradd[-1]})
    [volume] = shlex.split(last("VOLUME"))
    return Image(last("USER"), int(useradd[useradd.index("--uid") + 1]), owned, volume, last("WORKDIR"), env)


def compose_api() -> dict[str, Any]:
    service: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["api"]
    return service


def compose_env() -> dict[str, str]:
    environment = compose_api()["environment"]
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {name: str(value) for name, value in environment.items()}


def compose_mount() -> tuple[str, str]:
    """(named volume, where the api service mounts it)."""
    [mount] = [volume.split(":") for volume in compose_api()["volumes"]]
    return mount[0], mount[1]


# --- the files, parsed ------------------------------------------------------------------------------


def test_docker_compose_config_accepts_the_compose_file() -> None:
    plugin = shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0
    command = ["docker", "compose"] if plugin else [shutil.which("docker-compose") or ""]
    if not command[0]:
        message = "neither `docker compose` nor docker-compose is installed (make test installs Debian's docker-compose as root)"
        if os.environ.get("CI"):
            pytest.fail(message + "; CI must check the compose file")
        pytest.skip(message)
    checked = subprocess.run([*command, "config", "-q"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stderr


def test_the_image_runs_as_a_user_who_owns_the_data_directory_the_compose_file_mounts() -> None:
    built = image()
    assert built.user.split(":")[0] not in ("root", "0") and built.uid != 0
    assert built.owned_directories.get(built.volume) == "0700", "the data directory is the user's, and no one else's"
    assert built.workdir not in built.owned_directories, "the working directory is not the user's to write"
    for name in ("LEDGER_SIGNING_KEY_FILE", "LEDGER_ENCRYPTION_KEY_FILE"):
        assert built.env[name].startswith(built.volume + "/")
    assert built.env["LEDGER_DATABASE_URL"] == f"sqlite:///{built.volume}/ledger.db"

    volume, mounted_at = compose_mount()
    assert mounted_at == built.volume and volume in yaml.safe_load((ROOT / "docker-compose.yml").read_text())["volumes"]
    environment = compose_env()
    for name in ("LEDGER_SIGNING_KEY_FILE", "LEDGER_ENCRYPTION_KEY_FILE"):
        directory = str(Path(environment[name]).parent)
        assert directory in built.owned_directories, f"{name} is in a directory of the user's on the volume"
    assert environment["LEDGER_DATABASE_URL"].startswith("postgresql://")
    assert compose_api().get("read_only") is True


# --- the compose file's environment, run ------------------------------------------------------------


@dataclass
class Started:
    base_url: str
    data: Path
    env: dict[str, str]
    as_user: list[str]
    cwd: Path


@pytest.fixture
def directories() -> Iterator[tuple[Path, Path]]:
    """(the volume's stand-in, owned by the image's user; a working directory it cannot write).
    Outside pytest's own temporary directory, which is root's alone (0700)."""
    built = image()
    data = Path(tempfile.mkdtemp(prefix="ledger-volume-"))
    workdir = Path(tempfile.mkdtemp(prefix="ledger-workdir-"))
    for directory, mode in built.owned_directories.items():  # as the image makes them
        mapped = Path(directory.replace(built.volume, str(data), 1))
        mapped.mkdir(exist_ok=True)
        mapped.chmod(int(mode, 8))
        if os.geteuid() == 0:
            os.chown(mapped, built.uid, built.uid)
    workdir.chmod(0o555)
    try:
        yield data, workdir
    finally:
        shutil.rmtree(data, ignore_errors=True)
        workdir.chmod(0o755)
        shutil.rmtree(workdir, ignore_errors=True)


def _environment(data: Path, database_url: str | None) -> dict[str, str]:
    """The image's environment, then the compose file's over it (as Docker does), with the volume's
    mount point mapped to `data`; `database_url` for the compose file's (whose host is its `db`
    service), or None for the image's default."""
    built = image()
    env = {**built.env, **compose_env()} if database_url else {**built.env}
    if database_url:
        env["LEDGER_DATABASE_URL"] = database_url
    mapped = {name: value.replace(built.volume, str(data)) for name, value in env.items()}
    return {"PATH": os.environ["PATH"], "LANG": "C.UTF-8", "HOME": str(data), **mapped}


@pytest.fixture(scope="module")
def reachable_by_the_image_user() -> Iterator[None]:
    """The project, its virtual environment and its interpreter reachable by the image's user, as
    they are in the image: a clone made in a directory only root may enter (mktemp -d, a CI runner's
    work directory) is, for the test's duration, made enterable (o+x, nothing readable) up to `/`."""
    if os.geteuid() != 0:
        yield
        return
    opened: dict[Path, int] = {}
    for start in (ROOT, Path(sys.executable), Path(sys.executable).resolve()):
        for directory in start.parents:
            mode = directory.stat().st_mode
            if not mode & stat.S_IXOTH and directory not in opened:
                opened[directory] = stat.S_IMODE(mode)
                directory.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)
    try:
        yield
    finally:
        for directory, mode in opened.items():
            directory.chmod(mode)


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgres), "sqlite"])
def started(request: pytest.FixtureRequest, directories: tuple[Path, Path], reachable_by_the_image_user: None) -> Iterator[Started]:
    data, workdir = directories
    database_url = request.getfixturevalue("postgres_schema_url") if request.param == "postgresql" else None
    env = _environment(data, database_url)
    uid = image().uid
    as_user = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--"] if os.geteuid() == 0 else []
    port = free_port()
    server = subprocess.Popen(
        [*as_user, str(LEDGER), "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            if server.poll() is not None:
                pytest.fail(f"ledger serve exited {server.returncode}:\n{server.stdout.read() if server.stdout else ''}")
            try:
                if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"ledger serve did not answer /healthz within {START_SECONDS} s")
            time.sleep(0.2)
        yield Started(base_url, data, env, as_user, workdir)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()


def test_the_compose_environment_starts_the_ledger_as_the_images_user_in_a_read_only_directory(started: Started) -> None:
    uid = image().uid if os.geteuid() == 0 else os.geteuid()
    issued = subprocess.run(
        [*started.as_user, str(LEDGER), "tokens", "create", "frtf-intake", "--organization", "FRTF", "--role", "agency"],
        cwd=started.cwd, env=started.env, capture_output=True, text=True, timeout=60,
    )
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    posted = httpx.post(
        f"{started.base_url}/v1/events", json=batch(separation("FRTF-1")), headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert posted.status_code == 201, posted.text  # the parent's name, sealed with the encryption key

    made = {path.relative_to(started.data).as_posix(): path.lstat() for path in started.data.rglob("*")}
    files = {name for name, info in made.items() if stat.S_ISREG(info.st_mode)}
    expected = {"keys/signing-key.pem", "keys/encryption-key"}
    if started.env["LEDGER_DATABASE_URL"].startswith("sqlite"):
        expected |= {"ledger.db", "ledger.db-wal", "ledger.db-shm"}
    assert files == expected
    for name in files:
        assert (stat.S_IMODE(made[name].st_mode), made[name].st_uid) == (0o600, uid), name
    assert list(started.cwd.iterdir()) == [], "nothing is written where it runs"
