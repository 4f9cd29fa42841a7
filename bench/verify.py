"""Verification throughput and proof latency, each beside a baseline measured in the same run.

For each backend, the log is grown through Ledger.append (batches of 1000 events: identifications
of CASES families, then contact attempts on them, a checkpoint signed every CHECKPOINT_EVERY events)
to each scale, and at each scale:
  database   raw read: every row of the log as `ledger verify` reads it (events joined with
             leaves, a page at a time), nothing checked: the baseline;
             verify: `ledger verify` (every leaf recomputed, every checkpoint's signature and root);
  bundle     export: `ledger export --out DIR` (events/s, for reference);
             raw read: every line of the bundle's events.jsonl read and JSON-decoded: the baseline;
             (read lines only: the same file split into lines, not decoded, for reference);
             verify: `ledger verify DIR` in-process, and `python3 -I -S verify.py DIR` as an auditor
             runs it (bare interpreter: stdlib only);
  proofs     latency of inclusion proofs (random position, tree size N) and consistency proofs
             (random first size, second N), through Ledger.tree and through the API route
             (in-process ASGI client, bearer auth included), after the first proof has filled the
             tree's cache (the first proof after start-up is reported apart); the API process runs
             no publisher or projector meanwhile (LEDGER_PROJECTOR=external);
  witnesses  the cosignature round trip (ledger -> witness process -> stored) beside a bare HTTP
             round trip, and verifying a checkpoint with 3 cosignatures beside its log signature
             alone (bench/witnessing.py).
Rates are the median of --rounds rounds, raw reads and verifications interleaved.
Targets: verification >= 0.5 x the raw read; proofs < 5 ms at 1M leaves.

    .venv/bin/python bench/verify.py [--scales 100000,1000000] [--backends sqlite,postgresql]
"""

import json
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.app import create_app  # noqa: E402
from api.settings import Settings  # noqa: E402
from bench import witnessing  # noqa: E402
from bench.harness import bench_arguments, database  # noqa: E402
from domain.envelope import EventBatch, postings  # noqa: E402
from domain.organizations import Organization, Role  # noqa: E402
from ledger import export  # noqa: E402
from ledger.application import Ledger  # noqa: E402
from ledger.bundle_format import EVENTS_FILE  # noqa: E402
from ledger.bundle_verifier import verify_bundle  # noqa: E402
from ledger.checkpoints import Signer  # noqa: E402
from ledger.verify import verify_log  # noqa: E402
from tests.builders import contact, separation  # noqa: E402

CASES = 5_000
BATCH = 1_000
CHECKPOINT_EVERY = 50_000
PROOF_SAMPLES = 500
ORIGIN = "bench.ledger/ms-l"


