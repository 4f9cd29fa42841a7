"""A read model written by another version of the ledger, on both backends.

A generation's rows mean what the code that wrote them meant (projections/row_format.py FORMAT). One
written by an earlier version is never read as this one's: reports refuse with 503 until the
projector has rebuilt it blue/green, and one process rebuilds it while the others wait. One
written by a newer version is left alone.
"""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.cli import app as cli_app
from domain.as_of import AsOf
from domain.envelope import EventBatch, postings
from domain.values import utc_text
from ledger.application import Ledger
from ledger.checkpoints import Signer
from projections.projection_settings import ProjectionSettings
from projections.render import render_json
from projections.report import compliance_report, overdue_obligations
from projections.runner import STALE_BUILD, Projection, ReadModelOutdated
from projections.row_format import FORMAT
from tests.builders import batch, separation
from tests.harness import Tokens
from tests.test_dashboard import sign_in
from tests.test_projection import populate

REPORT = "/v1/reports/compliance"


def written_by_version(projection: Projection, format: int | None) -> None:
    """The active generation's settings as a version of the ledger writing `format` left them
    (None: the first version, whose settings did not name a format)."""
    generation = projection.generation()
    settings = {"late_report_days": 30} | ({} if format is None else {"format": format})
    projection.model.update_settings(generation, settings)


def report_bytes(ledger: Ledger, projection: Projection) -> bytes:
    return render_json(compliance_report(ledger, projection, ledger.reader.resolve(AsOf(position=ledger.store.tree_size())), wait_seconds=0))


@pytest.fixture
def projected(ledger: Ledger) -> Projection:
    populate(ledger, 40)
    projection = Projection(ledger, ProjectionSettings(page_size=200))
    projection.catch_up()
    return projection


def test_a_generation_an_earlier_version_wrote_is_rebuilt_before_reports_read_it(ledger: Ledger, projected: Projection) -> None:
    head = ledger.store.tree_size()
    current = report_bytes(ledger, projected)
    written_by_version(projected, None)
    with pytest.raises(ReadModelOutdated, match="earlier version of the ledger"):
        compliance_report(ledger, projected, ledger.reader.resolve(AsOf.now()), wait_seconds=0)
    with pytest.raises(ReadModelOutdated):
        overdue_obligations(ledger, projected, ledger.reader.resolve(AsOf.now()), wait_seconds=0)
    assert post(ledger, separation("AFTER-1")) == 1

    assert projected.catch_up() == 0  # rebuilt: what was appended meanwhile is in the new generation
    assert projected.model.active_generation() == 2 and list(projected.model.generations()) == [2]
    assert projected.model.generations()[2][1]["format"] == FORMAT
    assert projected.tracked() == ledger.store.tree_size()
    as_of_before = compliance_report(ledger, projected, ledger.reader.resolve(AsOf(position=head)), wait_seconds=0)
    assert render_json(as_of_before) == current  # the same numbers as this version's own projection


def test_while_another_process_rebuilds_it_reports_refuse_and_a_dead_rebuild_is_taken_over(
    ledger: Ledger, projected: Projection
) -> None:
    written_by_version(projected, FORMAT - 1)
    now = datetime.now(UTC)
    claim = {"format": FORMAT, "late_report_days": 30, "heartbeat": utc_text(now)}
    projected.model.create_generation(2, claim, state="building")
    assert projected.catch_up() == 0 and not projected.upgrade()
    assert projected.model.active_generation() == 1
    with pytest.raises(ReadModelOutdated):
        compliance_report(ledger, projected, ledger.reader.resolve(AsOf.now()), wait_seconds=0)

    projected.model.update_settings(2, claim | {"heartbeat": utc_text(now - STALE_BUILD - timedelta(seconds=1))})
    assert projected.upgrade()
    assert list(projected.model.generations()) == [3]
    compliance_report(ledger, projected, ledger.reader.resolve(AsOf.now()), wait_seconds=0)


