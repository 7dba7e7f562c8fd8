"""Advocacy metrics: NPS and its promoter/detractor shares, referral rate, referral conversion, advocacy generation.

"Customers active in the period" follows ``lifecycle.metrics.common.active_in_window`` (paying subscribers,
else buyers, else users with activity, else customers on record) and the rule used is stated in ``reason``.
Sources: seed 002 (NPS 30–50+, referral rate "Referred / Total Customers" 10–30 %), seed 004 (NPS,
referral conversion rate), seed 000 ("Advocacy generation: rate of advocacy development").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lifecycle.dataset import Dataset, next_day_iso
from lifecycle.filters import Filters
from lifecycle.membership import is_member
from lifecycle.memo import remember
from lifecycle.metrics.common import (
    active_in_window,
    all_customers_by,
    in_window,
    kept_customers,
    per_customer,
    small_sample_note,
    sorted_ids,
    target,
    with_notes,
)
from lifecycle.metrics.event_aggregates import aggregate, in_scope
from lifecycle.metrics.registry import SEED_002, MetricDefinition, MetricGroup
from lifecycle.metrics.results import MetricResult, TargetBand, Unit, missing_result, ratio_result
from lifecycle.scope import Scope

__all__ = ["DEFINITIONS", "in_window", "latest_nps_scores", "nps"]


def latest_nps_scores(dataset: Dataset) -> pd.Series:
    """Each customer's latest NPS score in the window (ties broken by response id), indexed by customer id, sorted;
    once per scope (``per_customer``: a customer's latest response is their own; NPS, its shares and advocacy generation
    read it)."""
    return per_customer(dataset, "latest_nps_scores", _latest_nps_scores)


def _latest_nps_scores(dataset: Dataset) -> pd.Series:
    if not dataset.has("nps_responses"):
        responses = in_window(dataset.table("nps_responses"), "responded_at", dataset)
        latest = responses.sort_values(["customer_id", "responded_at", "response_id"]).groupby("customer_id").tail(1)
        return latest.set_index("customer_id")["score"].astype("int64").sort_index()
    latest = latest_nps_candidates(dataset)  # the rows at each customer's latest time
    if latest["customer_id"].duplicated().any():  # a tie at a customer's latest time: the greatest response id wins
        latest = latest.sort_values(["customer_id", "response_id"]).drop_duplicates("customer_id", keep="last")
    return latest.set_index("customer_id")["score"].astype("int64").sort_index()


LATEST_NPS_SQL = (
    "SELECT n.customer_id AS customer_id, n.response_id AS response_id, n.score AS score "
    "FROM nps_responses n JOIN (SELECT r.customer_id AS latest_customer, MAX(r.responded_at) AS latest_at "
    "FROM nps_responses r WHERE r.responded_at >= ? AND r.responded_at < ? GROUP BY r.customer_id) m "
    "ON n.customer_id = m.latest_customer AND n.responded_at = m.latest_at")
"""Each customer's responses at their latest ``responded_at`` in ``[window start, min(as_of, window end) + 1 day)``."""


def latest_nps_candidates(dataset: Dataset) -> pd.DataFrame:
    """The NPS responses that can be a customer's latest in the window: per customer who responded in the window, every
    response at their latest ``responded_at`` there (ties included: ``response_id`` breaks them) — ``customer_id``,
    ``response_id`` (text) and ``score`` (integer), of the scope's customers.

    One aggregate in the database (``event_aggregates.aggregate``: the covering index on (customer, time) answers the
    ``MAX``; memoised per data identity and window, kept as Parquet between processes) instead of reading, parsing and
    sorting every response known on as_of — 1.18M rows, ~5.5 s of CPU at a million customers, for ~0.6M latest ones.
    Times compare as ISO text, as ``Dataset`` compares them: the importer writes a time column in one format
    (``YYYY-MM-DD``, or ``YYYY-MM-DDTHH:MM:SS`` in UTC), in which text order is time order and equal texts are equal
    times, so these are the rows that sort last per customer by (``responded_at``, ``response_id``) among the window's
    responses (an empty time is no time, as ``Dataset.table`` parses it: before every window)."""
    end = min(next_day_iso(dataset.as_of), next_day_iso(dataset.window.end))
    frame = aggregate(dataset, LATEST_NPS_SQL, (dataset.window.start.isoformat(), end), counts=("score",), persist=True,
                      table="nps_responses")
    return in_scope(dataset, frame.astype({"response_id": "string"}))


