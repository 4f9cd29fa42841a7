"""The recorders' write path: the one read before a batch, and writing right after a known head."""

import threading
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import IntegrityError, PersistenceError, ProgrammingError, StoredEvent

from domain.access import Principal
from domain.envelope import EventBatch, Posting, postings
from domain.errors import BatchRejected
from domain.organizations import Organization, Role
from ledger.application import Ledger
from ledger.checkpoints import Signer
from ledger.leaves import LeafKey, leaf_hash_of
from ledger.recorders.base import LogHead
from tests.builders import contact, separation


def stored(count: int) -> list[StoredEvent]:
    return [StoredEvent(uuid4(), 1, "ContactAttempted", b'{"n":%d}' % n) for n in range(count)]


def test_one_read_gives_the_head_its_last_recorded_at_and_the_known_ids(ledger: Ledger) -> None:
    assert ledger.store.head_and_known_event_ids(["a"]) == (LogHead(0, None), {})
    leaves = ledger.store.append(stored(2), [LeafKey("a", "digest-a"), LeafKey("b", "digest-b")])

    head, known = ledger.store.head_and_known_event_ids(["b", "c", "a"])

    assert head == LogHead(2, leaves[-1].recorded_at)
    assert known == {"a": (1, "digest-a"), "b": (2, "digest-b")}
    assert ledger.store.head_and_known_event_ids([])[0] == head


def test_events_written_after_the_current_head_get_the_next_positions_and_true_leaves(ledger: Ledger) -> None:
    ledger.store.insert_events(stored(2))
    head, _ = ledger.store.head_and_known_event_ids([])
    events = stored(3)

    leaves = ledger.store.append(events, [LeafKey(str(n)) for n in range(3)], after=head)

    assert [leaf.position for leaf in leaves] == [3, 4, 5]
    assert all(leaf.recorded_at >= str(head.recorded_at) for leaf in leaves)
    for event, logged in zip(events, ledger.store.logged_at([3, 4, 5]), strict=True):
        assert logged.stored.state == event.state
        assert logged.leaf_hash == leaf_hash_of(
            logged.position, event.originator_id, 1, event.topic, str(logged.recorded_at), event.state
        )


def test_a_batch_decided_on_a_stale_head_lands_after_the_real_one_or_not_at_all(ledger: Ledger) -> None:
    stale, _ = ledger.store.head_and_known_event_ids([])
    ledger.store.append(stored(2), [LeafKey("first"), LeafKey("second")])
    late = [LeafKey("late")]

    try:
        positions = [leaf.position for leaf in ledger.store.append(stored(1), late, after=stale)]
    except IntegrityError:  # PostgreSQL: the positions after the stale head are taken
        assert ledger.store.tree_size() == 2
        assert ledger.store.known_event_ids(["late"]) == {}
    else:  # SQLite: positions are assigned under the database's write lock
        assert positions == [3]
        assert ledger.store.known_event_ids(["late"]) == {"late": (3, None)}
    recorded = [logged.recorded_at for logged in ledger.store.iter_logged()]
    assert recorded == sorted(recorded)


@pytest.mark.parametrize("count", [0, 1])
def test_an_empty_or_single_batch_after_a_head_is_fine(ledger: Ledger, count: int) -> None:
    head, _ = ledger.store.head_and_known_event_ids([])
    assert [leaf.position for leaf in ledger.store.append(stored(count), after=head)] == list(range(1, count + 1))


def skip_the_row(ledger: Ledger, table: str, when: str) -> None:
    """A trigger that silently drops the row of `table` that `when` picks, as a tampered database or a bad
    migration could: the insert succeeds, short of that row."""
    datastore: Any = ledger.datastore
    with datastore.transaction(commit=True) as cursor:
        if ledger.backend == "sqlite":
            cursor.execute(
                f"CREATE TRIGGER skip_a_row BEFORE INSERT ON {table} WHEN {when} BEGIN SELECT RAISE(IGNORE); END"
            )
        else:
            cursor.execute(
                f'CREATE FUNCTION "{datastore.schema}".skip_a_row() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN '
                f"IF {when} THEN RETURN NULL; END IF; RETURN NEW; END $$"
            )
            cursor.execute(f'CREATE TRIGGER skip_a_row BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION "{datastore.schema}".skip_a_row()')


