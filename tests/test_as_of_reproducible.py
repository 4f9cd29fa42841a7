"""A report asked again with the as_of it stated gives the same bytes, whatever was being appended.

Two API processes' worth of writers (two servers, each with its own ledger and connections, as two
processes would have) post batches as fast as they can while readers take reports as of now and as
of instants they name. Afterwards every report is asked again with the as_of it returned: the bytes
must be the same. Without a resolution that waits for appends in flight, an event whose recorded_at
was taken before a report's instant but committed after it slips into the second answer.
"""

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.settings import Settings
from domain.organizations import Organization, Role
from domain.values import utc_text
from ledger.application import Ledger
from ledger.checkpoints import Signer
from tests.builders import separation
from tests.live_server import serving

SECONDS = 6
BATCH = 20


@pytest.fixture
def servers(settings: Settings, signer: Signer, master_key: bytes) -> Iterator[tuple[str, str, Ledger]]:
    """Two API processes on one database: the first projects, the second only takes posts."""
    second = settings.model_copy(update={"projector": "external"})
    with Ledger(settings.database_url, signer, master_key) as one, Ledger(settings.database_url, signer, master_key) as two:
        with serving(create_app(settings, one)) as first_url, serving(create_app(second, two)) as second_url:
            yield first_url, second_url, one


def _writer(url: str, token: str, prefix: str, stop: threading.Event, errors: list[str]) -> None:
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
        n = 0
        while not stop.is_set():
            events = [separation(f"{prefix}-{n + i:05d}") for i in range(BATCH)]
            n += BATCH
            response = http.post("/v1/events", json={"events": events})
            if response.status_code != 201:
                errors.append(f"post: {response.status_code} {response.text[:200]}")
                return


def _reader(url: str, token: str, stop: threading.Event, taken: list[tuple[str, bytes]], errors: list[str]) -> None:
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
        asks_now = True
        while not stop.is_set():
            # As of now, and as of an instant a moment ago (which appends may still be running at).
            params = {} if asks_now else {"as_of": utc_text(datetime.now(UTC) - timedelta(milliseconds=2))}
            asks_now = not asks_now
            response = http.get("/v1/reports/compliance", params=params)
            if response.status_code != 200:
                errors.append(f"report {params}: {response.status_code} {response.text[:200]}")
                return
            taken.append((response.json()["as_of"], response.content))


def test_every_report_asked_again_with_its_own_as_of_gives_the_same_bytes(servers: tuple[str, str, Ledger]) -> None:
    first_url, second_url, ledger = servers
    frtf = [ledger.tokens.issue(f"frtf-{i}", Organization.FRTF, Role.AGENCY) for i in range(2)]
    monitor = ledger.tokens.issue("monitor", Organization.MONITOR, Role.MONITOR)
    stop = threading.Event()
    errors: list[str] = []
    taken: list[tuple[str, bytes]] = []
    threads = [
        threading.Thread(target=_writer, args=(first_url, frtf[0], "FRTF-A", stop, errors)),
        threading.Thread(target=_writer, args=(second_url, frtf[1], "FRTF-B", stop, errors)),
        threading.Thread(target=_reader, args=(first_url, monitor, stop, taken, errors)),
        threading.Thread(target=_reader, args=(first_url, monitor, stop, taken, errors)),
    ]
    for thread in threads:
        thread.start()
    time.sleep(SECONDS)
    stop.set()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(taken) >= 20, "too few reports were taken to say anything"
    assert ledger.store.tree_size() > 10 * BATCH, "too few events were posted meanwhile"

    differing: list[dict[str, Any]] = []
    with httpx.Client(base_url=first_url, headers={"Authorization": f"Bearer {monitor}"}, timeout=60) as http:
        for as_of, body in taken:
            again = http.get("/v1/reports/compliance", params={"as_of": as_of})
            assert again.status_code == 200, again.text
            if again.content != body:
                differing.append({"as_of": as_of, "tree_size": (again.json()["checkpoint"]["tree_size"])})
    assert differing == [], f"{len(differing)} of {len(taken)} reports changed when asked again"
