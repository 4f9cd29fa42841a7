"""Whatever validation accepts, the projection projects (issue "Court-grade numbers", item 3).

Random postings across the whole catalog, drawn from the schema the API publishes and pushed to the
edges of every field, are posted through the API by the organizations that may post them, into a
few families whose members and events they mostly refer to correctly (so that the case rules accept
them, and the projection meets what an agency can really record). After every step the projection
must have caught up, report no fault and answer the report; at the end a rebuild from scratch must
give every report taken along the way byte for byte. A refusal is fine; a 5xx, a stall or a report
that differs is not.
"""

import random
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from api.app import create_app
from api.settings import Settings
from domain.catalog import AMENDMENTS, CASE_EVENTS, CATALOG
from domain.vocabulary import Obligation
from domain.permissions import POSTERS
from ledger.application import Ledger
from ledger.checkpoints import Signer
from tests.builders import separation
from tests.catalog_strategies import from_schema, instants
from tests.harness import ORIGIN, Tokens, fresh_schema

CASES = ("FRTF-A", "FRTF-B", "FRTF-C")
SCHEMAS = {name: model.model_json_schema() for name, model in CATALOG.items()}
# What is posted to a case that exists; identification, merges and amendments have rules of their own.
FACTS = sorted(set(CASE_EVENTS) - AMENDMENTS - {"SeparationIdentified", "CasesMerged"})
MEMBER_LISTS = {"member_ids", "children"}
STEERED = 0.85  # how often a reference is pointed at something the case has


@dataclass
class Family:
    members: set[str] = field(default_factory=set)
    children: set[str] = field(default_factory=set)
    posted: list[tuple[str, str, str]] = field(default_factory=list)  # (event_id, type, organization)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def new_database(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], AbstractContextManager[str]]:
    """A fresh, empty database for each run of the state machine."""
    if request.param == "sqlite":
        return lambda: _fresh_file(tmp_path)
    postgres_url = request.getfixturevalue("postgres_url")
    return lambda: fresh_schema(postgres_url)


@contextmanager
def _fresh_file(tmp_path: Path) -> Iterator[str]:
    yield f"sqlite:///{tmp_path}/{uuid4().hex}.db"


