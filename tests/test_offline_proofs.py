"""Properties: the inclusion and consistency proofs the API serves verify with the bundled
verify.py's own functions, against roots recomputed from the exported bundle's leaves, for random
positions and tree sizes; a damaged proof does not. On SQLite and PostgreSQL."""

from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.builders import batch, contact, separation
from tests.harness import Tokens
from tests.offline import bundled_verifier
from tests.test_bundle import export_via_api

CASES = 12  # 12 identifications and 24 contact attempts, plus the tokens: about 40 leaves

proof_settings = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@dataclass(frozen=True)
class Served:
    client: TestClient
    auditor: dict[str, str]
    offline: ModuleType  # the bundle's verify.py
    roots: list[bytes]  # roots[n]: the root of the first n leaves, recomputed offline

    @property
    def size(self) -> int:
        return len(self.roots) - 1

    def sizes(self, data: st.DataObject, larger: str, smaller: str) -> tuple[int, int]:
        """A tree size up to the log's, then a number from 1 to it, drawn under these labels."""
        size = data.draw(st.integers(1, self.size), label=larger)
        return size, data.draw(st.integers(1, size), label=smaller)

    def proof(self, kind: str, **params: int) -> dict[str, Any]:
        """The `kind` proof the API serves the auditor, asked for `params`."""
        response = self.client.get(f"/v1/proofs/{kind}", params=params, headers=self.auditor)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def served(client: TestClient, tokens: Tokens, tmp_path: Path) -> Served:
    auditor = tokens.get("OIG", "auditor")
    for n in range(CASES):
        client.post("/v1/events", json=batch(separation(f"FRTF-{n:06d}")), headers=tokens.get("FRTF"))
        client.post("/v1/events", json=batch(contact(f"FRTF-{n:06d}"), contact(f"FRTF-{n:06d}")), headers=tokens.get("KIND"))
    bundle = export_via_api(client, auditor, tmp_path)
    offline = bundled_verifier(bundle)
    leaves = [bytes.fromhex(line) for line in (bundle / "leaves.txt").read_text().split()]
    assert len(leaves) >= 3 * CASES
    return Served(client, auditor, offline, [offline.root_of(leaves[:n]) for n in range(len(leaves) + 1)])


def _damaged(nodes: list[bytes], index: int) -> list[bytes]:
    damaged = list(nodes)
    damaged[index] = bytes([nodes[index][0] ^ 1]) + nodes[index][1:]
    return damaged


@proof_settings
@given(data=st.data())
def test_inclusion_proofs_from_the_api_verify_offline(served: Served, data: st.DataObject) -> None:
    tree_size, position = served.sizes(data, "tree_size", "position")

    proof = served.proof("inclusion", position=position, tree_size=tree_size)

    root = served.roots[tree_size]
    assert proof["root_hash"] == root.hex()
    leaf, path = bytes.fromhex(proof["leaf_hash"]), [bytes.fromhex(node) for node in proof["audit_path"]]
    assert served.offline.verify_inclusion(position - 1, tree_size, leaf, path, root)
    if path:
        assert not served.offline.verify_inclusion(position - 1, tree_size, leaf, _damaged(path, len(path) - 1), root)
    assert not served.offline.verify_inclusion(position - 1, tree_size, _damaged([leaf], 0)[0], path, root)


@proof_settings
@given(data=st.data())
def test_consistency_proofs_from_the_api_verify_offline(served: Served, data: st.DataObject) -> None:
    second, first = served.sizes(data, "second", "first")

    proof = served.proof("consistency", first=first, second=second)

    first_root, second_root = served.roots[first], served.roots[second]
    assert (proof["first_root"], proof["second_root"]) == (first_root.hex(), second_root.hex())
    nodes = [bytes.fromhex(node) for node in proof["proof"]]
    assert served.offline.verify_consistency(first, second, first_root, second_root, nodes)
    if nodes:
        assert not served.offline.verify_consistency(first, second, first_root, second_root, _damaged(nodes, 0))
    if first < second:
        assert not served.offline.verify_consistency(first, second, _damaged([first_root], 0)[0], second_root, nodes)
