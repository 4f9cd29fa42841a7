"""Many agencies' integrations posting at once: the scenario of tests/test_load.py and bench/load.py.

Each client posts its share of ContactAttempted events, a batch at a time, to cases every client
shares and to cases of its own, behaving as a careful integration does:
- some single posts to a shared case carry `expected_version` (the case is read first); a 409 for
  a stale version is answered by reading the case again and posting again with the same event_id
  (nothing was appended, so the id is still free);
- a transient failure (a timeout, a dropped connection, 503 busy) is answered by posting the very
  same body again: its event_ids make that safe whether or not the first attempt was appended;
- a few requests give up waiting almost at once (a client-side timeout while the server works),
  so their retry lands on events that are usually in the log already.
Every acknowledged event_id with the position its receipt gave, and every request's latency, are
kept for the checks and the figures.
"""

import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.builders import contact, separation

OUTREACH = ("KIND", "JIM", "WRC", "AOL")  # organizations that may post ContactAttempted
TRANSIENT = (503,)
ATTEMPTS = 20
READINGS = 100  # of a shared case, each followed by a post that may find the case moved on
IMPATIENT_SECONDS = 0.002


@dataclass(frozen=True)
class Plan:
    clients: int = 16
    events_per_client: int = 60
    batch_sizes: tuple[int, ...] = (1, 1, 2, 5, 10)
    shared_cases: int = 4
    own_cases_per_client: int = 2
    versioned_share: float = 0.3  # of single posts to a shared case: with expected_version
    impatient_share: float = 0.03  # of requests: sent with a timeout far below the server's time
    seed: int = 11

    def shared(self) -> list[str]:
        return [f"FRTF-S{n:03d}" for n in range(self.shared_cases)]

    def own(self, client: int) -> list[str]:
        return [f"FRTF-C{client:02d}-{n:02d}" for n in range(self.own_cases_per_client)]

    def cases(self) -> list[str]:
        return self.shared() + [case for client in range(self.clients) for case in self.own(client)]


@dataclass
class Outcome:
    """What one client saw."""

    acknowledged: dict[str, int] = field(default_factory=dict)  # event_id → the receipt's position
    latencies: list[float] = field(default_factory=list)  # seconds, every request answered
    requests: int = 0
    stale_versions: int = 0  # 409s for expected_version, re-read and re-posted
    transient: int = 0  # 503s and transport errors, re-posted
    impatient: int = 0  # client-side timeouts, re-posted
    errors: list[str] = field(default_factory=list)




def open_cases(base_url: str, frtf_token: str, plan: Plan) -> None:
    """Identifies every case of the plan (FRTF posts SeparationIdentified), 100 per request."""
    cases = plan.cases()
    with httpx.Client(base_url=base_url, headers=_bearer(frtf_token), timeout=60) as http:
        for start in range(0, len(cases), 100):
            response = http.post("/v1/events", json={"events": [separation(c) for c in cases[start : start + 100]]})
            if response.status_code != 201:
                raise RuntimeError(f"could not open the cases: {response.status_code} {response.text[:200]}")


def run_clients(base_url: str, tokens: list[str], plan: Plan) -> tuple[list[Outcome], float]:
    """Every client at once, each on its own thread; (their outcomes, wall-clock seconds)."""
    outcomes = [Outcome() for _ in range(plan.clients)]
    start = threading.Barrier(plan.clients + 1)
    threads = [
        threading.Thread(target=_client, args=(base_url, tokens[n % len(tokens)], plan, n, outcomes[n], start), name=f"client-{n}")
        for n in range(plan.clients)
    ]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return outcomes, time.perf_counter() - began


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (share in 0..1) of `values`."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))] if ordered else float("nan")


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _client(base_url: str, token: str, plan: Plan, number: int, outcome: Outcome, start: threading.Barrier) -> None:
    rng = random.Random(plan.seed * 1000 + number)
    shared, own = plan.shared(), plan.own(number)
    with httpx.Client(base_url=base_url, headers=_bearer(token), timeout=60) as http:
        start.wait()
        left = plan.events_per_client
        while left > 0 and not outcome.errors:
            size = min(left, rng.choice(plan.batch_sizes))
            to_shared = rng.random() < 0.5
            cases = shared if to_shared else own
            chunk = [contact(rng.choice(cases), outcome=rng.choice(("no_answer", "reached"))) for _ in range(size)]
            if size == 1 and to_shared and rng.random() < plan.versioned_share:
                _post_versioned(http, chunk[0], rng, plan, outcome)
            else:
                _post(http, chunk, rng, plan, outcome)
            left -= size


def _post_versioned(http: httpx.Client, envelope: dict[str, Any], rng: random.Random, plan: Plan, outcome: Outcome) -> None:
    for reading in range(READINGS):
        if reading:  # back off, with jitter, as the case is busy
            time.sleep(rng.uniform(0, 0.002 * min(reading, 10)))
        case = http.get(f"/v1/cases/{envelope['case_id']}")
        if case.status_code != 200:
            outcome.errors.append(f"reading {envelope['case_id']}: {case.status_code} {case.text[:200]}")
            return
        response = _post(http, [{**envelope, "expected_version": case.json()["version"]}], rng, plan, outcome, stale_ok=True)
        if response is None or response.status_code != 409:
            return
        outcome.stale_versions += 1
    outcome.errors.append(f"{envelope['event_id']}: still a stale version after {READINGS} readings")


def _post(
    http: httpx.Client, chunk: list[dict[str, Any]], rng: random.Random, plan: Plan, outcome: Outcome, stale_ok: bool = False
) -> httpx.Response | None:
    """Posts the chunk until it is acknowledged (201, or 200 for a replay); the answer, or None."""
    body = {"events": chunk}
    for attempt in range(ATTEMPTS):
        impatient = rng.random() < plan.impatient_share
        began = time.perf_counter()
        try:
            response = http.post("/v1/events", json=body, timeout=IMPATIENT_SECONDS if impatient else 60)
        except httpx.TimeoutException:
            outcome.requests += 1
            outcome.impatient += impatient
            outcome.transient += not impatient
            continue
        except httpx.TransportError:
            outcome.requests += 1
            outcome.transient += 1
            time.sleep(0.01 * (attempt + 1))
            continue
        outcome.requests += 1
        outcome.latencies.append(time.perf_counter() - began)
        if response.status_code in (200, 201):
            for receipt in response.json()["receipts"]:
                outcome.acknowledged[receipt["event_id"]] = receipt["position"]
            return response
        if response.status_code in TRANSIENT:
            outcome.transient += 1
            time.sleep(0.01 * (attempt + 1))
            continue
        if response.status_code == 409 and stale_ok and _stale(response):
            return response
        outcome.errors.append(f"{response.status_code}: {response.text[:300]}")
        return None
    outcome.errors.append(f"no answer after {ATTEMPTS} attempts")
    return None


def _stale(response: httpx.Response) -> bool:
    return any(error.get("field") == "expected_version" for error in response.json().get("errors", []))
