"""Sixteen clients at once through a real server (as `ledger serve` serves), on both backends (issue 7, item 1).

The clients post to cases they all share (some with expected_version, re-reading after a 409)
and to cases of their own, re-posting after timeouts and 503s (tests/load_clients.py). Then:
every acknowledged event is in the log exactly once at the position its receipt gave, and nothing
else is; positions are gap-free and each case's versions too; the Merkle leaves recompute and the
tree's root matches a signed checkpoint; the live projection, once caught up, reports byte for
byte what a rebuild from scratch reports. bench/load.py runs the same scenario larger for figures.
"""

from collections import Counter
from collections.abc import Iterator

import pytest

from api.app import create_app
from api.http_server import server_options
from api.settings import Settings
from domain.as_of import AsOf
from domain.organizations import Organization, Role
from ledger.application import Ledger
from ledger.checkpoints import Signer
from ledger.verify import verify_log
from projections.render import render_json
from projections.report import compliance_report
from projections.runner import Projection
from tests.harness import ORIGIN
from tests.live_server import serving
from tests.load_clients import OUTREACH, Outcome, Plan, open_cases, percentile, run_clients

PLAN = Plan(clients=16, events_per_client=60)


Loaded = tuple[Ledger, Projection, list[Outcome]]


@pytest.fixture(scope="module")
def loaded(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory, signer: Signer, master_key: bytes
) -> Iterator[Loaded]:
    """The ledger after the load, its server stopped, with the app's live projection caught up."""
    keys = tmp_path_factory.mktemp("load-keys")
    settings = Settings(database_url=module_database_url, signing_key_file=keys / "signing-key.pem", origin=ORIGIN, log_level="WARNING")
    with Ledger(settings.database_url, signer, master_key) as ledger:
        frtf = ledger.tokens.issue("frtf-load", Organization.FRTF, Role.AGENCY)
        tokens = [ledger.tokens.issue(f"{org.lower()}-load", Organization(org), Role.AGENCY) for org in OUTREACH]
        app = create_app(settings, ledger)
        with serving(app, **server_options(settings)) as base_url:  # served as `ledger serve` serves
            open_cases(base_url, frtf, PLAN)
            outcomes, seconds = run_clients(base_url, tokens, PLAN)
            projection: Projection = app.state.projection
            assert projection.wait_for(ledger.store.tree_size(), timeout=60), "the live projection did not catch up"
        latencies = [latency for outcome in outcomes for latency in outcome.latencies]
        print(
            f"\n{ledger.backend}: {PLAN.clients} clients x {PLAN.events_per_client} events in {seconds:.2f} s "
            f"({PLAN.clients * PLAN.events_per_client / seconds:,.0f} events/s), "
            f"p95 {percentile(latencies, 0.95) * 1000:.1f} ms over {sum(o.requests for o in outcomes)} requests; "
            f"{sum(o.stale_versions for o in outcomes)} stale versions re-read, "
            f"{sum(o.impatient for o in outcomes)} client timeouts and {sum(o.transient for o in outcomes)} transient errors re-posted"
        )
        yield ledger, projection, outcomes


def test_sixteen_clients_lose_nothing_and_duplicate_nothing(loaded: Loaded) -> None:
    ledger, _, outcomes = loaded
    assert [error for outcome in outcomes for error in outcome.errors] == []
    acknowledged = {event_id: position for outcome in outcomes for event_id, position in outcome.acknowledged.items()}
    assert len(acknowledged) == PLAN.clients * PLAN.events_per_client  # every event posted was acknowledged

    logged = list(ledger.store.iter_logged())
    events = [ledger.reader.decode(entry.stored) for entry in logged]
    contacts = Counter(event.event_id for event in events if event.type == "ContactAttempted")
    assert contacts == Counter(acknowledged.keys())  # each exactly once, and nothing unacknowledged
    where = {event.event_id: entry.position for entry, event in zip(logged, events, strict=True)}
    assert {event_id: where[event_id] for event_id in acknowledged} == acknowledged  # receipts tell the truth
    assert sum(o.stale_versions for o in outcomes), "no expected_version race happened: the test proved less than it says"
    assert sum(o.impatient for o in outcomes), "no post was re-sent after a client timeout: the test proved less than it says"


def test_positions_and_case_versions_stay_gap_free_under_load(loaded: Loaded) -> None:
    ledger, _, _ = loaded
    logged = list(ledger.store.iter_logged())
    assert [entry.position for entry in logged] == list(range(1, len(logged) + 1))
    versions: dict[str, list[int]] = {}
    for entry in logged:
        event = ledger.reader.decode(entry.stored)
        versions.setdefault(str(event.originator_id), []).append(entry.stored.originator_version)
    assert all(numbers == list(range(1, len(numbers) + 1)) for numbers in versions.values())
    recorded = [entry.recorded_at or "" for entry in logged]
    assert recorded == sorted(recorded)


def test_the_merkle_tree_after_the_load_matches_the_log_and_a_signed_checkpoint(loaded: Loaded) -> None:
    ledger, _, _ = loaded
    checkpoint = ledger.signed_heads.sign()
    assert checkpoint.tree_size == ledger.store.tree_size()
    assert ledger.signer is not None
    verification = verify_log(ledger.store, ledger.signer.public_key_raw, ORIGIN)
    assert verification.ok, verification.problem
    assert (verification.events, verification.checkpoint_size) == (checkpoint.tree_size, checkpoint.tree_size)


def test_the_live_projection_after_the_load_equals_a_rebuild_byte_for_byte(loaded: Loaded) -> None:
    ledger, projection, _ = loaded
    head = ledger.store.tree_size()
    points = [ledger.reader.resolve(AsOf(position=p)) for p in (head // 3, 2 * head // 3, head)]
    live = [render_json(compliance_report(ledger, projection, point, wait_seconds=0)) for point in points]
    Projection(ledger).rebuild()
    rebuilt = [render_json(compliance_report(ledger, projection, point, wait_seconds=0)) for point in points]
    assert rebuilt == live