@pytest.mark.parametrize("dropped", ["leaf", "event"])
def test_a_batch_the_database_wrote_short_of_a_leaf_or_an_event_is_refused_and_none_of_it_is_kept(ledger: Ledger, dropped: str) -> None:
    recorder: Any = ledger.store
    ledger.store.append(stored(1), [LeafKey("kept")])
    if dropped == "leaf":
        skip_the_row(ledger, recorder.leaves_table, "NEW.position = 3")
    else:  # the second of the batch's two events (SQLite numbers the rows as it inserts them)
        if ledger.backend == "postgresql":
            skip_the_row(ledger, f'"{ledger.datastore.schema}".{recorder.events_table_name}', "NEW.notification_id = 3")
        else:
            skip_the_row(ledger, recorder.events_table_name, """CAST(NEW.state AS TEXT) = '{"n":1}'""")

    with pytest.raises(ProgrammingError, match="leaves, expected 2"):
        ledger.store.append(stored(2), [LeafKey("second"), LeafKey("third")])

    assert ledger.store.tree_size() == 1
    assert ledger.store.known_event_ids(["second", "third"]) == {}
    assert [logged.position for logged in ledger.store.iter_logged()] == [1]
    assert len(ledger.store.select_notifications(start=None, limit=10)) == 1  # no event without its leaf


# --- deciding without reading first, while no other writer has been seen ----------------------


def parsed(*envelopes: dict[str, Any]) -> list[Posting]:
    return postings(EventBatch.model_validate({"events": list(envelopes)}))


@pytest.fixture
def two_ledgers(
    database_url: str, signer: Signer, master_key: bytes
) -> Iterator[tuple[Ledger, Ledger, Principal, Principal]]:
    """Two Ledger instances on one database, as two API processes would be."""
    with Ledger(database_url, signer, master_key) as first, Ledger(database_url, signer, master_key) as second:
        first.tokens.issue("frtf-a", Organization.FRTF, Role.AGENCY)
        first.tokens.issue("kind-a", Organization.KIND, Role.AGENCY)
        frtf, kind = first.tokens.principal_named("frtf-a"), first.tokens.principal_named("kind-a")
        assert frtf is not None and kind is not None
        yield first, second, frtf, kind


def test_a_case_moved_on_by_another_writer_is_decided_on_its_real_state(
    two_ledgers: tuple[Ledger, Ledger, Principal, Principal],
) -> None:
    first, second, frtf, kind = two_ledgers
    first.appender.append(parsed(separation("FRTF-1")), frtf)
    first.appender.append(parsed(contact("FRTF-1")), kind)  # first now trusts its view: the case at version 2
    second.appender.append(parsed(contact("FRTF-1")), kind)  # ... which is stale from here: version 3

    receipt = first.appender.append(parsed(contact("FRTF-1", expected_version=3)), kind).receipts[0]
    with pytest.raises(BatchRejected) as refused:
        first.appender.append(parsed(contact("FRTF-1", expected_version=3)), kind)

    assert (receipt.version, receipt.position) == (4, 6)  # two token events, then the case's four
    assert refused.value.kind == "conflict" and "at version 4" in refused.value.problems[0].message
    assert first.store.tree_size() == 6


def test_an_id_another_writer_appended_is_a_replay_even_when_not_read_first(
    two_ledgers: tuple[Ledger, Ledger, Principal, Principal],
) -> None:
    first, second, frtf, kind = two_ledgers
    first.appender.append(parsed(separation("FRTF-1"), separation("FRTF-2")), frtf)
    envelope = contact("FRTF-2")
    original = second.appender.append(parsed(envelope), kind)

    again = first.appender.append(parsed(envelope), kind)
    changed = {**envelope, "data": {**envelope["data"], "outcome": "reached"}}

    assert (again.appended, again.receipts) == (0, original.receipts)
    with pytest.raises(BatchRejected) as refused:
        first.appender.append(parsed(changed), kind)
    assert refused.value.kind == "conflict" and refused.value.problems[0].field == "event_id"
    assert first.store.tree_size() == 5


def test_a_ledger_that_cannot_reach_its_database_leaves_no_pool_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    """Else, while the error's traceback keeps the half-built ledger alive, its pool's threads keep
    retrying; and when the collector finds it in one of them, closing the pool there fails (seen as
    an intermittent error at the setup of unrelated tests)."""
    monkeypatch.setenv("POSTGRES_CONNECT_TIMEOUT", "1")
    before = set(threading.enumerate())
    with pytest.raises(PersistenceError) as raised:  # kept, with its traceback, as a CLI runner keeps it
        Ledger("postgresql://postgres@127.0.0.1:1/ledger")
    assert [thread.name for thread in set(threading.enumerate()) - before if thread.is_alive()] == []
    assert raised.value.__traceback__ is not None
