"""The arguments the analytical tools share — as_of, period, population filters — and their resolution.

Input types are tight (ISO dates, bounded integers, enums); values that depend on the data (a segment or
plan name, a customer id) are checked at call time against the distinct values in the database, and an
unknown value is a ``QueryError`` listing the valid ones. Column names in those lookups come from the
``Dimension`` enum, never from the client; values are bound parameters.

``resolve_scope`` turns the arguments into a ``ResolvedScope`` (as_of defaulting to the data's last day,
``lifecycle.dataset.data_end``) and ``ScopeOut`` reports it in every result.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable
from enum import StrEnum
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, Field

from lifecycle.dataset import data_end
from lifecycle.errors import QueryError
from lifecycle.filters import Dimension, Filters, Window
from tools.runtime import Work

MAX_VALUES_LISTED = 40
MAX_FILTER_VALUES = 20

AsOf = Annotated[date | None, Field(description="Default: last day of data.")]
PeriodMonths = Annotated[int, Field(ge=1, le=36, description="Months ending on as_of.")]
FilterValue = Annotated[str, Field(max_length=100)]
FilterValues = Annotated[list[FilterValue] | None, Field(max_length=MAX_FILTER_VALUES)]


STAGE = "stage"
FilterKey = StrEnum("FilterKey", {**{d.value: d.value for d in Dimension}, STAGE: STAGE})  # type: ignore[misc]
"""What a population filter may name: a customer attribute (``Dimension``) or the lifecycle stage on as_of."""

PopulationFilters = dict[FilterKey, list[str]]  # type: ignore[valid-type]
"""Key → values: customers with any of the values for each key given, all keys combined. The limits (at most
``MAX_FILTER_VALUES`` values of at most ``MAX_VALUE_CHARS`` characters per key) are checked by ``resolve_filters``, not
spelled out in each tool's schema (tools/list stays small)."""
MAX_VALUE_CHARS = 100

FiltersArg = Annotated[PopulationFilters | None, Field()]
"""``{"plan": ["Pro"], "stage": ["churned"]}``: the schema's key enum and list-of-strings values say it all; the
server instructions describe it once."""


class ScopeOut(BaseModel):
    """The scope a result was computed for."""

    as_of: date = Field(description="Day used as as_of.")
    as_of_inferred: bool = Field(description="True when as_of was not given and the data's last day was used.")
    period_start: date
    period_end: date
    filters: dict[str, list[str] | str] = Field(description="Filters applied (empty: every customer).")


@dataclass(frozen=True)
class ResolvedScope:
    as_of: date
    as_of_inferred: bool
    window: Window
    filters: Filters

    def out(self) -> ScopeOut:
        return ScopeOut(as_of=self.as_of, as_of_inferred=self.as_of_inferred, period_start=self.window.start,
                        period_end=self.window.end, filters=self.filters.to_dict())  # type: ignore[arg-type]

    def key(self) -> tuple[Any, ...]:
        return (self.as_of, self.window, self.filters)


def distinct_values(conn: sqlite3.Connection, dimension: Dimension) -> list[str]:
    """Distinct non-empty values of ``dimension`` among customers, sorted."""
    column = dimension.customer_column  # from the enum, never from the client
    try:
        rows = conn.execute(f'SELECT DISTINCT "{column}" FROM customers WHERE "{column}" IS NOT NULL '
                            f'AND "{column}" <> \'\' ORDER BY 1').fetchall()
    except sqlite3.OperationalError:
        return []
    return [str(r[0]) for r in rows]


def listing(values: list[str]) -> str:
    """``a, b, c`` (at most ``MAX_VALUES_LISTED``, then how many more)."""
    shown = ", ".join(values[:MAX_VALUES_LISTED]) or "(none in the data)"
    return shown + (f" … and {len(values) - MAX_VALUES_LISTED} more" if len(values) > MAX_VALUES_LISTED else "")


def check_values(conn: sqlite3.Connection, dimension: Dimension, chosen: list[str]) -> tuple[str, ...]:
    """``chosen`` unchanged when every value exists in the data; else ``QueryError`` listing the valid values."""
    if not chosen:
        return ()
    valid = distinct_values(conn, dimension)
    unknown = [v for v in chosen if v not in valid]
    if unknown:
        raise QueryError(f"unknown {dimension.value} value(s) {', '.join(repr(v) for v in unknown)}; valid values: "
                         f"{listing(valid)}. Call the tool again with one of them.")
    return tuple(dict.fromkeys(chosen))


