"""Compliance-report latency and projection rebuild throughput, at 100k and 1M events.

For each backend and size, on a fresh database filled by `ledger demo`'s generator (through the
normal append path):
  raw read      eventsourcing's select_notifications over the whole log, 5000 a page, in a child
                process like the rebuild's (a fresh interpreter with the same imports: in this
                process, whose heap the demo filled, the garbage collector halves the read rate,
                which would flatter the rebuild's ratio): the baseline;
  rebuild       `ledger rebuild` (Projection.rebuild) in a child process, in one process and with
                `ledger rebuild`'s default workers (one per core, for 50k events or more):
                events/s, its ratio to the raw read rate, and the peak resident memory of the
                child and its workers together (sampled every 0.2 s); the raw read and the
                rebuilds are taken in --rounds interleaved rounds, and their medians compared;
  latest        the report as of now (projection caught up): p50 / p95 over --requests calls;
  as-of         the report as of a random position of the log: p50 / p95 (each a different point).
  dashboard     the monitors' dashboard page (GET / through the app, signed in: the report, the
                overdue list, ten SVG charts, the HTML): p50 / p95; then the same page with
                "what changed since" yesterday (a second report, as of a date; the demo is
                recorded today, so that report is empty: a busier earlier date adds about an
                as-of report's time).
Targets (issue 4): latest p50 < 50 ms and as-of p50 < 200 ms at 1M events; rebuild >= 0.3x the
raw read rate; rebuild memory bounded (< 500 MB RSS). Issue 6: the dashboard answers in < 300 ms
at 1M events.

    .venv/bin/python bench/reports.py [--sizes 100000,1000000] [--backends sqlite,postgresql]
"""

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.app import create_app  # noqa: E402
from api.settings import Settings  # noqa: E402
from bench.harness import bench_arguments, database, load_average  # noqa: E402
from domain.as_of import AsOf  # noqa: E402
from domain.organizations import Organization, Role  # noqa: E402
from ledger.application import Ledger  # noqa: E402
from ledger.demo import Population, append_population  # noqa: E402
from projections.partitioned import default_workers  # noqa: E402
from projections.render import render_json  # noqa: E402
from projections.report import compliance_report  # noqa: E402
from projections.runner import Projection  # noqa: E402

EVENTS_PER_FAMILY = 7.6  # what the demo's stories average

REBUILD = """
import json, os, sys, threading, time
from ledger.application import Ledger
from projections.runner import Projection

def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmRSS"))
    except (OSError, StopIteration):
        return 0

def children():
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == os.getpid():
                        yield int(entry)
            except OSError:
                pass

peak_total, done = 0, threading.Event()
def sample():  # this process and its workers together, every 0.2 s
    global peak_total
    while not done.wait(0.2):
        peak_total = max(peak_total, rss_kb(os.getpid()) + sum(rss_kb(pid) for pid in children()))

threading.Thread(target=sample, daemon=True).start()
with Ledger(sys.argv[1]) as ledger:
    started = time.perf_counter()
    _, projected = Projection(ledger).rebuild(workers=int(sys.argv[2]))
    seconds = time.perf_counter() - started
done.set()
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"events": projected, "seconds": seconds, "peak_kb": max(peak, peak_total)}))
"""


RAW_READ = """
import json, sys, time
from ledger.application import Ledger
from projections.runner import Projection  # the rebuild child's imports: the same heap to collect

with Ledger(sys.argv[1]) as ledger:
    started, read, start = time.perf_counter(), 0, 1
    while page := ledger.store.select_notifications(start=start, limit=5000):
        read += len(page)
        start = page[-1].id + 1
    print(json.dumps({"rate": read / (time.perf_counter() - started)}))
"""


def in_child(script: str, *args: str) -> dict[str, float]:
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", script, *args], cwd=root, capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def latencies(call: Callable[[], object], requests: int) -> tuple[float, float]:
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]