def log(message: str) -> None:
    print(f"  [{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def grow(ledger: Ledger, target: int) -> float:
    """Appends until the log holds `target` events; returns the append rate (events/s)."""
    frtf, kind = ledger.tokens.principal_named("bench-frtf"), ledger.tokens.principal_named("bench-kind")
    assert frtf is not None and kind is not None
    started, before = time.perf_counter(), ledger.store.tree_size()
    identified = ledger.store.tree_size() > CASES
    while (size := ledger.store.tree_size()) < target:
        count = min(BATCH, target - size)
        if not identified:
            first = size - 2  # after the two tokens
            count = min(count, CASES - first)
            envelopes = [separation(f"FRTF-{n:06d}") for n in range(first, first + count)]
            identified = first + count >= CASES
            principal = frtf
        else:
            envelopes = [contact(f"FRTF-{random.randrange(CASES):06d}") for _ in range(count)]
            principal = kind
        ledger.appender.append(postings(EventBatch.model_validate({"events": envelopes})), principal)
        if ledger.store.tree_size() // CHECKPOINT_EVERY > size // CHECKPOINT_EVERY:
            ledger.signed_heads.sign()
        if ledger.store.tree_size() // 100_000 > size // 100_000:
            log(f"appended {ledger.store.tree_size():,}")
    return (ledger.store.tree_size() - before) / (time.perf_counter() - started)


def rate(count: int, work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return count / (time.perf_counter() - started)


def interleaved(rounds: int, measures: dict[str, Callable[[], float]]) -> dict[str, float]:
    """The median of each measure over `rounds` rounds, the measures taking turns."""
    samples: dict[str, list[float]] = {name: [] for name in measures}
    for _ in range(rounds):
        for name, measure in measures.items():
            samples[name].append(measure())
    return {name: statistics.median(values) for name, values in samples.items()}


def read_rows(ledger: Ledger) -> int:
    count = 0
    for _ in ledger.store.iter_logged():
        count += 1
    return count


def read_bundle(bundle: Path, decode: bool) -> int:
    count = 0
    with open(bundle / EVENTS_FILE, "rb") as events:
        for line in events:
            if decode:
                json.loads(line)
            count += 1
    return count


def verify_py(bundle: Path) -> None:
    done = subprocess.run([sys.executable, "-I", "-S", str(bundle / "verify.py"), str(bundle)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def latencies_ms(samples: int, work: Callable[[], object]) -> list[float]:
    timings = []
    for _ in range(samples):
        started = time.perf_counter()
        work()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


MASTER_KEY = secrets.token_bytes(32)  # seals the envelopes' personal data (the phone numbers tried)
Rates = list[tuple[str, float, float | None]]  # what, events/s, ratio to its baseline
Latencies = list[tuple[str, list[float], float | None]]  # what, milliseconds, the first one after start-up


def measure_scale(url: str, signer: Signer, size: int, rounds: int, workdir: Path) -> tuple[Rates, Latencies]:
    rows: Rates = []
    with Ledger(url, signer, MASTER_KEY) as ledger:
        log(f"database: raw read and verify of {size:,} events")
        rates = interleaved(
            rounds,
            {
                "raw": lambda: rate(size, lambda: read_rows(ledger)),
                "verify": lambda: rate(size, lambda: verify_log(ledger.store, signer.public_key_raw, ORIGIN)),
            },
        )
        result = verify_log(ledger.store, signer.public_key_raw, ORIGIN)
        assert result.ok and result.events == size, result
        rows += [
            ("database raw read (rows)", rates["raw"], None),
            ("database verify (ledger verify)", rates["verify"], rates["verify"] / rates["raw"]),
        ]
        bundle = workdir / f"bundle-{size}"
        shutil.rmtree(bundle, ignore_errors=True)
        log("export")
        rows.append(("export (ledger export --out)", rate(size, lambda: export.write_bundle(ledger, bundle)), None))
    log(f"bundle: raw read and verify ({sum(f.stat().st_size for f in bundle.iterdir()) / 1e6:,.0f} MB)")
    rates = interleaved(
        rounds,
        {
            "lines": lambda: rate(size, lambda: read_bundle(bundle, decode=False)),
            "raw": lambda: rate(size, lambda: read_bundle(bundle, decode=True)),
            "verify": lambda: rate(size, lambda: verify_bundle(bundle)),
            "verify.py": lambda: rate(size, lambda: verify_py(bundle)),
        },
    )
    rows += [
        ("bundle read lines only (no JSON)", rates["lines"], None),
        ("bundle raw read (lines + JSON)", rates["raw"], None),
        ("bundle verify (ledger verify DIR)", rates["verify"], rates["verify"] / rates["raw"]),
        ("bundle verify.py (python3 -I -S)", rates["verify.py"], rates["verify.py"] / rates["raw"]),
    ]
    shutil.rmtree(bundle)

    proofs: Latencies = []
    with Ledger(url, signer, MASTER_KEY) as ledger:
        n = ledger.store.tree_size()
        log(f"proofs at {n:,} leaves")
        started = time.perf_counter()
        ledger.tree.inclusion_proof(random.randint(1, n), n)
        cold = (time.perf_counter() - started) * 1000

        def inclusion() -> None:
            position = random.randint(1, n)
            ledger.store.leaf_hashes(position, position)
            ledger.tree.inclusion_proof(position, n)
            ledger.tree.root(n)

        def consistency() -> None:
            first = random.randint(1, n)
            ledger.tree.consistency_proof(first, n)
            ledger.tree.root(first)
            ledger.tree.root(n)

        proofs.append(("Ledger.tree inclusion (+leaf, root)", latencies_ms(PROOF_SAMPLES, inclusion), cold))
        proofs.append(("Ledger.tree consistency (+2 roots)", latencies_ms(PROOF_SAMPLES, consistency), None))
        # No background work in this API process while it is timed: no checkpoint publisher, and the
        # reports' projector left to `ledger project` (here it would be catching up the whole log).
        settings = Settings(
            database_url=url,
            signing_key_file=workdir / "unused.pem",
            origin=ORIGIN,
            checkpoint_interval_seconds=0,
            projector="external",
        )
        secret = ledger.tokens.issue(f"bench-auditor-{n}", Organization.OIG, Role.AUDITOR)
        size_now = ledger.store.tree_size()
        with TestClient(create_app(settings, ledger)) as client:
            headers = {"Authorization": f"Bearer {secret}"}

            def get(path: str, **params: int) -> None:
                response = client.get(path, params=params, headers=headers)
                assert response.status_code == 200, response.text

            proofs.append((
                "API GET /v1/proofs/inclusion",
                latencies_ms(
                    PROOF_SAMPLES,
                    lambda: get("/v1/proofs/inclusion", position=random.randint(1, size_now), tree_size=size_now),
                ),
                None,
            ))
            proofs.append((
                "API GET /v1/proofs/consistency",
                latencies_ms(
                    PROOF_SAMPLES, lambda: get("/v1/proofs/consistency", first=random.randint(1, size_now), second=size_now)
                ),
                None,
            ))
        log("witnesses: cosignature round trips and cosigned checkpoint verification")
        proofs += witnessing.measure(ledger, latencies_ms)
    return rows, proofs


def main() -> None:
    parser = bench_arguments(__doc__, rounds="rounds per rate (median reported)")
    parser.add_argument("--scales", default="100000,1000000", help="log sizes to measure at, ascending")
    args = parser.parse_args()
    random.seed(7)
    scales = [int(scale) for scale in args.scales.split(",")]
    signer = Signer(Ed25519PrivateKey.generate(), ORIGIN)
    results: list[tuple[str, int, float, Rates, Latencies]] = []
    for backend in args.backends.split(","):
        with database(backend, args.postgres_url) as url, tempfile.TemporaryDirectory() as workdir:
            with Ledger(url, signer, MASTER_KEY) as ledger:
                ledger.tokens.issue("bench-frtf", Organization.FRTF, Role.AGENCY)
                ledger.tokens.issue("bench-kind", Organization.KIND, Role.AGENCY)
            for scale in scales:
                print(f"{backend}: growing the log to {scale:,} events", file=sys.stderr, flush=True)
                with Ledger(url, signer, MASTER_KEY) as ledger:
                    append_rate = grow(ledger, scale)
                    ledger.signed_heads.sign()
                    size = ledger.store.tree_size()
                rows, proofs = measure_scale(url, signer, size, args.rounds, Path(workdir))
                results.append((backend, size, append_rate, rows, proofs))

    print(
        f"verification: {CASES:,} cases, a checkpoint every {CHECKPOINT_EVERY:,} events, median of {args.rounds} "
        f"interleaved rounds; {os.cpu_count()} cores; Python {sys.version.split()[0]}"
    )
    header = f"{'backend':<11} {'events':>9} {'what':<36} {'events/s':>10} {'vs raw':>8}"
    print(header)
    print("-" * len(header))
    for backend, size, append_rate, rows, _ in results:
        print(f"{backend:<11} {size:>9,} {'(grown by Ledger.append, 1000/batch)':<36} {append_rate:>10,.0f} {'':>8}")
        for what, value, ratio in rows:
            print(f"{backend:<11} {size:>9,} {what:<36} {value:>10,.0f} {'' if ratio is None else f'{ratio:.2f}x':>8}")
    print("target: verification >= 0.50x the raw read of the same rows / file (vs raw)")
    print()
    header = f"{'backend':<11} {'leaves':>9} {'proof':<38} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} {'first ms':>9}"
    print(header)
    print("-" * len(header))
    for backend, size, _, _, proofs in results:
        for what, timings, cold in proofs:
            print(
                f"{backend:<11} {size:>9,} {what:<38} {statistics.median(timings):>7.2f} {percentile(timings, 0.95):>7.2f} "
                f"{max(timings):>7.2f} {'' if cold is None else f'{cold:,.0f}':>9}"
            )
    print(f"target: < 5 ms per proof at 1M leaves ({PROOF_SAMPLES} random proofs each; 'first' = the first proof "
          "after start-up, which fills the tree's cache)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
