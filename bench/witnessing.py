"""bench/verify.py's witness rows: the cosignature round trip and verifying a cosigned checkpoint,
each beside its baseline.

  round trip  ledger -> witness -> stored: CosignatureCollector.submit_latest for a checkpoint one
              event past the last cosigned (the latest checkpoint read, the consistency proof,
              POST /add-checkpoint to a `ledger witness serve` process on loopback, which checks
              the log's signature and the proof, records the checkpoint in its SQLite state and
              cosigns; the ledger checks the cosignature and stores it); baseline: a bare HTTP
              round trip on the same keep-alive connection (a body the witness refuses at once, 400);
  verify      a checkpoint with 3 cosignatures against a 3-of-3 policy that also names the log
              (log signature + 3 cosignatures), beside the log signature alone; with `cryptography`
              (the server, `ledger verify DIR`) and with ledger/ed25519.py (the bundle's verify.py).
"""

import tempfile
import time
from collections.abc import Callable
from itertools import count
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domain.organizations import Organization, Role
from ledger import notes
from ledger.application import Ledger
from ledger.checkpoints import ed25519_verifies, load_or_create_signing_key
from ledger.ed25519 import verify_signature
from ledger.vkeys import log_verifier_key, parse_verifier_key
from ledger.witness_policy import enforce, quorum_of
from ledger.witnessing import CosignatureCollector, WitnessEndpoint, _Client
from tests.witness_processes import witness_process
from witness.service import Cosigner

Latencies = list[tuple[str, list[float], float | None]]
Sampler = Callable[[int, Callable[[], object]], list[float]]
ROUND_TRIPS = 200
VERIFICATIONS = {"cryptography": 200, "verify.py": 30}  # the pure-Python one is ~100x slower


def measure(ledger: Ledger, latencies_ms: Sampler) -> Latencies:
    assert ledger.signer is not None
    log_key = log_verifier_key(ledger.signer.origin, ledger.signer.public_key_raw)
    rows: Latencies = []
    with tempfile.TemporaryDirectory() as workdir:
        logs = Path(workdir) / "logs.policy"
        logs.write_text(f"log {log_key}\n")
        process = witness_process(Path(workdir) / "w", "bench.witness/w1", logs)
        key = Cosigner(load_or_create_signing_key(Path(workdir) / "w" / "key.pem"), "bench.witness/w1").key
        process.start()
        try:
            endpoint = WitnessEndpoint(key, process.url)
            collector = CosignatureCollector(ledger.store, ledger.tree, [endpoint])
            ledger.signed_heads.sign()
            assert collector.submit_latest(endpoint) is not None  # the witness now holds the log
            bare = _Client(process.url)
            rows.append(("witness: bare HTTP round trip (400)", latencies_ms(ROUND_TRIPS, lambda: bare.post(b"x")), None))
            bare.close()
            serial = count()

            def one_event_more() -> None:
                ledger.tokens.issue(f"bench-witness-{next(serial)}-{ledger.store.tree_size()}", Organization.OIG, Role.AUDITOR)
                ledger.signed_heads.sign()

            trips = _timed_after(ROUND_TRIPS, one_event_more, lambda: collector.submit_latest(endpoint))
            rows.append(("witness: cosignature round trip", trips, None))
        finally:
            process.stop()
    latest = ledger.store.checkpoints(latest=True)[0]
    cosigners = [Cosigner(Ed25519PrivateKey.generate(), f"bench.witness/c{i}") for i in range(3)]
    text = latest.note.split("\n\n")[0] + "\n"
    cosigned = latest.note + "".join(c.cosign(text, 1_700_000_000) for c in cosigners)
    policy = quorum_of([c.key for c in cosigners], 3)
    policy.logs.append(parse_verifier_key(log_key))
    origin, public = ledger.signer.origin, ledger.signer.public_key_raw
    for name, verifies in (("cryptography", ed25519_verifies), ("verify.py", verify_signature)):
        samples = VERIFICATIONS[name]
        rows.append((f"log signature alone ({name})", latencies_ms(samples, lambda v=verifies: notes.verify_note(latest.note, public, origin, v)), None))
        rows.append((f"log sig + 3 cosigs ({name})", latencies_ms(samples, lambda v=verifies: enforce(policy, cosigned, v)), None))
    return rows


def _timed_after(samples: int, setup: Callable[[], object], work: Callable[[], object]) -> list[float]:
    """Milliseconds of `work`, each after an untimed `setup`."""
    timings = []
    for _ in range(samples):
        setup()
        started = time.perf_counter()
        assert work() is not None
        timings.append((time.perf_counter() - started) * 1000)
    return timings
