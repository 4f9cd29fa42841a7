"""GET /v1/catalog agrees with the permission matrix and the pydantic models, both ways, and so do
the OpenAPI schema's envelope descriptions: the catalog is derived from them, never written twice."""

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from domain.catalog import CATALOG, PERSONAL_FIELD_NAMES
from tests.test_catalog import personal_fields
from domain.envelope import EventBatch
from domain.organizations import Organization, Role
from domain.permissions import POSTERS, allowed_types
from tests.harness import Tokens


@pytest.fixture
def published(client: TestClient, tokens: Tokens) -> dict[str, dict[str, Any]]:
    answer = client.get("/v1/catalog", headers=tokens.get("MONITOR", "monitor"))
    assert answer.status_code == 200, answer.text
    return {entry["type"]: entry for entry in answer.json()["event_types"]}


def test_the_catalog_lists_every_event_type_of_the_models_and_no_other_in_their_order(published: dict[str, Any]) -> None:
    assert list(published) == list(CATALOG)


def test_each_type_lists_exactly_the_organizations_the_matrix_lets_post_it(published: dict[str, Any]) -> None:
    for event_type, entry in published.items():
        assert set(entry["may_post"]) == {o.value for o in POSTERS[event_type]}, event_type
        assert len(entry["may_post"]) == len(set(entry["may_post"]))


def test_what_each_organization_may_post_read_from_the_catalog_is_what_the_matrix_allows_it(
    published: dict[str, Any],
) -> None:
    for organization in Organization:
        from_catalog = [t for t, entry in published.items() if organization.value in entry["may_post"]]
        assert from_catalog == allowed_types(organization.value), organization


def test_each_types_schema_and_fields_are_its_pydantic_models(published: dict[str, Any]) -> None:
    for event_type, entry in published.items():
        schema = CATALOG[event_type].model_json_schema(by_alias=True)
        assert entry["data_schema"] == schema, event_type
        assert set(entry["required_fields"]) | set(entry["optional_fields"]) == set(schema["properties"]), event_type
        assert set(entry["required_fields"]) == set(schema.get("required", [])), event_type


def test_personal_fields_are_those_the_models_mark_and_only_those(published: dict[str, Any]) -> None:
    for event_type, entry in published.items():
        top_level = {path for path in entry["personal_fields"] if "." not in path}
        assert top_level == set(personal_fields(CATALOG[event_type])), event_type
    named = {path.rsplit(".", 1)[-1] for entry in published.values() for path in entry["personal_fields"]}
    assert named == PERSONAL_FIELD_NAMES
    assert "children[].name" in published["SeparationIdentified"]["personal_fields"]


def test_every_example_envelope_is_valid_and_of_its_type(published: dict[str, Any]) -> None:
    for event_type, entry in published.items():
        assert entry["example"]["type"] == event_type
        EventBatch.model_validate({"events": [entry["example"]]})


def test_the_openapi_description_of_each_types_envelope_names_who_may_post_it(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for event_type, posters in POSTERS.items():
        described = schemas[f"{event_type}Envelope"]["description"]
        named = re.search(r"Posted by: ([A-Z, ]+)\.$", described)
        assert named, described
        assert set(named.group(1).split(", ")) == {o.value for o in posters}, event_type


@pytest.mark.parametrize("role", list(Role))
def test_any_live_token_may_read_the_catalog(client: TestClient, tokens: Tokens, role: Role) -> None:
    assert client.get("/v1/catalog", headers=tokens.get("OIG", role.value)).status_code == 200
