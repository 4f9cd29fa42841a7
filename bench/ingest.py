"""Ingest throughput: HTTP batch posting and single posts, beside eventsourcing's raw save().

For each backend, in one run:
  raw save()     a stock eventsourcing Application (library recorder, no leaves, no rules) saving
                 events of the same shape, 100 per save() and 1 per save(): the baseline;
  ledger append  Ledger.append in-process (validation done; rules, idempotency, leaves);
  HTTP           POST /v1/events to `ledger serve` in its own process, 100 per request (by one
                 client, and by 4 concurrent clients as several agencies post at once) and 1;
                 the server projects the reports in-process (the default), except in the row
                 "projector apart", where `ledger project --follow` does it in a process beside;
  the floor      what any HTTP ingest of these batches pays before the ledger does anything:
                 the transport (a FastAPI endpoint in its own process that parses the body and
                 answers 100 receipts, nothing else) and pydantic's validation of the batch; with
                 the raw save() they give the fastest a ledger could be that validated, stored and
                 answered, and nothing more (their per-event times added up).
Each figure is the median of 3 timed rounds after a warm-up round, on a fresh database each; a
round takes every measurement in turn, so each figure and its baseline are measured close in time.
The machine's load average is printed at the start and the end: other work skews the figures.
Target (issue 3): HTTP batch ingest >= 0.5 x the raw rate at the same batch size.

    .venv/bin/python bench/ingest.py [--events 20000] [--backends sqlite,postgresql]
"""

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import bench_arguments, database, load_average  # noqa: E402
from domain.envelope import EventBatch, postings  # noqa: E402
from domain.organizations import Organization, Role  # noqa: E402
from ledger.application import Ledger  # noqa: E402
from ledger.config import persistence_env  # noqa: E402
from ledger.personal_data import load_or_create_master_key  # noqa: E402
from tests.builders import contact, separation  # noqa: E402
from tests.live_server import free_port  # noqa: E402

CASES = 500
# The ledger seals the envelopes' personal data (the phone numbers tried) under this key; the
# server in its own process reads it from the file.
KEY_FILE = Path(tempfile.mkdtemp()) / "encryption-key"
MASTER_KEY = load_or_create_master_key(KEY_FILE)


class BenchCase(Aggregate):
    """The baseline's aggregate: events carrying the same data a ContactAttempted carries."""

    class Recorded(Aggregate.Event):
        event_id: str
        case_id: str
        occurred_at: str
        organization: str
        token_name: str
        data: dict[str, Any]

    def record(self, **fields: Any) -> None:
        self.trigger_event(self.Recorded, **fields)


class Raw(Application[UUID]):
    name = "Raw"


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds else float("inf")


def timed(work: Callable[[], int]) -> float:
    started = time.perf_counter()
    count = work()
    return rate(count, time.perf_counter() - started)


def raw_save_rate(url: str, events: int, per_save: int) -> float:
    env = {k: v for k, v in persistence_env(url).items() if k != "APPLICATION_RECORDER_TOPIC"}
    app = Raw(env)
    try:
        aggregates = [BenchCase() for _ in range(CASES)]
        app.save(*aggregates)
        samples = [contact(f"FRTF-{n:05d}") for n in range(events)]

        def work() -> int:
            for start in range(0, events, per_save):
                chunk = []
                for envelope in samples[start : start + per_save]:
                    aggregate = random.choice(aggregates)
                    aggregate.record(
                        event_id=envelope["event_id"],
                        case_id=envelope["case_id"],
                        occurred_at=envelope["occurred_at"],
                        organization="KIND",
                        token_name="bench",
                        data=envelope["data"],
                    )
                    chunk.extend(aggregate.collect_events())
                app.save(*chunk)
            return events

        return timed(work)
    finally:
        app.close()


def seed_ledger(ledger: Ledger) -> tuple[str, str]:
    frtf = ledger.tokens.issue("bench-frtf", Organization.FRTF, Role.AGENCY)
    kind = ledger.tokens.issue("bench-kind", Organization.KIND, Role.AGENCY)
    principal = ledger.tokens.principal_named("bench-frtf")
    assert principal is not None
    for start in range(0, CASES, 100):
        batch = EventBatch.model_validate({"events": [separation(f"FRTF-{n:05d}") for n in range(start, start + 100)]})
        ledger.appender.append(postings(batch), principal)
    return frtf, kind


