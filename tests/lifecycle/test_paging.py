"""Opaque cursors (lifecycle/paging.py): round trip, refusal of other queries, malformed input."""

from __future__ import annotations

import base64
import json

import pytest

from lifecycle.errors import QueryError
from lifecycle.paging import INVALID_CURSOR, decode_cursor, encode_cursor, query_digest


def test_a_cursor_round_trips_its_offset_for_the_same_query() -> None:
    digest = query_digest({"sort": "clv", "model": "bg_nbd"})
    assert decode_cursor(encode_cursor(40, digest), digest, "other query") == 40


def test_the_digest_does_not_depend_on_key_order() -> None:
    assert query_digest({"a": 1, "b": [2]}) == query_digest({"b": [2], "a": 1}) != query_digest({"a": 2, "b": [2]})


def test_a_cursor_from_another_query_is_refused_with_the_callers_message() -> None:
    cursor = encode_cursor(20, query_digest({"sort": "clv"}))
    with pytest.raises(QueryError, match="^other query$"):
        decode_cursor(cursor, query_digest({"sort": "p_alive"}), "other query")


def _raw(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize("cursor", [
    pytest.param("garbage!", id="not-base64"),
    pytest.param(_raw([1, 2]), id="not-an-object"),
    pytest.param(_raw({"v": 1, "o": 5}), id="no-digest"),
    pytest.param(_raw({"v": 2, "o": 5, "q": "x"}), id="other-version"),
    pytest.param(_raw({"v": 1, "o": -1, "q": "x"}), id="negative-offset"),
    pytest.param(_raw({"v": 1, "o": True, "q": "x"}), id="boolean-offset"),
    pytest.param(_raw({"v": 1, "o": "5", "q": "x"}), id="string-offset"),
])
def test_malformed_cursors_are_query_errors(cursor: str) -> None:
    with pytest.raises(QueryError) as caught:
        decode_cursor(cursor, "x", "other query")
    assert str(caught.value) == INVALID_CURSOR
