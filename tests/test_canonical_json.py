"""The one compact JSON encoder writes exactly what json.dumps writes with the same settings:
its bytes are hashed (envelope fingerprints) and served (a report's JSON form)."""

import json

from hypothesis import given
from hypothesis import strategies as st

from domain.canonical_json import canonical_json, compact_json

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=20,
)


@given(JSON)
def test_the_canonical_form_is_json_dumps_with_sorted_keys_compact_and_unescaped(value: object) -> None:
    assert canonical_json(value) == json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@given(JSON)
def test_the_compact_form_keeps_the_keys_in_their_order(value: object) -> None:
    assert compact_json(value) == json.dumps(value, separators=(",", ":"), ensure_ascii=False)