def test_the_projection_projects_whatever_validation_accepts(
    new_database: Callable[[], AbstractContextManager[str]], signer: Signer, master_key: bytes, tmp_path: Path
) -> None:
    class Postings(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.stack = ExitStack()
            url = self.stack.enter_context(new_database())
            app_settings = Settings(
                database_url=url, signing_key_file=tmp_path / "signing-key.pem", origin=ORIGIN, report_wait_seconds=20
            )
            self.ledger = self.stack.enter_context(Ledger(url, signer, master_key))
            self.client = self.stack.enter_context(TestClient(create_app(app_settings, self.ledger)))
            self.tokens = Tokens(self.ledger)
            self.monitor = self.tokens.get("MONITOR", "monitor")
            self.now = datetime.now(UTC)
            self.families: dict[str, Family] = {}
            self.terms_version = 1
            self.obligations = {o.value for o in Obligation}
            self.reports: dict[int, bytes] = {}
            # One family from the start, so that every run has someone to record facts about.
            first = separation(CASES[0], children=("C1", "C2"))
            identified = self.post("FRTF", CASES[0], "SeparationIdentified", first["data"], first["occurred_at"])
            assert identified is not None
            self.families[CASES[0]] = Family({"C1", "C2", "P1"}, {"C1", "C2"}, [(identified, "SeparationIdentified", "FRTF")])

        # --- posting ---------------------------------------------------------------------------

        def post(self, organization: str, case_id: str, event_type: str, data: dict[str, Any], occurred_at: str) -> str | None:
            """The event's id if it was accepted, None if it was refused (never a 5xx)."""
            event_id = str(uuid4())
            envelope = {"event_id": event_id, "case_id": case_id, "type": event_type, "occurred_at": occurred_at, "data": data}
            response = self.client.post("/v1/events", json={"events": [envelope]}, headers=self.tokens.get(organization))
            assert response.status_code < 500, response.text
            return event_id if response.status_code == 201 else None

        def draw_payload(self, data: st.DataObject, event_type: str) -> dict[str, Any]:
            return data.draw(from_schema(SCHEMAS[event_type], self.now), label=f"{event_type} data")  # type: ignore[no-any-return]

        @rule(data=st.data(), case_id=st.sampled_from(CASES))
        def identify(self, data: st.DataObject, case_id: str) -> None:
            payload = self.draw_payload(data, "SeparationIdentified")
            organization = data.draw(st.sampled_from(sorted(POSTERS["SeparationIdentified"])))
            event_id = self.post(organization, case_id, "SeparationIdentified", payload, data.draw(instants(self.now)))
            if event_id is not None:
                family = self.families[case_id] = Family(posted=[(event_id, "SeparationIdentified", organization)])
                family.children |= {child["member_id"] for child in payload["children"]}
                family.members |= family.children | {parent["member_id"] for parent in payload.get("parents", [])}

        @precondition(lambda self: self.families)
        @rule(data=st.data())
        def record_a_fact(self, data: st.DataObject) -> None:
            case_id = data.draw(st.sampled_from(sorted(self.families)))
            family = self.families[case_id]
            event_type = data.draw(st.sampled_from(FACTS))
            payload = self.steered(data, self.draw_payload(data, event_type), family, event_type)
            organization = data.draw(st.sampled_from(sorted(POSTERS[event_type])))
            event_id = self.post(organization, case_id, event_type, payload, data.draw(instants(self.now)))
            if event_id is not None:
                family.posted.append((event_id, event_type, organization))
                if event_type == "MemberAdded":
                    family.members.add(payload["member_id"])
                    (family.children.add if payload["role"] == "child" else family.children.discard)(payload["member_id"])
                elif event_type == "MemberRemoved":
                    family.members.discard(payload["member_id"])
                    family.children.discard(payload["member_id"])

        def steered(self, data: st.DataObject, payload: dict[str, Any], family: Family, event_type: str) -> dict[str, Any]:
            """References pointed, mostly, at members the family has (a MemberAdded names a new one),
            and a parole's two ends, mostly, in order (both drawn alike, they are often equal)."""
            rng = random.Random(data.draw(st.integers(0, 2**32)))
            if event_type == "ArrivedInUS" and payload["parole_end"] <= payload["parole_start"] and rng.random() < STEERED:
                start, days = date.fromisoformat(payload["parole_start"]), rng.choice([1, 365, 1095, 1096, 40_000])
                if start.toordinal() + days <= date.max.toordinal():
                    payload["parole_end"] = (start + timedelta(days=days)).isoformat()
            pool = sorted(family.children if event_type == "FamilyReunified" else family.members)
            for key, value in payload.items():
                if not pool or rng.random() > STEERED:
                    continue
                if key == "member_id" and event_type != "MemberAdded":
                    payload[key] = rng.choice(pool)
                elif key in MEMBER_LISTS and isinstance(value, list):
                    payload[key] = rng.sample(pool, min(len(value), len(pool)))
            return payload

        @precondition(lambda self: bool(self.families))
        @rule(data=st.data(), retract=st.booleans())
        def amend(self, data: st.DataObject, retract: bool) -> None:
            case_id = data.draw(st.sampled_from(sorted(self.families)))
            amendable = [(e, t, o) for e, t, o in self.families[case_id].posted if t not in AMENDMENTS]
            event_id, event_type, organization = data.draw(st.sampled_from(amendable))
            if retract:
                payload: dict[str, Any] = {"event_id": event_id, "reason": "posted in error"}
            else:
                changed = self.draw_payload(data, event_type)
                keys = data.draw(st.sets(st.sampled_from(sorted(changed) or ["notes"]), max_size=3))
                payload = {"event_id": event_id, "changes": {k: changed[k] for k in keys if k in changed}, "reason": "typo"}
                if data.draw(st.booleans()):
                    payload["occurred_at"] = data.draw(instants(self.now))
            amendment = "EntryRetracted" if retract else "EntryCorrected"
            amended = self.post(organization, case_id, amendment, payload, data.draw(instants(self.now)))
            if amended is not None:
                self.families[case_id].posted.append((amended, amendment, organization))

        @precondition(lambda self: len(self.families) > 1)
        @rule(data=st.data())
        def merge(self, data: st.DataObject) -> None:
            surviving, duplicate = data.draw(st.permutations(sorted(self.families)))[:2]
            if self.post("FRTF", surviving, "CasesMerged", {"duplicate_case_id": duplicate}, data.draw(instants(self.now))):
                self.families.pop(duplicate)  # posting to it is refused from now on

        @rule(data=st.data(), event_type=st.sampled_from(["TermsAdopted", "DeadlineExtended", "ServiceInterrupted"]))
        def settle(self, data: st.DataObject, event_type: str) -> None:
            payload = self.draw_payload(data, event_type)
            # Durations drawn whole are often empty (all three parts optional): mostly give them a length.
            durations = list(payload.get("obligations", {}).values()) + ([payload["extension"]] if "extension" in payload else [])
            for duration in durations:
                if not any(duration.values()) and data.draw(st.integers(0, 99)) < 85:
                    duration.update(data.draw(st.sampled_from([{"days": 1}, {"days": 30}, {"months": 6}, {"years": 3}, {"years": 20}])))
                payload["terms_version"] = self.terms_version + 1
            if event_type == "DeadlineExtended" and data.draw(st.booleans()):
                payload["obligation"] = data.draw(st.sampled_from(sorted(self.obligations)))
            organization = data.draw(st.sampled_from(sorted(POSTERS[event_type])))
            accepted = self.post(organization, "SETTLEMENT", event_type, payload, data.draw(instants(self.now)))
            if accepted is not None and event_type == "TermsAdopted":
                self.terms_version = payload["terms_version"]
                self.obligations = set(payload["obligations"])

        # --- what must hold after every step ------------------------------------------------------

        @invariant()
        def the_projection_keeps_up_and_the_report_answers(self) -> None:
            head = self.ledger.store.tree_size()
            projection = self.client.app.state.projection  # type: ignore[attr-defined]
            assert projection.wait_for(head, 10), f"the projection stalled at {projection.tracked()} of {head}"
            health = self.client.get("/healthz")
            assert health.status_code == 200 and health.json()["projection"]["fault"] is None, health.text
            report = self.client.get("/v1/reports/compliance", params={"as_of": str(head)}, headers=self.monitor)
            assert report.status_code == 200, report.text
            self.reports[head] = report.content

        def teardown(self) -> None:
            try:
                projection = self.client.app.state.projection  # type: ignore[attr-defined]
                projection.rebuild()
                for position, live in self.reports.items():
                    rebuilt = self.client.get("/v1/reports/compliance", params={"as_of": str(position)}, headers=self.monitor)
                    assert rebuilt.content == live, f"the rebuilt report as of position {position} differs"
            finally:
                self.stack.close()

    run_state_machine_as_test(
        Postings,
        settings=settings(
            max_examples=12,
            stateful_step_count=40,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
        ),
    )
