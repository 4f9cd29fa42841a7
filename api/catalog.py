"""The catalog an integrator reads before posting (GET /v1/catalog, docs/catalog.md): every event
type with its purpose, who may post it, its fields, its personal fields, its JSON Schema and an
example envelope.

Nothing here is written a second time: the schema and the fields come from the pydantic models
(domain/catalog.py), the posters from the permission matrix (domain/permissions.py), the purpose
from domain/catalog_guide.py, and the example from the example journey (examples/), which the
tests post through the API; the terms the ledger ships stand for TermsAdopted, which the journey
does not post.
"""

from functools import cache
from typing import Any, Literal
from uuid import NAMESPACE_URL, uuid5

from pydantic import BaseModel, Field

from domain.catalog import CATALOG, TermsAdopted, stored_data
from domain.catalog_guide import PURPOSES, posters, stream
from domain.envelope import SETTLEMENT_CASE_ID
from domain.terms import SETTLEMENT_2023
from examples import example_envelope


class CatalogEntry(BaseModel):
    type: str
    purpose: str
    stream: Literal["case", "settlement"] = Field(description="Posted to a family's case, or to the case id SETTLEMENT.")
    may_post: list[str] = Field(description="The organizations whose agency tokens may post it.")
    required_fields: list[str] = Field(description="Fields of `data` that must be given.")
    optional_fields: list[str] = Field(description="Fields of `data` that may be given.")
    personal_fields: list[str] = Field(
        description="Fields of `data` holding personal data (stored sealed, shown only to agencies and auditors), "
        "as paths: `children[].name` is the name of each child."
    )
    data_schema: dict[str, Any] = Field(description="The JSON Schema of `data`.")
    example: dict[str, Any] = Field(description="An envelope of this type, as the example journey posts it.")


class Catalog(BaseModel):
    event_types: list[CatalogEntry]


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def personal_paths(schema: dict[str, Any], defs: dict[str, Any] | None = None, prefix: str = "") -> list[str]:
    """Paths of the properties a JSON Schema marks `x-personal-data`, at any depth."""
    defs = schema.get("$defs", {}) if defs is None else defs
    schema = _resolve(schema, defs)
    found = []
    for name, prop in schema.get("properties", {}).items():
        if prop.get("x-personal-data"):
            found.append(prefix + name)
        for branch in [prop, *prop.get("anyOf", [])]:
            branch = _resolve(branch, defs)
            if branch.get("type") == "array" and "items" in branch:
                found += personal_paths(branch["items"], defs, f"{prefix}{name}[].")
            elif "properties" in branch:
                found += personal_paths(branch, defs, f"{prefix}{name}.")
    return found


def _terms_example() -> dict[str, Any]:
    return {
        "event_id": str(uuid5(NAMESPACE_URL, "https://ms-l-ledger.example/catalog/TermsAdopted")),
        "case_id": SETTLEMENT_CASE_ID,
        "type": "TermsAdopted",
        "occurred_at": "2023-12-08T00:00:00Z",
        "data": stored_data(TermsAdopted.model_validate(SETTLEMENT_2023)),
    }


def entry(event_type: str) -> CatalogEntry:
    schema = CATALOG[event_type].model_json_schema(by_alias=True)
    required = schema.get("required", [])
    return CatalogEntry(
        type=event_type,
        purpose=PURPOSES[event_type],
        stream=stream(event_type),  # type: ignore[arg-type]
        may_post=posters(event_type),
        required_fields=required,
        optional_fields=[name for name in schema["properties"] if name not in required],
        personal_fields=personal_paths(schema),
        data_schema=schema,
        example=example_envelope(event_type) or _terms_example(),
    )


@cache
def catalog() -> Catalog:
    """Every type of the catalog, in the catalog's order (built once: it never changes while serving)."""
    return Catalog(event_types=[entry(event_type) for event_type in CATALOG])
