"""Advocacy metrics: NPS, referral rate, referral conversion, advocacy generation."""

from __future__ import annotations

import pandas as pd

from lifecycle.dataset import Dataset
from lifecycle.registry import TARGETS, MetricDefinition, MetricGroup, definition
from lifecycle.results import MetricResult, Unit, missing_result


def in_window(frame: pd.DataFrame, column: str, dataset: Dataset) -> pd.DataFrame:
    """Rows of ``frame`` whose ``column`` falls inside the scope's window (inclusive days)."""
    start = pd.Timestamp(dataset.window.start)
    end = pd.Timestamp(dataset.window.end) + pd.Timedelta(days=1)
    values = frame[column]
    return frame[(values >= start) & (values < end)]


def nps(dataset: Dataset) -> MetricResult:
    """Account-level Net Promoter Score over the window.

    Formula: NPS = (promoters − detractors) ÷ respondents × 100, where each customer's *latest* response in
    the window counts once (one voice per account); promoters score 9–10, passives 7–8, detractors 0–6.
    Range −100..100. Source: Reichheld (2003); seed 002 target 30–50+.
    """
    spec = definition("nps")
    responses = in_window(dataset.table("nps_responses"), "responded_at", dataset)
    if responses.empty:
        return missing_result("nps", Unit.SCORE, dataset.scope, "no NPS responses in the period", spec.target_for(dataset))
    latest = responses.sort_values(["customer_id", "responded_at", "response_id"]).groupby("customer_id").tail(1)
    scores = latest["score"].astype("int64")
    promoters = int((scores >= 9).sum())
    detractors = int((scores <= 6).sum())
    respondents = len(scores)
    return MetricResult(
        metric_id="nps", value=(promoters - detractors) / respondents * 100.0, unit=Unit.SCORE, scope=dataset.scope,
        sample_size=respondents, numerator=float(promoters - detractors), denominator=float(respondents),
        target=spec.target_for(dataset),
    )


DEFINITIONS: tuple[MetricDefinition, ...] = (
    MetricDefinition(
        id="nps", name="Net Promoter Score", group=MetricGroup.ADVOCACY,
        formula="(promoters − detractors) ÷ respondents × 100; latest response per customer in the period; promoters 9–10, detractors 0–6",
        unit=Unit.SCORE, numerator="promoters − detractors", denominator="customers who responded in the period",
        required_tables=("nps_responses",), source="Reichheld 2003; seed 002", compute=nps, target=TARGETS["nps"],
    ),
)