def ledger_append_rate(url: str, events: int, per_batch: int) -> float:
    with Ledger(url, master_key=MASTER_KEY) as ledger:
        seed_ledger(ledger)
        principal = ledger.tokens.principal_named("bench-kind")
        assert principal is not None
        batches = [postings(EventBatch.model_validate(body)) for body in bodies(events, per_batch)]

        def work() -> int:
            for batch in batches:
                ledger.appender.append(batch, principal)
            return len(batches) * per_batch

        return timed(work)


# The transport alone: no validation, no storage; receipts of the ledger's shape.
HTTP_FLOOR = """
import json, sys
import uvicorn
from fastapi import FastAPI, Request, Response

app = FastAPI()

@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}

@app.post("/v1/events")
async def post(request: Request) -> Response:
    events = json.loads(await request.body())["events"]
    receipts = [
        {"event_id": e["event_id"], "case_id": e["case_id"], "type": e["type"], "version": 1, "position": n,
         "recorded_at": "2026-01-01T00:00:00.000000Z", "leaf_hash": "0" * 64}
        for n, e in enumerate(events, 1)
    ]
    return Response(json.dumps({"receipts": receipts}), status_code=201, media_type="application/json")

uvicorn.run(app, port=int(sys.argv[1]), log_level="warning")
"""


def bodies(events: int, per_request: int) -> list[dict[str, Any]]:
    """POST /v1/events bodies: contact attempts on the seeded cases, drawn at random."""
    return [
        {"events": [contact(f"FRTF-{random.randrange(CASES):05d}") for _ in range(per_request)]}
        for _ in range(events // per_request)
    ]


def validation_rate(events: int, per_batch: int) -> float:
    batches = bodies(events, per_batch)

    def work() -> int:
        for body in batches:
            EventBatch.model_validate(body)
        return len(batches) * per_batch

    return timed(work)


def http_floor_rate(events: int, per_request: int) -> float:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", HTTP_FLOOR, str(port)])
    try:
        base = wait_until_up(f"http://127.0.0.1:{port}")
        requests = bodies(events, per_request)
        return timed(lambda: post_all(base, None, [requests]))
    finally:
        process.terminate()
        process.wait(timeout=30)


def wait_until_up(base: str) -> str:
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                return base
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.1)


def post_all(base: str, token: str | None, shares: list[list[dict[str, Any]]]) -> int:
    """Posts each share's bodies in turn, the shares at once (a client each); the events posted."""

    def post_share(bodies: list[dict[str, Any]]) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
            for body in bodies:
                response = http.post("/v1/events", json=body)
                assert response.status_code == 201, response.text

    with ThreadPoolExecutor(len(shares)) as clients:
        for posted in [clients.submit(post_share, share) for share in shares]:
            posted.result()  # a client's failure fails the measurement
    return sum(len(body["events"]) for share in shares for body in share)


@contextmanager
def server(url: str, key_dir: str, projector: str = "in-process") -> Iterator[str]:
    """A ledger server (`ledger serve`); with projector="external", `ledger project --follow` runs beside it
    in its own process (its own interpreter: the server's request threads no longer share a GIL
    with the projection's Python work, as they do with the default in-process projector)."""
    port = free_port()
    env = {
        **os.environ,
        "LEDGER_DATABASE_URL": url,
        "LEDGER_SIGNING_KEY_FILE": f"{key_dir}/key.pem",
        "LEDGER_ENCRYPTION_KEY_FILE": str(KEY_FILE),
        "LEDGER_LOG_LEVEL": os.environ.get("LEDGER_LOG_LEVEL", "WARNING"),  # no line per request on the terminal
        "LEDGER_PROJECTOR": projector,
    }
    root = Path(__file__).resolve().parents[1]
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "ledger"), "serve", "--port", str(port)],  # as `make run` and the image serve
        env=env,
        cwd=root,
    )
    follower = None
    if projector == "external":
        follower = subprocess.Popen(
            [str(Path(sys.executable).parent / "ledger"), "project", "--follow"], env=env, cwd=root, stderr=subprocess.DEVNULL
        )
    try:
        yield wait_until_up(f"http://127.0.0.1:{port}")
    finally:
        for child in (process, follower):
            if child is not None:
                child.terminate()
                child.wait(timeout=30)


