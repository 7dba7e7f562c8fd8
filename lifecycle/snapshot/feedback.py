"""The NPS and ticket sections' per-customer frames as aggregates in the database, instead of the tables read whole.

At a million customers the NPS responses and tickets are 1.2M and 1.6M rows: read, typed and grouped in pandas they
cost a whole-snapshot build more than their aggregates do in the database (the invoices went the same way,
``lifecycle.snapshot.sql.invoice_frame``). Each frame here is what ``lifecycle.snapshot.tables`` computes from the
as-of tables (its pandas path stays for the datasets that derive their tables in memory, ``Dataset.earlier``), in one
portable statement compiled for the connection's engine:

- NPS: the latest response to as_of per customer — the last row in (``responded_at``, ``response_id``) order, an
  empty ``responded_at`` (unparsable, sorted last) counting as the latest, as the stable pandas sort places it.
- Tickets: open (not closed by as_of: a later close is unknown on as_of), open high/urgent, opened in the last 90
  days, and the CSAT sum and count of those closed in them (the mean is taken here: integer scores sum exactly, so it
  is the pandas mean bit for bit). Priorities are classified in pandas (``str.lower`` as the pandas path) from one
  ``DISTINCT`` look-up and bound as an ``IN`` list; more than ``MAX_DISTINCT`` of them: None (the pandas path).

Dates compare as ISO-8601 text, as the importer stores them (their text order is their order in time).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta

import numpy as np
import pandas as pd

from lifecycle.dataset import Dataset, to_datetime
from lifecycle.memo import remember
from lifecycle.snapshot.frames import as_float
from lifecycle.snapshot.sql import _cutoff, _in_list, _run, _scope_sql

MAX_DISTINCT = 500
"""Distinct raw values of a classified column up to which they are bound as ``IN`` lists (past it: free text, and the
section reads the table into pandas instead)."""


def classified(dataset: Dataset, table: str, alias: str, column: str, accept: Callable[[pd.Series], pd.Series]) -> list[object] | None:
    """The raw values of ``table.column`` (alias ``alias``) that ``accept`` (raw values as a Series → a boolean mask)
    accepts, from one ``DISTINCT`` look-up per identity of the data; None when there are more than ``MAX_DISTINCT``."""
    def distinct() -> list[object]:
        sql = f"SELECT DISTINCT {alias}.{column} AS value FROM {table} {alias} WHERE {alias}.{column} IS NOT NULL"
        return list(_run(dataset, sql, [])["value"])

    raw = distinct() if dataset.identity is None else remember((f"distinct:{table}.{column}", dataset.identity), distinct)
    if len(raw) > MAX_DISTINCT:
        return None
    keep = accept(pd.Series(raw, dtype="object")).fillna(False).to_numpy(dtype=bool)
    return [value for value, kept in zip(raw, keep, strict=True) if kept]


def nps_frame(dataset: Dataset) -> pd.DataFrame:
    """Per customer with a response by as_of: ``nps_latest`` (the score, float) and ``nps_latest_at`` (datetime)."""
    scope, scope_params = _scope_sql(dataset, "n.customer_id")
    sql = ("SELECT r.customer_id AS customer_id, r.score AS nps_latest, r.responded_at AS nps_latest_at FROM ("
           "SELECT n.customer_id AS customer_id, n.score AS score, n.responded_at AS responded_at, "
           "ROW_NUMBER() OVER (PARTITION BY n.customer_id ORDER BY CASE WHEN n.responded_at = '' THEN 1 ELSE 0 END DESC, "
           "n.responded_at DESC, n.response_id DESC) AS latest "
           f"FROM nps_responses n WHERE n.responded_at < ? AND {scope}) r WHERE r.latest = 1")
    frame = as_float(_run(dataset, sql, [_cutoff(dataset), *scope_params]), ["nps_latest"])
    frame["nps_latest_at"] = (to_datetime(frame["nps_latest_at"]) if len(frame)
                              else pd.Series([], dtype="datetime64[us]"))
    return frame


def ticket_frame(dataset: Dataset, high_priorities: Sequence[str]) -> pd.DataFrame | None:
    """Per customer with a ticket opened by as_of: ``tickets_open``, ``tickets_open_high``, ``tickets_90d`` and
    ``csat_avg_90d`` (definitions: ``lifecycle.snapshot.tables.ticket_columns``); None when the priorities are free
    text (more than ``MAX_DISTINCT`` distinct values)."""
    wanted = set(high_priorities)
    high = classified(dataset, "tickets", "t", "priority", lambda raw: raw.astype("string").str.lower().isin(wanted))
    if high is None:
        return None
    high_sql, high_params = _in_list("t.priority", tuple(high))  # type: ignore[arg-type]
    cut = _cutoff(dataset)
    since = (dataset.as_of - timedelta(days=89)).isoformat()  # (as_of − 90 days, as_of] in whole days
    closed = "(t.closed_at IS NOT NULL AND t.closed_at <> '' AND t.closed_at < ?)"  # closed as known on as_of
    recent = f"{closed} AND t.closed_at >= ?"
    scope, scope_params = _scope_sql(dataset, "t.customer_id")
    sql = ("SELECT t.customer_id AS customer_id, "
           f"SUM(CASE WHEN NOT {closed} THEN 1 ELSE 0 END) AS tickets_open, "
           f"SUM(CASE WHEN NOT {closed} AND {high_sql} THEN 1 ELSE 0 END) AS tickets_open_high, "
           "SUM(CASE WHEN t.opened_at >= ? THEN 1 ELSE 0 END) AS tickets_90d, "
           f"SUM(CASE WHEN {recent} THEN t.csat END) AS csat_sum, "
           f"COUNT(CASE WHEN {recent} THEN t.csat END) AS csat_count "
           f"FROM tickets t WHERE t.opened_at < ? AND {scope} GROUP BY t.customer_id")
    params: list[object] = [cut, cut, *high_params, since, cut, since, cut, since, cut, *scope_params]
    frame = as_float(_run(dataset, sql, params), ["tickets_open", "tickets_open_high", "tickets_90d", "csat_sum", "csat_count"])
    count = frame["csat_count"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, frame["csat_sum"].to_numpy() / count, np.nan)
    frame["csat_avg_90d"] = mean.astype("float64")
    return frame.drop(columns=["csat_sum", "csat_count"])
