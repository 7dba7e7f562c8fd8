"""The expression layer: the engine's aggregates written once, as portable SQL, run by every engine.

Queries are written in one reference dialect (SQLite's, the embedded default) with ``?`` parameters and
identifiers from the schema allowlist. ``compile_sql`` parses such a query with SQLGlot once and writes it in
the dialect of the connection that runs it (``Connection.dialect``: ``sqlite``, ``duckdb``, ``spark``,
``postgres``…), keeping every bound parameter in place — values are never inlined. Compiled text is cached
per (query, dialect), so a repeated aggregate costs one dictionary look-up.

Why SQLGlot and not Ibis or a DataFrame API: measured and argued in docs/architecture.md ("Expression layer").
"""

from __future__ import annotations

from functools import lru_cache

import sqlglot
from sqlglot.errors import SqlglotError

from lifecycle.errors import QueryError

REFERENCE_DIALECT = "sqlite"
"""The dialect engine queries are written in."""


@lru_cache(maxsize=1024)
def compile_sql(sql: str, dialect: str) -> str:
    """``sql`` (one statement in ``REFERENCE_DIALECT``) written in ``dialect``; unchanged for the reference
    dialect itself. ``QueryError`` when SQLGlot cannot parse or write it."""
    if dialect == REFERENCE_DIALECT:
        return sql
    try:
        (compiled,) = sqlglot.transpile(sql, read=REFERENCE_DIALECT, write=dialect)
    except (SqlglotError, ValueError) as exc:
        raise QueryError(f"the query cannot be written for {dialect}: {exc}") from None
    return compiled
