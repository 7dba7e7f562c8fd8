"""The expression layer: the engine's aggregates written once, as portable SQL, run by every engine.

Queries are written in one reference dialect (SQLite's, the embedded default) with ``?`` parameters and
identifiers from the schema allowlist. ``compile_sql`` parses such a query with SQLGlot once and writes it in
the dialect of the connection that runs it (``Connection.dialect``: ``sqlite``, ``duckdb``, ``spark``,
``postgres``…), keeping every bound parameter in place — values are never inlined. Compiled text is cached
per (query, dialect), so a repeated aggregate costs one dictionary look-up.

Connections of other engines compile what they are given (``in_dialect``): any portable SQL handed to
``Connection.query`` runs on every engine. Text ``compile_sql`` already wrote for a dialect is a ``CompiledSql``
and is not compiled twice, so callers may compile explicitly (``lifecycle/snapshot/sql.py``) or not.

Why SQLGlot and not Ibis or a DataFrame API: measured and argued in docs/architecture.md ("Expression layer").
"""

from __future__ import annotations

from functools import lru_cache

from lifecycle.errors import QueryError

REFERENCE_DIALECT = "sqlite"
"""The dialect engine queries are written in."""


class CompiledSql(str):
    """SQL text already written for ``dialect`` by ``compile_sql`` (a ``str``: it runs wherever text does)."""

    dialect: str

    def __new__(cls, text: str, dialect: str) -> CompiledSql:
        compiled = super().__new__(cls, text)
        compiled.dialect = dialect
        return compiled


@lru_cache(maxsize=1024)
def compile_sql(sql: str, dialect: str) -> str:
    """``sql`` (one statement in ``REFERENCE_DIALECT``) written in ``dialect`` (a ``CompiledSql``); unchanged for the
    reference dialect itself. ``QueryError`` when SQLGlot cannot parse or write it."""
    if dialect == REFERENCE_DIALECT:
        return sql
    import sqlglot  # only other dialects need it: the SQLite path never loads SQLGlot (about 0.1 s of a start)
    from sqlglot.errors import SqlglotError

    try:
        (compiled,) = sqlglot.transpile(sql, read=REFERENCE_DIALECT, write=dialect)
    except (SqlglotError, ValueError) as exc:
        raise QueryError(f"the query cannot be written for {dialect}: {exc}") from None
    return CompiledSql(compiled, dialect)


def in_dialect(sql: str, dialect: str) -> str:
    """``sql`` as ``dialect`` runs it: text ``compile_sql`` already wrote for ``dialect`` as it is, portable SQL in the
    reference dialect compiled (what a ``Connection`` of a non-reference engine does with each statement)."""
    if isinstance(sql, CompiledSql) and sql.dialect == dialect:
        return sql
    return compile_sql(sql, dialect)