def test_a_rebuild_that_fails_gives_up_its_claim_and_leaves_the_old_generation_in_place(
    ledger: Ledger, projected: Projection
) -> None:
    written_by_version(projected, None)

    def interrupted(position: int) -> None:
        raise KeyboardInterrupt  # the operator stops it, or the process is told to stop

    with pytest.raises(KeyboardInterrupt):
        projected.catch_up(progress=interrupted)
    assert projected.model.active_generation() == 1
    assert projected.model.generations()[2][1]["heartbeat"] == ""  # given up: no one waits for it
    assert projected.upgrade() and list(projected.model.generations()) == [3]
    compliance_report(ledger, projected, ledger.reader.resolve(AsOf.now()), wait_seconds=0)


def test_a_generation_a_newer_version_wrote_is_neither_read_nor_written(ledger: Ledger, projected: Projection) -> None:
    written_by_version(projected, FORMAT + 1)
    tracked = projected.tracked()
    assert post(ledger, separation("AFTER-2")) == 1
    assert projected.catch_up() == 0 and projected.tracked() == tracked
    with pytest.raises(ReadModelOutdated, match="newer version"):
        compliance_report(ledger, projected, ledger.reader.resolve(AsOf.now()), wait_seconds=0)
    with pytest.raises(ReadModelOutdated):
        projected.upgrade()
    assert list(projected.model.generations()) == [1]


def test_the_api_and_the_dashboard_answer_503_saying_a_rebuild_is_running_until_the_projector_has_rebuilt(external_client: TestClient) -> None:
    projection: Projection = external_client.app.state.projection  # type: ignore[attr-defined]
    tokens = Tokens(external_client.app.state.ledger)  # type: ignore[attr-defined]
    assert external_client.post("/v1/events", json=batch(separation("FRTF-1")), headers=tokens.get("FRTF")).status_code == 201
    projection.catch_up()
    written_by_version(projection, None)
    monitor = tokens.get("MONITOR", "monitor")
    for url in (REPORT, "/v1/reports/overdue"):
        refused = external_client.get(url, headers=monitor)
        assert refused.status_code == 503 and refused.headers["retry-after"] == "2"
        assert "being rebuilt" in refused.json()["detail"]
    sign_in(external_client, tokens.secret("MONITOR", "monitor"))
    for page in ("/", "/download/overdue.csv"):
        refused = external_client.get(page)
        assert refused.status_code == 503 and "being rebuilt" in refused.text
    projection.catch_up()  # as `ledger project` would
    assert external_client.get(REPORT, headers=monitor).json()["children"]["identified"] == 1
    assert external_client.get("/").status_code == 200


def test_ledger_migrate_rebuilds_a_generation_an_earlier_version_wrote(
    database_url: str, signer: Signer, master_key: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Ledger(database_url, signer, master_key) as ledger:
        populate(ledger, 5)
        projection = Projection(ledger)
        projection.catch_up()
        written_by_version(projection, None)
    monkeypatch.setenv("LEDGER_DATABASE_URL", database_url)
    monkeypatch.setenv("LEDGER_SIGNING_KEY_FILE", str(tmp_path / "key.pem"))
    result = CliRunner().invoke(cli_app, ["migrate"])
    assert result.exit_code == 0, result.output
    with Ledger(database_url, signer, master_key) as ledger:
        projection = Projection(ledger)
        assert projection.readable_generation() == 2
        assert projection.tracked() == ledger.store.tree_size()


def post(ledger: Ledger, envelope: dict[str, object]) -> int:
    """Appends one envelope as FRTF would post it; the number of events appended."""
    frtf = ledger.tokens.authenticate(Tokens(ledger).secret("FRTF"))
    assert frtf is not None
    return ledger.appender.append(postings(EventBatch.model_validate({"events": [envelope]})), frtf).appended
