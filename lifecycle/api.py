"""The Python front door: ``lifecycle.open(source)`` and the ``Lifecycle`` it returns.

A ``Lifecycle`` is a data source seen at one scope (as_of, period, filters — resolved by ``Scope.resolve``
exactly as the CLI, the MCP tools and the plans resolve it) with one engine configuration. Its methods return
the engine's answers as pandas DataFrames (one row per customer, metric or month) or typed results
(``MetricResult``, ``FactBundle``). It keeps one read-only connection and the tables it has read, so asking
several questions of the same scope reads the data once; ``at`` and ``where`` give another scope on the same
source. Close it (or use it in a ``with`` block) when done.

Example (``docs/python.md`` runs it in the tests)::

    import lifecycle
    with lifecycle.open("demo.db") as ds:      # as_of: the data's last day
        ds.metrics()                           # one row per metric
        ds.where(segment="SMB").at_risk(10)    # the ten riskiest SMB customers
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from lifecycle.clv.customer_value import predict_customer_value
from lifecycle.clv.retention_forecast import COHORT_MONTHS
from lifecycle.clv.subscription_value import predict_subscription_value
from lifecycle.config import DEFAULT_CONFIG, EngineConfig, load_config
from lifecycle.dataset import Dataset
from lifecycle.errors import QueryError
from lifecycle.facts import FactBundle, build_facts
from lifecycle.filters import Dimension, Filters
from lifecycle.health import RiskQuery, live_health, rank_at_risk
from lifecycle.metrics.registry import compute_all, compute_metric, definition
from lifecycle.metrics.results import MetricResult
from lifecycle.metrics.revenue_movements import revenue_movements
from lifecycle.scope import DEFAULT_PERIOD_MONTHS, Scope, Window, check_filter_values
from lifecycle.snapshot import snapshot_of
from lifecycle.sources import DataSource, open_configured
from lifecycle.stages import classify_customers, stage_distribution

METRIC_COLUMNS = ("metric_id", "name", "group", "value", "unit", "numerator", "denominator", "sample_size", "target",
                  "status", "reason")


def open(source: DataSource | str | Path, as_of: date | str | None = None, config: EngineConfig | str | Path | None = None,
         *, period_months: int = DEFAULT_PERIOD_MONTHS, engine: str | None = None, **filters: str | list[str]) -> Lifecycle:
    """Open ``source`` (a ``DataSource``, or the path of a Lifecycle SQLite file — or a Parquet folder — read by
    ``engine``, default the configuration's ``[source] engine``, else ``sqlite``) at ``as_of``.

    ``as_of`` (a date or ``YYYY-MM-DD``) defaults to the data's last day; a day outside the data is a
    ``QueryError`` naming the data's range. ``config`` is an ``EngineConfig`` or the path of a TOML file
    (``docs/configuration.md``). ``filters`` select customers by dimension, e.g. ``segment="SMB"`` or
    ``plan=["Pro", "Team"]`` (dimensions: ``lifecycle.filters.Dimension``; ``plan`` is the subscription's plan where
    there is one); a value the data does not hold is a ``QueryError`` listing the valid ones.
    """
    engine_config = config if isinstance(config, EngineConfig) else (load_config(Path(config)) if config else DEFAULT_CONFIG)
    opened = open_configured(source, engine, engine_config.source)
    day = date.fromisoformat(as_of) if isinstance(as_of, str) else as_of
    scope = Scope.resolve(opened, day, filters=_filters(filters), period_months=period_months)
    return Lifecycle(opened, scope, engine_config, period_months)


def _filters(given: dict[str, str | list[str]]) -> Filters:
    chosen: dict[Dimension | str, tuple[str, ...]] = {}
    for name, values in given.items():
        try:
            dimension = Dimension(name)
        except ValueError:
            raise QueryError(f"unknown filter {name!r}; valid filters: {', '.join(d.value for d in Dimension)}") from None
        chosen[dimension] = (values,) if isinstance(values, str) else tuple(values)
    return Filters.by_dimension(chosen)


@dataclass
class Lifecycle:
    """A data source at one scope with one configuration; every method computes with the engine (module docstring)."""

    source: DataSource
    scope: Scope
    config: EngineConfig = DEFAULT_CONFIG
    period_months: int = DEFAULT_PERIOD_MONTHS
    _dataset: Dataset | None = field(default=None, repr=False)

    # --- scope ------------------------------------------------------------------------------------------

    @property
    def as_of(self) -> date:
        return self.scope.as_of

    @property
    def dataset(self) -> Dataset:
        """The engine's view of the data at this scope (one connection, tables cached)."""
        if self._dataset is None:
            self._dataset = Dataset.over(self.source, self.scope, self.config)
        return self._dataset

    def at(self, as_of: date | str, period_months: int | None = None) -> Lifecycle:
        """The same source and filters at another day (checked against the data's range)."""
        day = date.fromisoformat(as_of) if isinstance(as_of, str) else as_of
        months = period_months or self.period_months
        return Lifecycle(self.source, Scope.resolve(self.source, day, filters=self.scope.filters, period_months=months),
                         self.config, months)

    def where(self, **filters: str | list[str]) -> Lifecycle:
        """The same day and period for the customers matching ``filters`` (replacing the current filters); a value
        the data does not hold is a ``QueryError`` listing the valid ones (``lifecycle.scope.check_filter_values``)."""
        chosen = _filters(filters)
        connection = self.source.connect()
        try:
            check_filter_values(connection, chosen)
        finally:
            connection.close()
        return Lifecycle(self.source, self.scope.with_filters(chosen), self.config, self.period_months)

    # --- answers ----------------------------------------------------------------------------------------

    def metrics(self, ids: list[str] | tuple[str, ...] | None = None) -> pd.DataFrame:
        """One row per metric (default: the whole registry, ``docs/metrics.md``): value, unit, numerator,
        denominator, sample size, target band, status, and the reason when the data cannot support a value."""
        results = compute_all(self.dataset, tuple(ids) if ids else None)
        rows = [_metric_row(result) for result in results.values()]
        return pd.DataFrame(rows, columns=list(METRIC_COLUMNS)).set_index("metric_id")

    def metric(self, metric_id: str) -> MetricResult:
        """One metric as the engine's typed result (with its breakdown rows)."""
        return compute_metric(self.dataset, metric_id)

    def customers(self) -> pd.DataFrame:
        """The per-customer snapshot: one row per customer signed up by as_of with every feature the stages,
        health and risk read (``docs/snapshot-contract.md``), indexed by customer_id."""
        return snapshot_of(self.dataset).set_index("customer_id")

    def stages(self, evidence: bool = False) -> pd.DataFrame:
        """Every customer's lifecycle stage under the configured stage model (``docs/stages.md``): stage, the rule
        that fired and the overlays (``evidence=True`` adds each rule check's values), indexed by customer_id."""
        table = classify_customers(snapshot_of(self.dataset), self.dataset.stage_model, evidence=evidence)
        return table.set_index("customer_id")

    def stage_counts(self) -> pd.DataFrame:
        """Customers (and open leads) per stage, with shares (``lifecycle.stages.stage_distribution``)."""
        return stage_distribution(self.dataset, self.dataset.stage_model)

    def health(self) -> pd.DataFrame:
        """Health of the live (not churned) customers: score 0–100, band, segment, most impactful component,
        coverage and the 30-day trend, indexed by customer_id (``docs/health-and-risk.md``)."""
        return live_health(self.dataset).table.frame

    def at_risk(self, limit: int | None = 50) -> pd.DataFrame:
        """The at-risk list in order — risk, health, value at stake, priority and one flag per reason — for the
        live customers with at least one reason, at most ``limit`` rows (None: all), indexed by customer_id."""
        live = live_health(self.dataset)
        ranked = rank_at_risk(live.snapshot, live.table, RiskQuery())
        return ranked if limit is None else ranked.head(limit)

    def clv(self, model: str = "auto") -> pd.DataFrame:
        """Customer lifetime value per customer (``docs/clv.md``): ``bg_nbd`` or ``pareto_nbd`` + Gamma-Gamma on
        orders, ``sbg`` on subscriptions (current subscribers' residual value); ``auto`` picks orders when the
        data has them, else subscriptions. Indexed by customer_id."""
        chosen = model if model != "auto" else ("bg_nbd" if self.dataset.has("orders") else "sbg")
        if chosen == "sbg":
            window = Window.trailing_months(self.as_of, COHORT_MONTHS)
            return predict_subscription_value(self.dataset.rescoped(Scope(self.as_of, window, self.scope.filters))).frame
        if chosen not in ("bg_nbd", "pareto_nbd"):
            raise QueryError(f"unknown CLV model {model!r}; valid: auto, bg_nbd, pareto_nbd, sbg")
        return predict_customer_value(self.dataset, model=chosen).frame  # type: ignore[arg-type]

    def facts(self) -> FactBundle:
        """The fact bundle every prompt and plan cites: each computed number with a stable id, unit, display
        text and framework sections (``docs/mcp-server.md``)."""
        return build_facts(self.dataset)

    def movements(self) -> pd.DataFrame:
        """The monthly MRR bridge up to as_of: starting MRR, new, expansion, reactivation, contraction, churn,
        ending MRR and the customers behind each (``docs/metrics.md``), one row per month."""
        return revenue_movements(self.dataset).to_frame()

    # --- lifetime ---------------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection (a later question opens a new one)."""
        if self._dataset is not None:
            self._dataset.close()
            self._dataset = None

    def __enter__(self) -> Lifecycle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        filters = self.scope.filters.to_dict()
        return (f"<Lifecycle {self.source} as of {self.as_of.isoformat()}, period {self.scope.window.start.isoformat()}"
                f"..{self.scope.window.end.isoformat()}{', ' + str(filters) if filters else ''}>")


def _metric_row(result: MetricResult) -> dict[str, Any]:
    spec = definition(result.metric_id)
    return {
        "metric_id": result.metric_id, "name": spec.name, "group": spec.group.value, "value": result.value,
        "unit": result.unit.value, "numerator": result.numerator, "denominator": result.denominator,
        "sample_size": result.sample_size, "target": result.target.describe(result.unit) if result.target else None,
        "status": result.status.value if result.status else None, "reason": result.reason,
    }
