"""JSON columns are decoded by orjson, with the standard library behind it for what orjson
refuses, so whatever a column holds reads back as the standard library reads it."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from app.db import _json_loads

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@given(JSON_VALUES)
def test_a_column_reads_back_as_the_standard_library_reads_it(value) -> None:
    text = json.dumps(value)
    assert _json_loads(text) == json.loads(text)
    assert _json_loads(text.encode()) == json.loads(text)


def test_an_integer_past_64_bits_is_read_whole() -> None:
    text = json.dumps({"big": 2**80, "small": -(2**70)})
    assert _json_loads(text) == {"big": 2**80, "small": -(2**70)}
