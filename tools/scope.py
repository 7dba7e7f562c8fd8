"""The arguments the analytical tools share — as_of, period, population filters — and their resolution.

Input types are tight (ISO dates, bounded integers, enums); values that depend on the data (a segment or
plan name, a customer id) are checked at call time against the distinct values in the data source, and an
unknown value is a ``QueryError`` listing the valid ones. Column names in those lookups come from the
``Dimension`` enum, never from the client; values are bound parameters.

``resolve_scope`` checks the filter values and resolves the rest through ``lifecycle.scope.Scope.resolve`` (the
one place CLI, MCP and plans resolve as_of, period and filters); ``ScopeOut`` reports the scope in every result.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, Field

from lifecycle.errors import QueryError
from lifecycle.filters import Dimension, Filters
from lifecycle.memo import MEMO, remember
from lifecycle.scope import Scope, listing
from lifecycle.sources import Connection, DataSource
from lifecycle.sources import customer_exists as _customer_exists
from lifecycle.sources import customer_ids_like as _customer_ids_like
from tools.runtime import Work

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

    @classmethod
    def of(cls, scope: Scope) -> ScopeOut:
        """The wire shape of ``scope``."""
        return cls(as_of=scope.as_of, as_of_inferred=scope.as_of_inferred, period_start=scope.window.start,
                   period_end=scope.window.end, filters=scope.filters.to_dict())  # type: ignore[arg-type]


def known_values(source: DataSource, dimension: Dimension) -> list[str]:
    """The values a filter on ``dimension`` can select, sorted: the customers' values, and for ``plan`` the
    subscriptions' plans too (the set ``lifecycle.scope.dimension_values`` reads) — from the data source's own
    look-ups, which it makes once per identity of the data (``SqlSource.distinct_values``), not a scan of the customers
    (and of the subscriptions for ``plan``) on every call that filters or completes: over a second at a million
    customers."""
    values = set(source.distinct_values("customers", dimension.customer_column))
    if dimension is Dimension.PLAN:
        values |= set(source.distinct_values("subscriptions", "plan"))
    return sorted(values)


def check_values(source: DataSource, dimension: Dimension, chosen: list[str]) -> tuple[str, ...]:
    """``chosen`` unchanged (repeats dropped) when every value exists in the data (``known_values``); else
    ``QueryError`` listing the valid values."""
    if not chosen:
        return ()
    return _checked_in(source, dimension, chosen)


def is_known(source: DataSource, dimension: Dimension, value: str) -> bool:
    """Whether ``value`` is one of ``known_values(source, dimension)``, asked value by value
    (``DataSource.has_value``: a look-up that stops at the first row holding it) instead of listing every value —
    the customers' column, and for ``plan`` the subscriptions' plans too."""
    if source.has_value("customers", dimension.customer_column, value):
        return True
    return dimension is Dimension.PLAN and source.has_value("subscriptions", "plan", value)


def _checked_in(source: DataSource, dimension: Dimension, chosen: list[str]) -> tuple[str, ...]:
    """``_checked`` against ``known_values``, listed only when some value is not known (``is_known``): the error
    names the valid values; a filter on known values costs a look-up per value."""
    if all(is_known(source, dimension, v) for v in chosen):
        return tuple(dict.fromkeys(chosen))
    return _checked(dimension, chosen, known_values(source, dimension))


def _checked(dimension: Dimension, chosen: list[str], valid: list[str]) -> tuple[str, ...]:
    unknown = [v for v in chosen if v not in valid]
    if unknown:
        raise QueryError(f"unknown {dimension.value} value(s) {', '.join(repr(v) for v in unknown)}; valid values: "
                         f"{listing(valid)}. Call the tool again with one of them.")
    return tuple(dict.fromkeys(chosen))


def resolve_filters(source: DataSource, filters: PopulationFilters | None, stages: tuple[str, ...] = ()) -> Filters:
    """``Filters`` from the argument, each value checked against the data's values (``known_values``; a stage against
    ``stages``)."""
    if not filters:
        return Filters()
    chosen: dict[str, Any] = {}
    for key, values in filters.items():
        if len(values) > MAX_FILTER_VALUES or any(len(v) > MAX_VALUE_CHARS for v in values):
            raise QueryError(f"filters.{key}: at most {MAX_FILTER_VALUES} values of at most {MAX_VALUE_CHARS} characters; "
                             "call again with fewer or shorter values")
        if str(key) == STAGE:
            chosen[STAGE] = check_stages(values, stages)
        elif values:
            dimension = Dimension(str(key))
            chosen[dimension.value] = _checked_in(source, dimension, values)
        else:
            chosen[Dimension(str(key)).value] = ()
    return Filters(**chosen)


def stage_ids(work: Work, as_of: date) -> tuple[str, ...]:
    """The stages a ``stage`` filter may name: the customer stages of the model the dataset uses (the configured one;
    ``auto`` resolved from the dataset's tables), then ``churned``."""
    return tuple(s.id for s in work.dataset(as_of).stage_model.customer_stages) + ("churned",)


def check_stages(chosen: list[str], valid: tuple[str, ...]) -> tuple[str, ...]:
    """``chosen`` unchanged when every stage is one of ``valid``; else ``QueryError`` listing them."""
    unknown = [v for v in chosen if v not in valid]
    if unknown:
        raise QueryError(f"unknown stage value(s) {', '.join(repr(v) for v in unknown)}; valid values: "
                         f"{listing(list(valid))}. Call the tool again with one of them.")
    return tuple(dict.fromkeys(chosen))


def resolve_scope(work: Work, as_of: date | None, filters: PopulationFilters | None, period_months: int = 12) -> Scope:
    """The call's scope: ``Scope.resolve`` (as_of defaulting to the data's last day, a given as_of checked against the
    data's range, the trailing ``period_months``), then the filter values checked against the data (a stage against the
    stage model the dataset uses on that as_of)."""
    scope = Scope.resolve(work.source, as_of, period_months=period_months)
    stages = stage_ids(work, scope.as_of) if filters and STAGE in {str(k) for k in filters} else ()
    work.step()
    return scope.with_filters(resolve_filters(work.source, filters, stages))


def check_customer(conn: Connection, customer_id: str) -> None:
    """``QueryError`` (with up to 5 ids sharing a prefix) unless ``customer_id`` is in the customers table."""
    if _customer_exists(conn, customer_id):
        return
    near = customer_ids_like(conn, customer_id[:3], 5)
    hint = f" Ids that begin alike: {', '.join(near)}." if near else ""
    raise QueryError(f"unknown customer_id {customer_id!r}.{hint} Find ids with list_at_risk or the customer_id "
                     "completions, then call again.")


def customer_ids_like(conn: Connection, prefix: str, limit: int = 100) -> list[str]:
    """Customer ids starting with ``prefix`` (case-sensitive), sorted, at most ``limit``."""
    return _customer_ids_like(conn, prefix, limit)


# --- expensive, deterministic results (fact bundles, health tables) in the process memo ------------------------

T = TypeVar("T")


def memo(work: Work, kind: str, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
    """``compute()`` once per (data source identity, configuration, kind, key) in this process (``lifecycle.memo``:
    concurrent calls wait for one computation, least recently used results go first past the memory budget); a
    re-import changes the identity, so stale results are never served.

    The identity is read before ``compute`` opens anything: had the data changed meanwhile, the result is filed under
    the older identity, which no later call asks for."""
    return remember(("tool", work.source.identity(), work.ctx.config.fingerprint(), kind, key), compute)


def clear_memo() -> None:
    """Forget every memoised result (tests use it to compare fresh computations)."""
    MEMO.clear()
