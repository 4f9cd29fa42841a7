"""Sustained load: many clients posting at once to shared and own cases, with the loss check.

The scenario of tests/test_load.py (tests/load_clients.py), larger, against `ledger serve` in its
own process (LEDGER_LOG_LEVEL=WARNING), on a fresh database per measurement: an SQLite temp file,
and a PostgreSQL schema (LEDGER_BENCH_DATABASE_URL or LEDGER_TEST_DATABASE_URL) dropped after.
Clients mix single posts with expected_version to shared cases (re-reading after a 409) and
batches to shared and own cases; the server is never told to expect them.

For each backend and batch size it prints clients × events, the sustained rate (events
acknowledged / wall-clock seconds from the first post to the last answer), p50 and p95 latency of
POST /v1/events as the clients saw it, the 409 re-reads, and the loss check read back from the
log after the server stopped: lost (acknowledged, not in the log), duplicated (in the log more
than once), unacknowledged (in the log, never acknowledged), positions gap-free, tree verified.
Rows: with expected_version on 30% of the single posts to shared cases (read the case, post, re-read
after a 409), and without any; beside them one client posting alone (same server, same process
layout) and Ledger.append in-process, all measured in the same run. The machine's load average is printed at the
start and the end: other work skews the figures.

    .venv/bin/python bench/load.py [--clients 16] [--events 500] [--backends sqlite,postgresql]
"""

import argparse
import os
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ingest import MASTER_KEY, database, ledger_append_rate, server  # noqa: E402
from domain.organizations import Organization, Role  # noqa: E402
from ledger.application import Ledger  # noqa: E402
from ledger.verify import verify_log  # noqa: E402
from tests.load_clients import OUTREACH, Outcome, Plan, open_cases, percentile, run_clients  # noqa: E402


@dataclass(frozen=True)
class Figures:
    clients: int
    events: int
    seconds: float
    requests: int
    p50_ms: float
    p95_ms: float
    stale: int
    lost: int
    duplicated: int
    unacknowledged: int
    gap_free: bool
    verified: bool

    @property
    def rate(self) -> float:
        return self.events / self.seconds


def measure(url: str, plan: Plan) -> Figures:
    with Ledger(url, master_key=MASTER_KEY) as ledger:
        frtf = ledger.issue_token("bench-frtf", Organization.FRTF, Role.AGENCY)
        tokens = [ledger.issue_token(f"bench-{org.lower()}", Organization(org), Role.AGENCY) for org in OUTREACH]
    with tempfile.TemporaryDirectory() as key_dir, server(url, key_dir) as base:
        open_cases(base, frtf, plan)
        outcomes, seconds = run_clients(base, tokens, plan)
    errors = [error for outcome in outcomes for error in outcome.errors]
    if errors:
        raise RuntimeError(f"{len(errors)} client errors, the first: {errors[0]}")
    return _checked(url, plan, outcomes, seconds)


def _checked(url: str, plan: Plan, outcomes: list[Outcome], seconds: float) -> Figures:
    acknowledged = {event_id for outcome in outcomes for event_id in outcome.acknowledged}
    latencies = [latency for outcome in outcomes for latency in outcome.latencies]
    with Ledger(url, master_key=MASTER_KEY) as ledger:
        logged = list(ledger.store.iter_logged())
        contacts = Counter(e.event_id for e in map(ledger.decode, (entry.stored for entry in logged)) if e.type == "ContactAttempted")
        verified = verify_log(ledger.store, None, None).ok
    return Figures(
        clients=plan.clients,
        events=len(acknowledged),
        seconds=seconds,
        requests=sum(outcome.requests for outcome in outcomes),
        p50_ms=percentile(latencies, 0.50) * 1000,
        p95_ms=percentile(latencies, 0.95) * 1000,
        stale=sum(outcome.stale_versions for outcome in outcomes),
        lost=len(acknowledged - contacts.keys()) + (plan.clients * plan.events_per_client - len(acknowledged)),
        duplicated=sum(n - 1 for n in contacts.values() if n > 1),
        unacknowledged=len(contacts.keys() - acknowledged),
        gap_free=[entry.position for entry in logged] == list(range(1, len(logged) + 1)),
        verified=verified,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--events", type=int, default=250, help="events per client at 1-10 per request")
    parser.add_argument("--batched-events", type=int, default=2_000, help="events per client at 100 per request")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("LEDGER_BENCH_DATABASE_URL")
        or os.environ.get("LEDGER_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    args = parser.parse_args()
    print(
        f"{args.clients} concurrent clients, shared and own cases, after a warm-up; {os.cpu_count()} cores; "
        "load average at the start: " + ", ".join(f"{load:.2f}" for load in os.getloadavg())
    )
    header = (
        f"{'backend':<11} {'what':<34} {'clients x events':>16} {'events/s':>9} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'409s':>5}  loss check"
    )
    print(header)
    print("-" * len(header))
    small = Plan(clients=args.clients, events_per_client=args.events, own_cases_per_client=20, impatient_share=0)
    large = replace(small, events_per_client=args.batched_events, batch_sizes=(100,))
    rows = [
        ("1-10/req, expected_version", small),  # 30% of single posts to shared cases read, then post
        ("1-10/req, no expected_version", replace(small, versioned_share=0)),
        ("1-10/req, 1 client alone", replace(small, clients=1, events_per_client=2 * args.events)),
        ("100/req", large),
        ("100/req, 1 client alone", replace(large, clients=1, events_per_client=2 * args.batched_events)),
    ]
    for backend in args.backends.split(","):
        with database(backend, args.postgres_url) as url:  # warm-up: imports, caches, disk
            measure(url, replace(small, clients=2, events_per_client=50))
        for what, plan in rows:
            with database(backend, args.postgres_url) as url:
                figures = measure(url, plan)
            _print(backend, f"HTTP {what}", figures)
        with database(backend, args.postgres_url) as url:
            append = ledger_append_rate(url, 10_000, 100)
        print(f"{backend:<11} {'Ledger.append, 100/batch':<34} {'1 x 10000':>16} {append:>9,.0f}")
        sys.stdout.flush()
    print("load average (1, 5, 15 min) at the end: " + ", ".join(f"{load:.2f}" for load in os.getloadavg()))


def _print(backend: str, what: str, f: Figures) -> None:
    check = (
        f"lost {f.lost}, duplicated {f.duplicated}, unacknowledged {f.unacknowledged}, "
        f"gap-free {'yes' if f.gap_free else 'NO'}, tree {'verified' if f.verified else 'NOT VERIFIED'}"
    )
    size = f"{f.clients} x {f.events // f.clients}"
    print(f"{backend:<11} {what:<34} {size:>16} {f.rate:>9,.0f} {f.p50_ms:>7.1f} {f.p95_ms:>7.1f} {f.stale:>5}  {check}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