def http_rate(url: str, events: int, per_request: int, clients: int, projector: str = "in-process") -> float:
    """Events/s posted by `clients` concurrent clients, each posting its share sequentially."""
    with Ledger(url, master_key=MASTER_KEY) as ledger:
        _, kind = seed_ledger(ledger)
    shares = [bodies(events // clients, per_request) for _ in range(clients)]
    with tempfile.TemporaryDirectory() as key_dir, server(url, key_dir, projector) as base:
        return timed(lambda: post_all(base, kind, shares))


def main() -> None:
    parser = bench_arguments(__doc__, rounds="timed rounds per figure (median reported)")
    parser.add_argument("--events", type=int, default=20_000, help="events per batched measurement")
    parser.add_argument("--singles", type=int, default=1_000, help="events posted one per request")
    args = parser.parse_args()
    random.seed(7)
    print(
        f"{args.events} events per batched run, {args.singles} single posts, {CASES} cases, "
        f"median of {args.rounds} interleaved rounds after a warm-up; {os.cpu_count()} cores; "
        f"load average at the start: {load_average()}"
    )
    header = f"{'backend':<11} {'what':<34} {'events/s':>10} {'vs raw':>8}"
    print(header)
    print("-" * len(header))
    for backend in args.backends.split(","):
        measures: dict[str, Callable[[str], float]] = {
            "raw_batch": lambda url: raw_save_rate(url, args.events, 100),
            "append_batch": lambda url: ledger_append_rate(url, args.events, 100),
            "http_batch": lambda url: http_rate(url, args.events, 100, clients=1),
            "http_batch_4": lambda url: http_rate(url, args.events, 100, clients=4),
            "http_batch_external": lambda url: http_rate(url, args.events, 100, clients=1, projector="external"),
            "http_floor": lambda url: http_floor_rate(args.events, 100),
            "validation": lambda url: validation_rate(args.events, 100),
            "raw_single": lambda url: raw_save_rate(url, args.singles, 1),
            "http_single": lambda url: http_rate(url, args.singles, 1, clients=1),
        }
        # Rounds interleave the measurements, so that a baseline and the figures compared with it
        # are taken minutes apart at most, whatever else the machine is doing meanwhile.
        results: dict[str, list[float]] = {name: [] for name in measures}
        for round_number in range(args.rounds + 1):  # round 0 warms up (imports, caches, disk)
            for name, measure in measures.items():
                with database(backend, args.postgres_url) as url:
                    result = measure(url)
                if round_number:
                    results[name].append(result)
        median = {name: statistics.median(values) for name, values in results.items()}
        raw_batch, raw_single = median["raw_batch"], median["raw_single"]
        floor = 1 / (1 / raw_batch + 1 / median["http_floor"] + 1 / median["validation"])
        rows: list[tuple[str, float, float | None]] = [
            ("raw eventsourcing save(), 100/save", raw_batch, None),
            ("Ledger.append, 100/batch", median["append_batch"], median["append_batch"] / raw_batch),
            ("HTTP POST, 100/request, 1 client", median["http_batch"], median["http_batch"] / raw_batch),
            ("HTTP POST, 100/request, 4 clients", median["http_batch_4"], median["http_batch_4"] / raw_batch),
            ("  same, 1 client, projector apart", median["http_batch_external"], median["http_batch_external"] / raw_batch),
            ("transport: no-op endpoint, 100/req", median["http_floor"], median["http_floor"] / raw_batch),
            ("pydantic validation, 100/batch", median["validation"], median["validation"] / raw_batch),
            ("floor: raw+transport+validation", floor, floor / raw_batch),
            ("raw eventsourcing save(), 1/save", raw_single, None),
            ("HTTP POST, 1/request, 1 client", median["http_single"], median["http_single"] / raw_single),
        ]
        for what, value, ratio in rows:
            print(f"{backend:<11} {what:<34} {value:>10,.0f} {'' if ratio is None else f'{ratio:.2f}x':>8}")
        sys.stdout.flush()
    print("target: HTTP batch >= 0.50x raw save() at 100/batch")
    print(f"load average (1, 5, 15 min) at the end: {load_average()}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