def nps(dataset: Dataset) -> MetricResult:
    """Account-level Net Promoter Score over the window.

    Formula: NPS = (promoters − detractors) ÷ respondents × 100, where each customer's *latest* response in
    the window counts once (one voice per account); promoters score 9–10, passives 7–8, detractors 0–6.
    Range −100..100. Source: Reichheld (2003); seed 002 target 30–50+.
    """
    spec_target = target(dataset, "nps")
    scores = latest_nps_scores(dataset)
    if scores.empty:
        return missing_result("nps", Unit.SCORE, dataset.scope, "no NPS responses in the period", spec_target)
    promoters = int((scores >= 9).sum())
    detractors = int((scores <= 6).sum())
    respondents = len(scores)
    result = MetricResult(
        metric_id="nps", value=(promoters - detractors) / respondents * 100.0, unit=Unit.SCORE, scope=dataset.scope,
        sample_size=respondents, numerator=float(promoters - detractors), denominator=float(respondents),
        target=spec_target,
    )
    return with_notes(result, small_sample_note(dataset, respondents, "respondents"))


def _nps_share(dataset: Dataset, metric_id: str, promoters: bool) -> MetricResult:
    scores = latest_nps_scores(dataset)
    hits = (scores >= 9) if promoters else (scores <= 6)
    result = ratio_result(metric_id, float(hits.sum()), float(len(scores)), Unit.RATIO, dataset.scope, target(dataset, metric_id),
                          empty_reason="no NPS responses in the period")
    return with_notes(result, small_sample_note(dataset, len(scores), "respondents"))


def nps_promoter_share(dataset: Dataset) -> MetricResult:
    """Promoter share: respondents whose latest score in the window is 9–10 ÷ respondents. Unit: ratio. Source: Reichheld (2003)."""
    return _nps_share(dataset, "nps_promoter_share", promoters=True)


def nps_detractor_share(dataset: Dataset) -> MetricResult:
    """Detractor share: respondents whose latest score in the window is 0–6 ÷ respondents. Unit: ratio (lower is better). Source: Reichheld (2003)."""
    return _nps_share(dataset, "nps_detractor_share", promoters=False)


def referrers_in_window(dataset: Dataset) -> pd.Index:
    """Sorted ids of customers who made at least one referral in the window (once per scope; a referrer's referrals are
    their own rows, so a filtered scope's are the whole base's masked: ``per_customer``)."""
    return per_customer(dataset, "referrers_in_window", _referrers_in_window)


def _referrers_in_window(dataset: Dataset) -> pd.Index:
    referrals = in_window(dataset.table("referrals"), "referred_at", dataset)
    return sorted_ids(referrals["referrer_customer_id"])


def referral_rate(dataset: Dataset) -> MetricResult:
    """Referral rate: customers active in the window who made ≥ 1 referral in the window ÷ customers active in the window.

    Reads the seed's "Referred / Total Customers" as the share of the active customer base that referred
    (referrers, not referrals: one prolific advocate counts once). Referrers not active in the period are
    not counted. Unit: ratio; target 10–30 %. Edge cases: no active customers → None. Source: seed 002.
    """
    active, rule = active_in_window(dataset)
    referred = int(is_member(active, referrers_in_window(dataset)).sum())
    result = ratio_result("referral_rate", float(referred), float(len(active)), Unit.RATIO, dataset.scope,
                          target(dataset, "referral_rate"), empty_reason="no customers active in the period")
    return with_notes(result, f"active = {rule}", small_sample_note(dataset, len(active)))


def referral_conversion_rate(dataset: Dataset) -> MetricResult:
    """Referral conversion: referrals made in the window whose referred customer had signed up by as_of ÷ referrals made in the window.

    ``referred_customer_id`` carries no date, so a referral counts as converted only when that customer
    exists with ``signup_date <= as_of`` (whatever the filters; referred customers need not match them).
    Ids naming no known customer are not converted and are counted in ``reason``. Unit: ratio.
    Edge cases: no referrals in the period → None. Source: seed 004 ("referral conversion rate").
    """
    made, named, converted = _referral_counts(dataset)
    unknown = named - converted
    result = ratio_result("referral_conversion_rate", float(converted), float(made), Unit.RATIO, dataset.scope,
                          target(dataset, "referral_conversion_rate"), empty_reason="no referrals in the period")
    note = f"{unknown} referral(s) name a customer not signed up by as_of and are not counted as converted" if unknown else None
    return with_notes(result, note, small_sample_note(dataset, made, "referrals"))


def _referral_counts(dataset: Dataset) -> tuple[int, int, int]:
    """Referrals made in the window by the scope's customers: how many, how many name a referred customer, and how many
    of those name a customer signed up by as_of. A filtered scope counts the whole base's referrals of the window
    (each flagged once, memoised per data identity, as_of, window and configuration) whose referrer it keeps — the
    rows ``Dataset.table`` keeps — instead of reading and checking its own per group and period."""
    if dataset.identity is None or dataset.filters.is_empty():
        made, named, converted = _referral_flags(dataset)
        return len(made), int(named.sum()), int(converted.sum())
    whole = dataset.rescoped(Scope(dataset.as_of, dataset.window, Filters()))
    referrers, named, converted = remember(("referral-flags", dataset.identity, dataset.as_of, dataset.window,
                                            dataset.config.fingerprint()), lambda: _referral_flags(whole))
    keep = kept_customers(dataset, referrers)
    return int(keep.sum()), int((named & keep).sum()), int((converted & keep).sum())


