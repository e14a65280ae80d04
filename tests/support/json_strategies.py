"""Hypothesis strategies for what a JSON parser can hand our readers, shared by the fuzz tests."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

LONE_SURROGATES = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
"""Legal as JSON escapes (``"\\ud800"``), unencodable as UTF-8: a reader must clean them."""
STRICT_JSON_NUMBERS: st.SearchStrategy[int | float] = (
    st.integers() | st.integers(min_value=10**300, max_value=10**310) | st.floats(allow_nan=False, allow_infinity=False)
)
"""Integers of any size (some beyond any float) and finite floats: the numbers standard JSON can hold."""


def json_scalars(
    texts: st.SearchStrategy[str], *, numbers: st.SearchStrategy[int | float] = STRICT_JSON_NUMBERS
) -> st.SearchStrategy[Any]:
    """Any JSON scalar: null, booleans, ``numbers`` and ``texts``."""
    return st.none() | st.booleans() | numbers | texts


def json_values(
    texts: st.SearchStrategy[str],
    *,
    numbers: st.SearchStrategy[int | float] = STRICT_JSON_NUMBERS,
    keys: st.SearchStrategy[str] | None = None,
    max_size: int,
    max_leaves: int,
) -> st.SearchStrategy[Any]:
    """Any JSON value: :func:`json_scalars`, and lists and objects of them (their keys from ``keys``, else
    from ``texts``), at most ``max_size`` items a level and ``max_leaves`` in all."""
    return st.recursive(
        json_scalars(texts, numbers=numbers),
        lambda children: (
            st.lists(children, max_size=max_size) | st.dictionaries(keys or texts, children, max_size=max_size)
        ),
        max_leaves=max_leaves,
    )
