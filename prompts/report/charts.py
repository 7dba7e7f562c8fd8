"""The report's charts: engine results drawn by :mod:`charts.lifecycle`, as SVG, with localised titles and alt text.

Each chart names the report section it belongs to. A chart whose data the dataset lacks is left out (no empty
axes): no leads → the funnel starts at customers; no subscriptions → no MRR bridge; no orders → no P(alive) chart.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd

from charts.figure import to_svg
from charts.lifecycle import (
    DriverPoint,
    FunnelBar,
    cohort_heatmap_chart,
    distribution_chart,
    driver_lift_chart,
    health_by_segment_chart,
    mrr_bridge_chart,
    stage_flow_chart,
    stage_funnel_chart,
)
from charts.locale import NumberFormat
from lifecycle.clv.customer_value import predict_customer_value
from lifecycle.errors import LifecycleError
from lifecycle.health.score import score_health
from lifecycle.metrics.cohorts import cohort_retention
from lifecycle.metrics.flow import transition_matrix
from lifecycle.metrics.registry import compute_metric
from lifecycle.metrics.revenue_movements import revenue_movements
from lifecycle.scope import Scope, Window
from lifecycle.snapshot import snapshot_of
from lifecycle.stages.drivers import progression_drivers
from lifecycle.stages.funnel import find_bottleneck, stage_funnel
from prompts.report import i18n

TOP_DRIVER_POINTS = 8


@dataclass(frozen=True)
class ReportChart:
    """One chart: a stable key, the section it belongs to, its title and alt text, and the SVG."""

    key: str
    section: str
    title: str
    alt: str
    svg: bytes


def _funnel(dataset: Any, language: str, nf: NumberFormat) -> ReportChart | None:
    model = dataset.stage_model
    funnel = stage_funnel(dataset, model)
    if not funnel.steps:
        return None
    stagnation = compute_metric(dataset, "stagnation_rate")
    per_stage = {key: (sub.value, sub.sample_size) for key, sub in stagnation.breakdown}
    neck = find_bottleneck(funnel, per_stage, dataset.config.small_sample)
    names = {s.id: i18n.stage_name(language, s.id, s.name) for s in model.stages}
    rates = {c.to_stage: c.rate for c in funnel.conversions}
    bars = [FunnelBar(names[s.stage], s.reached, s.population, rates.get(s.stage), neck is not None and neck.stage == s.stage)
            for s in funnel.steps]
    title = i18n.text(language, "chart.funnel")
    populations = {"leads": i18n.text(language, "leads"), "customers": i18n.text(language, "customers")}
    svg = to_svg(stage_funnel_chart(bars, nf, title, populations, i18n.text(language, "bottleneck")))
    alt = title + ": " + "; ".join(f"{b.label} {nf.count(b.reached)}" + (f" ({nf.percent(b.conversion)})" if b.conversion is not None else "")
                                   for b in bars)
    return ReportChart("funnel", "overview", title, alt, svg)


def _flow(dataset: Any, language: str, nf: NumberFormat) -> ReportChart | None:
    model = dataset.stage_model
    start = dataset.window.start - timedelta(days=1)
    matrix = transition_matrix(dataset, model, start, dataset.as_of)
    if matrix.to_numpy().sum() == 0:
        return None
    names = {s.id: i18n.stage_name(language, s.id, s.name) for s in model.stages}

    def label(state: str) -> str:
        return names.get(state) or i18n.text(language, f"state.{state}")

    heading = i18n.text(language, "chart.flow")
    title = heading + f" ({start.isoformat()} → {dataset.as_of.isoformat()})"
    svg = to_svg(stage_flow_chart(matrix.to_numpy().tolist(), [label(r) for r in matrix.index], [label(c) for c in matrix.columns],
                                  nf, heading, i18n.text(language, "axis.from"), i18n.text(language, "axis.to")))
    stay = sum(int(matrix.loc[s, s]) for s in matrix.index if s in matrix.columns)
    alt = f"{title}: {nf.count(int(matrix.to_numpy().sum()))} {i18n.text(language, 'customers')}, {nf.count(stay)} =."
    return ReportChart("flow", "flow", title, alt, svg)


def _mrr(dataset: Any, language: str, nf: NumberFormat) -> ReportChart | None:
    if not dataset.has("subscriptions"):
        return None
    rows = [r for r in revenue_movements(dataset).rows if not r.partial][-24:]
    if not rows:
        return None
    months = [r.label for r in rows]
    parts: dict[str, Sequence[float]] = {key: [getattr(r, key) for r in rows]
                                         for key in ("new", "expansion", "reactivation", "contraction", "churn")}
    labels = {key: i18n.text(language, f"mrr.{key}") for key in parts}
    title = i18n.text(language, "chart.mrr")
    svg = to_svg(mrr_bridge_chart(months, parts, labels, [r.net_new for r in rows], nf, title, i18n.text(language, "mrr.net")))
    alt = f"{title} {months[0]} – {months[-1]}: " + "; ".join(f"{r.label} {nf.compact_money(r.net_new)}" for r in rows[-3:])
    return ReportChart("mrr", "growth_expansion", title, alt, svg)


def cohort_window(dataset: Any) -> Window:
    """From the first day of the earliest signup month in scope to as_of: every cohort the data has."""
    signups = dataset.customers()["signup_date"].dropna()
    if signups.empty:
        return dataset.window
    first = signups.min()
    return Window(date(first.year, first.month, 1), dataset.as_of)


def _cohorts(dataset: Any, language: str, nf: NumberFormat) -> ReportChart | None:
    wide = dataset.rescoped(Scope(dataset.as_of, cohort_window(dataset), dataset.filters))
    table = cohort_retention(wide, mode="recurring", basis="logo")
    if not table.cohorts:
        return None
    title = i18n.text(language, "chart.cohorts")
    svg = to_svg(cohort_heatmap_chart(table.cohorts, table.sizes, table.values, nf, title, i18n.text(language, "axis.months_since")))
    alt = f"{title}: {len(table.cohorts)} ({table.cohorts[0]} – {table.cohorts[-1]})"
    return ReportChart("cohorts", "adoption", title, alt, svg)


def _health(dataset: Any, language: str, nf: NumberFormat) -> ReportChart | None:
    snapshot = snapshot_of(dataset)
    alive = snapshot[~snapshot["churned"].fillna(False).astype(bool)].reset_index(drop=True)
    if alive.empty:
        return None
    frame = score_health(alive, dataset.health_profile).frame
    customers = dataset.customers().set_index("customer_id")
    known = customers["segment"] if "segment" in customers else {}
    segment = pd.Series(frame.index.astype(str), index=frame.index).map(known).astype("string").fillna("—")
    segments = sorted(set(segment))
    bands: dict[str, Sequence[int]] = {band: [int(((segment == s) & (frame["band"] == band)).sum()) for s in segments]
                                       for band in ("red", "yellow", "green")}
    title = i18n.text(language, "chart.health")
    labels = {b: i18n.text(language, f"band.{b}") for b in bands}
    svg = to_svg(health_by_segment_chart(segments, bands, labels, nf, title))
    alt = title + ": " + "; ".join(f"{s} " + "/".join(nf.count(bands[b][i]) for b in ("red", "yellow", "green")) for i, s in enumerate(segments))
    return ReportChart("health", "risk", title, alt, svg)


def _drivers(dataset: Any, language: str, nf: NumberFormat) -> ReportChart | None:
    model = dataset.stage_model
    report = progression_drivers(dataset, model)
    names = {s.id: i18n.stage_name(language, s.id, s.name) for s in model.stages}
    rows = [r for r in report.rows if not r.small_sample and r.difference is not None]
    rows = sorted(rows, key=lambda r: -abs(r.difference or 0.0))[:TOP_DRIVER_POINTS]
    if not rows:
        return None
    points = []
    for row in rows:
        source, _, outcome = row.transition.partition("->")
        where = names.get(source, source) + " → " + (i18n.text(language, "state.churned") if outcome == "churned" else "…")
        points.append(DriverPoint(f"{i18n.signal_name(language, row.signal)} · {where}", row.difference,  # type: ignore[arg-type]
                                  row.difference_low, row.difference_high, row.with_signal.n + row.without_signal.n))
    title = i18n.text(language, "chart.drivers")
    svg = to_svg(driver_lift_chart(points, nf, title, i18n.text(language, "axis.points"), i18n.text(language, "caveat")))
    alt = title + ": " + "; ".join(f"{p.label} {nf.points(p.difference)}" for p in points[:4])
    return ReportChart("drivers", "flow", title, alt, svg)


def _clv(dataset: Any, language: str, nf: NumberFormat) -> ReportChart | None:
    if not dataset.has("orders"):
        return None
    try:
        table = predict_customer_value(dataset)
    except LifecycleError:
        return None
    values = table.frame["p_alive"].dropna().tolist()
    if not values:
        return None
    title = i18n.text(language, "chart.clv")
    svg = to_svg(distribution_chart(values, nf, title, i18n.text(language, "axis.p_alive"), i18n.text(language, "axis.customers"), True))
    return ReportChart("clv", "loyalty_advocacy", title, f"{title}: {nf.count(len(values))} {i18n.text(language, 'customers')}", svg)


BUILDERS: tuple[Callable[[Any, str, NumberFormat], ReportChart | None], ...] = (_funnel, _flow, _drivers, _mrr, _cohorts, _health, _clv)


def report_charts(dataset: Any, language: str = "en") -> list[ReportChart]:
    """Every chart the dataset supports, in report order (funnel first)."""
    nf = NumberFormat(language, dataset.config.revenue.currency)
    return [chart for build in BUILDERS if (chart := build(dataset, language, nf)) is not None]