def _referral_flags(dataset: Dataset) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """The window's referrals of ``dataset``: referrer ids, whether each names a referred customer, and whether that
    customer had signed up by as_of (whatever the filters)."""
    referrals = in_window(dataset.table("referrals"), "referred_at", dataset)
    referred = referrals["referred_customer_id"]
    named = referred.notna().to_numpy(dtype=bool)
    converted = np.zeros(len(referrals), dtype=bool)
    converted[named] = is_member(referred[named].astype(str), all_customers_by(dataset, dataset.as_of))
    return referrals["referrer_customer_id"], named, converted


def advocacy_generation_rate(dataset: Dataset) -> MetricResult:
    """Advocacy generation: customers active in the window who are promoters *and* referred ÷ customers active in the window.

    A promoter's latest NPS score in the window is 9–10; referred = made ≥ 1 referral in the window. An
    advocate both says and does: the seed's "rate of advocacy development" read as the share of the active
    base that has become an active advocate in the period. Unit: ratio. Edge cases: no active customers →
    None. Source: seed 000 ("Advocacy generation"), seed 002 (champions: high usage, high NPS → referrals).
    """
    active, rule = active_in_window(dataset)
    scores = latest_nps_scores(dataset)
    promoters = pd.Index(scores[scores >= 9].index.astype(str))
    advocates = is_member(active, promoters) & is_member(active, referrers_in_window(dataset))
    result = ratio_result("advocacy_generation_rate", float(advocates.sum()), float(len(active)), Unit.RATIO, dataset.scope,
                          target(dataset, "advocacy_generation_rate"), empty_reason="no customers active in the period")
    return with_notes(result, f"active = {rule}", small_sample_note(dataset, len(active)))


def _definition(metric_id: str, name: str, formula: str, numerator: str, denominator: str, compute, tables: tuple[str, ...],
                unit: Unit = Unit.RATIO, higher_is_better: bool = True, source: str = "seed 002", sections: tuple[str, ...] = (),
                target: TargetBand | None = None) -> MetricDefinition:
    return MetricDefinition(id=metric_id, name=name, group=MetricGroup.ADVOCACY, formula=formula, unit=unit,
                            numerator=numerator, denominator=denominator, required_tables=tables, source=source,
                            compute=compute, target=target, sections=sections, higher_is_better=higher_is_better,
                            description=(compute.__doc__ or "").strip().splitlines()[0])


DEFINITIONS: tuple[MetricDefinition, ...] = (
    _definition("nps", "Net Promoter Score",
                "(promoters − detractors) ÷ respondents × 100; latest response per customer in the period; promoters 9–10, detractors 0–6",
                "promoters − detractors", "customers who responded in the period", nps, ("nps_responses",), unit=Unit.SCORE,
                source="Reichheld 2003; seed 002", sections=("loyalty_advocacy",),
                target=TargetBand(30.0, 50.0, SEED_002, open_ended_high=True)),
    _definition("nps_promoter_share", "Promoter share", "respondents with latest score 9–10 ÷ respondents (period)",
                "promoters", "customers who responded in the period", nps_promoter_share, ("nps_responses",), source="Reichheld 2003"),
    _definition("nps_detractor_share", "Detractor share", "respondents with latest score 0–6 ÷ respondents (period)",
                "detractors", "customers who responded in the period", nps_detractor_share, ("nps_responses",),
                higher_is_better=False, source="Reichheld 2003"),
    _definition("referral_rate", "Referral rate", "active customers who made ≥ 1 referral in the period ÷ customers active in the period",
                "active customers who referred", "customers active in the period", referral_rate, ("referrals",),
                source="seed 002 (Referred / Total Customers, 10–30%)", sections=("loyalty_advocacy",),
                target=TargetBand(0.10, 0.30, SEED_002, open_ended_high=True)),
    _definition("referral_conversion_rate", "Referral conversion rate",
                "referrals in the period whose referred customer signed up by as_of ÷ referrals in the period",
                "referrals converted by as_of", "referrals made in the period", referral_conversion_rate, ("referrals",),
                source="seed 004 (referral conversion rate)", sections=("loyalty_advocacy",)),
    _definition("advocacy_generation_rate", "Advocacy generation rate",
                "active customers who are promoters (latest NPS 9–10) and referred in the period ÷ customers active in the period",
                "active promoters who referred", "customers active in the period", advocacy_generation_rate,
                ("nps_responses", "referrals"), source="seed 000 (advocacy generation); seed 002 (champions)", sections=("loyalty_advocacy",)),
)
