"""GET /metrics on both backends: prometheus-client's own parser reads it, and the counts move
when events are posted (replays excluded), by route template, type and organization."""

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.builders import batch, contact, separation
from tests.harness import Tokens


def scrape(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_parse_and_move_when_events_are_posted(client: TestClient, tokens: Tokens) -> None:
    frtf, kind = tokens.get("FRTF"), tokens.get("KIND")  # issuing a token is itself an event: first
    before = scrape(client)
    assert value(before, "ledger_database_up") == 1
    size = value(before, "ledger_log_size_events")
    assert size == client.app.state.ledger.store.tree_size()  # type: ignore[attr-defined]

    first = batch(separation("FRTF-1"), separation("FRTF-2"))
    assert client.post("/v1/events", json=first, headers=frtf).status_code == 201
    assert client.post("/v1/events", json=batch(contact("FRTF-1")), headers=kind).status_code == 201
    assert client.post("/v1/events", json=first, headers=frtf).status_code == 200  # a replay appends nothing
    client.get("/v1/cases/FRTF-1", headers=frtf)
    client.get("/no/such/page")

    after = scrape(client)
    appended = "ledger_events_appended_total"
    assert value(after, appended, type="SeparationIdentified", organization="FRTF") == 2
    assert value(after, appended, type="ContactAttempted", organization="KIND") == 1
    assert value(after, "ledger_append_duration_seconds_count") == 3
    assert value(after, "ledger_append_duration_seconds_sum") > 0
    requests = "ledger_http_requests_total"
    assert value(after, requests, method="POST", route="/v1/events", status="201") == 2
    assert value(after, requests, method="POST", route="/v1/events", status="200") == 1
    assert value(after, requests, method="GET", route="/v1/cases/{case_id}", status="200") == 1
    assert value(after, requests, method="GET", route="unmatched", status="404") == 1
    assert not any("FRTF-1" in str(labels) for _, labels in after), "raw paths never become labels"
    assert value(after, "ledger_http_request_duration_seconds_count", method="POST", route="/v1/events") == 3
    assert value(after, "ledger_log_size_events") == size + 3
    assert value(after, "ledger_projection_lag_events") >= 0
    assert value(after, "ledger_projection_position") + value(after, "ledger_projection_lag_events") == size + 3


def test_metrics_are_documented_and_need_no_token(client: TestClient) -> None:
    assert "/metrics" in client.get("/openapi.json").json()["paths"]
    assert client.get("/metrics").status_code == 200


def test_metrics_show_the_latest_signed_checkpoint(client: TestClient, tokens: Tokens) -> None:
    assert client.post("/v1/events", json=batch(separation("FRTF-1")), headers=tokens.get("FRTF")).status_code == 201
    signed = client.get("/v1/checkpoint", headers=tokens.get("FRTF")).json()
    samples = scrape(client)
    assert value(samples, "ledger_checkpoint_tree_size") == signed["tree_size"] > 0
    assert value(samples, "ledger_checkpoint_timestamp_seconds") > 1.7e9
