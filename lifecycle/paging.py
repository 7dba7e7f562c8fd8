"""Opaque page cursors bound to the query that issued them (the at-risk list, the CLV list).

A cursor is the base64url (unpadded) of ``{"v": CURSOR_VERSION, "o": offset, "q": digest}``, where ``digest``
(:func:`query_digest`) identifies the list's query — its filters and ordering, never its as_of — so a cursor passed
back with other arguments is refused (``QueryError``) instead of silently paging a different list.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from typing import Any, Final

from lifecycle.errors import QueryError

CURSOR_VERSION: Final = 1
INVALID_CURSOR: Final = ("invalid cursor: pass the next_cursor of the previous page unchanged, or omit cursor to start "
                         "from the first page")


def query_digest(payload: Mapping[str, Any]) -> str:
    """The first 16 hex digits of the sha256 of ``payload`` as canonical JSON (keys sorted)."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def encode_cursor(offset: int, digest: str) -> str:
    """The cursor of the page starting at ``offset`` of the list whose query has ``digest``."""
    raw = json.dumps({"v": CURSOR_VERSION, "o": offset, "q": digest}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, digest: str, mismatch: str) -> int:
    """The offset in ``cursor``; ``QueryError`` when it is malformed (:data:`INVALID_CURSOR`) or was issued for a
    query with another digest (``mismatch``, which should tell the caller what to repeat)."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        version, offset, issued_for = data["v"], data["o"], data["q"]
    except (binascii.Error, UnicodeDecodeError, ValueError, KeyError, TypeError):
        raise QueryError(INVALID_CURSOR) from None
    if version != CURSOR_VERSION or not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise QueryError(INVALID_CURSOR)
    if issued_for != digest:
        raise QueryError(mismatch)
    return offset
