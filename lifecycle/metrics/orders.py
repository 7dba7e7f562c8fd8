"""Purchase metrics for non-contractual businesses: repeat purchase rate, purchase frequency, average order value.

Only *valid* orders count: status not refunded / cancelled (``lifecycle.metrics.common.valid_orders``).
Sources: seed 000 (purchase progression: "how customers increase their investment over time"), seed 004
(revenue stage: LTV components), the e-commerce definitions of repeat rate, frequency and AOV.
"""

from __future__ import annotations

import pandas as pd

from lifecycle.dataset import Dataset
from lifecycle.metrics.common import in_window, small_sample_note, target, valid_orders, with_notes
from lifecycle.metrics.registry import MetricDefinition, MetricGroup
from lifecycle.metrics.results import MetricResult, TargetBand, Unit, ratio_result


def _sorted_orders(dataset: Dataset) -> pd.DataFrame:
    return valid_orders(dataset).sort_values(["customer_id", "ordered_at", "order_id"])


def repeat_purchase_rate(dataset: Dataset) -> MetricResult:
    """Repeat purchase rate: customers with ≥ 2 valid orders by as_of ÷ customers with ≥ 1, among customers whose first order is in the window.

    Anchoring on the first order (a first-purchase cohort) keeps long-standing buyers from inflating the
    rate. Recent first-time buyers have had little time to return, so the rate reads low near as_of.
    Unit: ratio. Edge cases: nobody placed a first order in the period → None. Source: e-commerce repeat
    customer rate; seed 000 (purchase progression).
    """
    orders = _sorted_orders(dataset)
    per = orders.groupby("customer_id").agg(first=("ordered_at", "min"), orders=("order_id", "size"))
    cohort = in_window(per, "first", dataset)
    repeaters = int((cohort["orders"] >= 2).sum())
    result = ratio_result("repeat_purchase_rate", float(repeaters), float(len(cohort)), Unit.RATIO, dataset.scope,
                          target(dataset, "repeat_purchase_rate"), empty_reason="no customer placed a first order in the period")
    return with_notes(result, small_sample_note(dataset, len(cohort)))


def purchase_frequency(dataset: Dataset) -> MetricResult:
    """Purchase frequency: valid orders placed in the window ÷ distinct customers who placed them.

    Unit: count (orders per buyer in the period, ≥ 1). Edge cases: no orders in the period → None.
    Source: e-commerce purchase frequency (a factor of historical CLV = AOV × frequency × lifespan).
    """
    orders = in_window(_sorted_orders(dataset), "ordered_at", dataset)
    buyers = int(orders["customer_id"].nunique())
    result = ratio_result("purchase_frequency", float(len(orders)), float(buyers), Unit.COUNT, dataset.scope,
                          target(dataset, "purchase_frequency"), empty_reason="no orders in the period")
    return with_notes(result, small_sample_note(dataset, buyers))


def average_order_value(dataset: Dataset) -> MetricResult:
    """Average order value: Σ amount of valid orders placed in the window ÷ their number.

    Unit: money. Edge cases: no orders in the period → None. Refunded / cancelled rows are left out of
    both sums. Source: e-commerce AOV.
    """
    orders = in_window(_sorted_orders(dataset), "ordered_at", dataset)
    result = ratio_result("average_order_value", float(orders["amount"].sum()), float(len(orders)), Unit.MONEY, dataset.scope,
                          target(dataset, "average_order_value"), empty_reason="no orders in the period")
    return with_notes(result, small_sample_note(dataset, len(orders), "orders"))


def _definition(metric_id: str, name: str, formula: str, numerator: str, denominator: str, compute, unit: Unit, sections: tuple[str, ...] = (),
                target: TargetBand | None = None) -> MetricDefinition:
    return MetricDefinition(id=metric_id, name=name, group=MetricGroup.ORDERS, formula=formula, unit=unit,
                            numerator=numerator, denominator=denominator, required_tables=("orders",),
                            source="e-commerce standard definitions; seed 000 (purchase progression)", compute=compute,
                            target=target, sections=sections, description=(compute.__doc__ or "").strip().splitlines()[0])


DEFINITIONS: tuple[MetricDefinition, ...] = (
    _definition("repeat_purchase_rate", "Repeat purchase rate",
                "customers with ≥ 2 valid orders by as_of ÷ customers with ≥ 1, among customers whose first order is in the period",
                "first-time buyers of the period with a second order", "customers whose first order is in the period",
                repeat_purchase_rate, Unit.RATIO, sections=("growth_expansion",)),
    _definition("purchase_frequency", "Purchase frequency", "valid orders in the period ÷ distinct buyers in the period",
                "valid orders in the period", "distinct buyers in the period", purchase_frequency, Unit.COUNT, sections=("growth_expansion",)),
    _definition("average_order_value", "Average order value", "Σ amount of valid orders in the period ÷ valid orders in the period",
                "order revenue in the period", "valid orders in the period", average_order_value, Unit.MONEY, sections=("growth_expansion",)),
)
