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


@given(JSON_VALUES)
def test_a_kept_json_column_reads_as_the_standard_library_reads_it_once_per_text(value) -> None:
    """``KeptJSON``: the same value as a fresh decode; equal text read again is the same
    object (what makes comparing two reads of a view cheap), text past the bound a new one."""
    from app.db import _KEPT_JSON_MAX_CHARS, KeptJSON

    kept = KeptJSON()
    text = json.dumps(value)
    first = kept.process_result_value(text, None)
    assert first == json.loads(text)
    assert kept.process_result_value(text.encode().decode(), None) is first  # equal, not same
    big = json.dumps({"pad": "x" * _KEPT_JSON_MAX_CHARS, "value": value})
    again = kept.process_result_value(big, None)
    assert again == json.loads(big) and kept.process_result_value(big, None) is not again
    assert kept.process_result_value(None, None) is None