def resolve_filters(conn: sqlite3.Connection, filters: PopulationFilters | None, stages: tuple[str, ...] = ()) -> Filters:
    """``Filters`` from the argument, each value checked against the data (a stage against ``stages``)."""
    if not filters:
        return Filters()
    chosen: dict[str, Any] = {}
    for key, values in filters.items():
        if len(values) > MAX_FILTER_VALUES or any(len(v) > MAX_VALUE_CHARS for v in values):
            raise QueryError(f"filters.{key}: at most {MAX_FILTER_VALUES} values of at most {MAX_VALUE_CHARS} characters; "
                             "call again with fewer or shorter values")
        if str(key) == STAGE:
            chosen[STAGE] = check_stages(values, stages)
        else:
            chosen[Dimension(str(key)).value] = check_values(conn, Dimension(str(key)), values)
    return Filters(**chosen)


def stage_ids(work: Work, as_of: date) -> tuple[str, ...]:
    """The stages a ``stage`` filter may name: the customer stages of the model the dataset uses (the configured one;
    ``auto`` resolved from the dataset's tables), then ``churned``."""
    from lifecycle.stages import model_for

    return tuple(s.id for s in model_for(work.dataset(as_of)).customer_stages) + ("churned",)


def check_stages(chosen: list[str], valid: tuple[str, ...]) -> tuple[str, ...]:
    """``chosen`` unchanged when every stage is one of ``valid``; else ``QueryError`` listing them."""
    unknown = [v for v in chosen if v not in valid]
    if unknown:
        raise QueryError(f"unknown stage value(s) {', '.join(repr(v) for v in unknown)}; valid values: "
                         f"{listing(list(valid))}. Call the tool again with one of them.")
    return tuple(dict.fromkeys(chosen))


EARLIEST_AS_OF = date(1900, 1, 1)
LATEST_AS_OF = date(2999, 12, 31)


def resolve_scope(work: Work, as_of: date | None, filters: PopulationFilters | None, period_months: int = 12) -> ResolvedScope:
    """as_of (default: the data's last day), the trailing window and the checked filters.

    as_of must lie in 1900-01-01..2999-12-31 (the engine shifts dates by months and days around it).
    """
    if as_of is not None and not EARLIEST_AS_OF <= as_of <= LATEST_AS_OF:
        raise QueryError(f"as_of {as_of.isoformat()} is out of range: pick a day between {EARLIEST_AS_OF} and "
                         f"{LATEST_AS_OF}, or omit as_of to use the data's last day")
    inferred = as_of is None
    day = data_end(work.db_path) if as_of is None else as_of
    stages = stage_ids(work, day) if filters and STAGE in {str(k) for k in filters} else ()
    with work.connect() as conn:
        checked = resolve_filters(conn, filters, stages)
    return ResolvedScope(day, inferred, Window.trailing_months(day, period_months), checked)


def check_customer(conn: sqlite3.Connection, customer_id: str) -> None:
    """``QueryError`` (with up to 5 ids sharing a prefix) unless ``customer_id`` is in the customers table."""
    if conn.execute("SELECT 1 FROM customers WHERE customer_id = ?", (customer_id,)).fetchone():
        return
    near = customer_ids_like(conn, customer_id[:3], 5)
    hint = f" Ids that begin alike: {', '.join(near)}." if near else ""
    raise QueryError(f"unknown customer_id {customer_id!r}.{hint} Find ids with list_at_risk or the customer_id "
                     "completions, then call again.")


def customer_ids_like(conn: sqlite3.Connection, prefix: str, limit: int = 100) -> list[str]:
    """Customer ids starting with ``prefix`` (case-sensitive, LIKE wildcards escaped), sorted, at most ``limit``."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = conn.execute("SELECT customer_id FROM customers WHERE customer_id LIKE ? ESCAPE '\\' ORDER BY customer_id "
                        "LIMIT ?", (escaped + "%", limit)).fetchall()
    return [str(r[0]) for r in rows]


# --- a small in-process memo for expensive, deterministic results (fact bundles, health tables) ----------------

T = TypeVar("T")
_MEMO: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
_MEMO_LOCK = threading.Lock()
MEMO_SIZE = 16


def file_identity(path: Path) -> tuple[str, int, int]:
    """(resolved path, size, mtime) — a re-import changes it, so stale results are never served."""
    stat = os.stat(path)
    return (str(path.resolve()), stat.st_size, stat.st_mtime_ns)


def memo(work: Work, kind: str, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
    """``compute()`` once per (database identity, configuration, kind, key) in this process (LRU of ``MEMO_SIZE``)."""
    full = (file_identity(work.db_path), work.ctx.config.fingerprint(), kind, key)
    with _MEMO_LOCK:
        if full in _MEMO:
            _MEMO.move_to_end(full)
            return _MEMO[full]  # type: ignore[no-any-return]
    value = compute()
    with _MEMO_LOCK:
        _MEMO[full] = value
        while len(_MEMO) > MEMO_SIZE:
            _MEMO.popitem(last=False)
    return value


def clear_memo() -> None:
    """Forget every memoised result (tests use it to compare fresh computations)."""
    with _MEMO_LOCK:
        _MEMO.clear()
