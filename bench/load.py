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

Last row (issue 15): one family grown to 1,000 members in 10 posts of 100 MemberAdded, back to back,
each post's time printed, and while each is under way a one-event post by another agency to
another case, its time printed too. A post's cost must not grow with its case: the last post is
to be within 2x of the first (the run exits 1 if not).

    .venv/bin/python bench/load.py [--clients 16] [--events 500] [--backends sqlite,postgresql] [--family-only]
"""

import argparse
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import database  # noqa: E402
from bench.ingest import MASTER_KEY, ledger_append_rate, server  # noqa: E402
from domain.organizations import Organization, Role  # noqa: E402
from ledger.application import Ledger  # noqa: E402
from ledger.verify import verify_log  # noqa: E402
from tests.builders import contact, envelope, separation  # noqa: E402
from tests.load_clients import OUTREACH, Outcome, Plan, open_cases, percentile, run_clients  # noqa: E402

FAMILY_POSTS = 10
MEMBERS_PER_POST = 100


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
        frtf = ledger.tokens.issue("bench-frtf", Organization.FRTF, Role.AGENCY)
        tokens = [ledger.tokens.issue(f"bench-{org.lower()}", Organization(org), Role.AGENCY) for org in OUTREACH]
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


@dataclass(frozen=True)
class Growth:
    posts_ms: list[float]  # each post of MEMBERS_PER_POST MemberAdded to the growing family
    others_ms: list[float]  # the one-event post by another agency made while each was under way


def family_growth(url: str) -> Growth:
    """The family grown post by post through the server, each post timed, with another agency's
    one-event post sent as each starts."""
    with Ledger(url, master_key=MASTER_KEY) as ledger:
        frtf = ledger.tokens.issue("bench-family-frtf", Organization.FRTF, Role.AGENCY)
        kind = ledger.tokens.issue("bench-family-kind", Organization.KIND, Role.AGENCY)
    posts_ms: list[float] = []
    others_ms: list[float] = []
    with tempfile.TemporaryDirectory() as key_dir, server(url, key_dir) as base:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {frtf}"}, timeout=300) as http:
            identified = http.post("/v1/events", json={"events": [separation("FRTF-FAMILY"), separation("FRTF-OTHER")]})
            identified.raise_for_status()
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {kind}"}, timeout=300) as other:
                for post in range(FAMILY_POSTS):
                    members = [
                        envelope("FRTF-FAMILY", "MemberAdded", {
                            "member_id": f"M{post:02d}-{n:03d}", "role": "child", "reason": "found in a review", "birth_year": 2012,
                        })
                        for n in range(MEMBERS_PER_POST)
                    ]

                    def meanwhile() -> None:
                        time.sleep(0.005)  # once the large post is on its way
                        started = time.perf_counter()
                        other.post("/v1/events", json={"events": [contact("FRTF-OTHER")]}).raise_for_status()
                        others_ms.append((time.perf_counter() - started) * 1000)

                    beside = threading.Thread(target=meanwhile)
                    started = time.perf_counter()
                    beside.start()
                    http.post("/v1/events", json={"events": members}).raise_for_status()
                    posts_ms.append((time.perf_counter() - started) * 1000)
                    beside.join()
    return Growth(posts_ms, others_ms)


def _print_growth(backend: str, growth: Growth) -> bool:
    members = FAMILY_POSTS * MEMBERS_PER_POST
    ratio = growth.posts_ms[-1] / growth.posts_ms[0]
    within = ratio <= 2
    print(f"{backend:<11} a family grown by {members:,} members (to {members + 2:,}), {FAMILY_POSTS} posts of {MEMBERS_PER_POST} MemberAdded, back to back:")
    print(f"{'':<11}   each post, ms:                 " + " ".join(f"{ms:7.1f}" for ms in growth.posts_ms))
    print(f"{'':<11}   another agency's 1 event, ms:  " + " ".join(f"{ms:7.1f}" for ms in growth.others_ms))
    print(f"{'':<11}   last / first post: {ratio:.2f} ({'within 2x' if within else 'NOT within 2x'})")
    sys.stdout.flush()
    return within


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
    parser.add_argument("--family-only", action="store_true", help="only the last row: a family grown post by post")
    args = parser.parse_args()
    if args.family_only:
        flat = [_print_growth(backend, _grown(backend, args.postgres_url)) for backend in args.backends.split(",")]
        sys.exit(0 if all(flat) else 1)
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
    flat = [_print_growth(backend, _grown(backend, args.postgres_url)) for backend in args.backends.split(",")]
    print("load average (1, 5, 15 min) at the end: " + ", ".join(f"{load:.2f}" for load in os.getloadavg()))
    if not all(flat):
        sys.exit(1)


def _grown(backend: str, postgres_url: str) -> Growth:
    with database(backend, postgres_url) as url:
        return family_growth(url)


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