def measure(url: str, events: int, requests: int, rounds: int) -> list[tuple[str, str, str]]:
    rows = []
    with Ledger(url) as ledger:
        ledger.appender.adopt_default_terms()
        started = time.perf_counter()
        append_population(ledger, Population(int(events / EVENTS_PER_FAMILY), seed=11))
        size = ledger.store.tree_size()
        rows.append(("appended (demo)", f"{size / (time.perf_counter() - started):,.0f} ev/s", f"{size:,} events"))
    # Rounds interleave the baseline and the rebuilds, so that each figure and the baseline are
    # measured close in time; the medians are reported (a shared machine's speed drifts).
    workers_tried = sorted({1, default_workers(size)})
    raws: list[float] = []
    rebuilds: dict[int, list[dict[str, float]]] = {workers: [] for workers in workers_tried}
    for _ in range(rounds):
        raws.append(in_child(RAW_READ, url)["rate"])
        for workers in workers_tried:
            rebuilds[workers].append(in_child(REBUILD, url, str(workers)))
    raw = statistics.median(raws)
    rows.append(("raw read (select_notifications)", f"{raw:,.0f} ev/s", f"baseline (child process), median of {rounds}"))
    for workers, runs in rebuilds.items():
        rate = statistics.median(run["events"] / run["seconds"] for run in runs)
        peak = max(run["peak_kb"] for run in runs)
        what = "rebuild, 1 process" if workers == 1 else f"rebuild, {workers} workers (default)"
        rows.append((what, f"{rate:,.0f} ev/s", f"{rate / raw:.2f}x raw; peak RSS {peak / 1024:,.0f} MB"))
    with Ledger(url) as ledger:
        projection = Projection(ledger)
        projection.catch_up()
        head = ledger.store.tree_size()
        rng = random.Random(5)
        p50, p95 = latencies(lambda: render_json(compliance_report(ledger, projection, ledger.reader.resolve(AsOf.now()))), requests)
        rows.append(("latest report p50 / p95", f"{p50:.1f} / {p95:.1f} ms", "target p50 < 50 ms at 1M"))
        p50, p95 = latencies(
            lambda: render_json(compliance_report(ledger, projection, ledger.reader.resolve(AsOf(position=rng.randrange(1, head))))), requests
        )
        rows.append(("as-of report p50 / p95", f"{p50:.1f} / {p95:.1f} ms", "target p50 < 200 ms at 1M"))
    rows += dashboard_latencies(url, requests)
    return rows


def dashboard_latencies(url: str, requests: int) -> list[tuple[str, str, str]]:
    """The dashboard page through the app (in process, as a signed-in monitor's browser asks)."""
    with tempfile.TemporaryDirectory() as keys, Ledger(url) as ledger:
        settings = Settings(
            database_url=url, signing_key_file=Path(keys) / "key.pem", projector="external", log_level="WARNING"
        )
        with TestClient(create_app(settings, ledger)) as client:
            secret = ledger.tokens.issue(f"bench-{uuid4().hex[:8]}", Organization.MONITOR, Role.MONITOR)
            client.app.state.projection.catch_up()  # type: ignore[attr-defined]  # the token's event
            form = client.get("/sign-in").text
            csrf = form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            assert client.post("/sign-in", data={"token": secret, "csrf": csrf}, follow_redirects=False).status_code == 303

            def page(**params: str) -> None:
                response = client.get("/", params=params)
                assert response.status_code == 200, response.text[:300]

            rows = []
            p50, p95 = latencies(page, requests)
            rows.append(("dashboard page p50 / p95", f"{p50:.1f} / {p95:.1f} ms", "target < 300 ms at 1M"))
            yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
            p50, p95 = latencies(lambda: page(since=yesterday), requests)
            rows.append(("dashboard + changes since p50 / p95", f"{p50:.1f} / {p95:.1f} ms", "+ a report as of yesterday"))
    return rows


def main() -> None:
    parser = bench_arguments(__doc__, rounds="raw reads and rebuilds per figure (median reported)")
    parser.add_argument("--sizes", default="100000,1000000", help="events in the log, comma-separated")
    parser.add_argument("--requests", type=int, default=40, help="reports timed per figure")
    args = parser.parse_args()
    print(
        f"{os.cpu_count()} cores; demo population; rebuild in a child process, median of {args.rounds}; "
        f"{args.requests} reports per latency figure; load average at the start: {load_average()}"
    )
    header = f"{'backend':<11} {'events':>10}  {'what':<33} {'figure':>22}  note"
    print(header)
    print("-" * len(header))
    for size in (int(s) for s in args.sizes.split(",")):
        for backend in args.backends.split(","):
            with database(backend, args.postgres_url) as url:
                for what, figure, note in measure(url, size, args.requests, args.rounds):
                    print(f"{backend:<11} {size:>10,}  {what:<33} {figure:>22}  {note}", flush=True)


if __name__ == "__main__":
    main()
