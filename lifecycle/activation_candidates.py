"""Candidate activation / value events: which events, done early, go with customers who stay.

For every event name E, the customers old enough to judge (signed up at least ``early_days + horizon_days`` days
before as_of) are split into those who did E within ``early_days`` days of signup and those who did not. Each group's
*retention* is the share active again in the following ``horizon_days`` days (days early_days+1 .. early_days +
horizon_days after signup; activity = ``activation.active_events``, all events when empty). The candidate's strength
is the *lift* — retention of those who did E ÷ retention of those who did not — with a 95 % interval (Katz log
method), and candidates are ranked by the interval's lower end, so a large lift on a handful of customers does not
outrank a solid one. This is the correlation analysis product-analytics tools offer (PostHog's correlation analysis,
Amplitude's Compass): an association, not a cause — an event done by engaged customers will show up whether or not
it makes them engaged. Sources: D. Katz, J. Baptista, S. P. Azen, M. C. Pike (1978), "Obtaining confidence intervals
for the risk ratio in cohort studies", Biometrics 34:469–474; the Wilson interval for each group's rate.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from lifecycle.dataset import Dataset, next_day_iso, to_datetime
from lifecycle.memo import remember
from lifecycle.metrics.common import as_of_ts, days_after_signup
from lifecycle.metrics.event_aggregates import DAY_SQL, name_summary
from lifecycle.metrics.intervals import Z_95, wilson_interval
from lifecycle.sources.expressions import compile_sql

EARLY_DAYS = 7
HORIZON_DAYS = 30
MIN_GROUP = 10  # customers needed on each side of a split before it is judged
TOP = 5


def risk_ratio_interval(a: int, n1: int, c: int, n0: int, z: float = Z_95) -> tuple[float, float, float] | None:
    """Risk ratio (a/n1) ÷ (c/n0) and its Katz log interval: exp(ln RR ± z·√(1/a − 1/n1 + 1/c − 1/n0)).

    A zero count gets 0.5 added to each of the four cells (Haldane's correction) so the interval stays finite.
    Returns (ratio, low, high); None when a group is empty. Source: Katz et al. (1978), Biometrics 34:469–474.
    """
    if n1 <= 0 or n0 <= 0:
        return None
    if a == 0 or c == 0:
        a, n1, c, n0 = a + 0.5, n1 + 1.0, c + 0.5, n0 + 1.0  # type: ignore[assignment]
    ratio = (a / n1) / (c / n0)
    se = math.sqrt(max(1.0 / a - 1.0 / n1 + 1.0 / c - 1.0 / n0, 0.0))
    return ratio, ratio * math.exp(-z * se), ratio * math.exp(z * se)


@dataclass(frozen=True)
class Candidate:
    """One event's split: customers who did it early vs not, how many of each were retained, and the lift."""

    event_name: str
    did: int
    did_retained: int
    did_not: int
    did_not_retained: int
    lift: float
    lift_low: float
    lift_high: float

    @property
    def rate_did(self) -> float:
        return self.did_retained / self.did

    @property
    def rate_did_not(self) -> float:
        return self.did_not_retained / self.did_not

    def describe(self, early_days: int, horizon_days: int) -> str:
        """'lift 1.8 (95% CI 1.4–2.3): 45% of 320 who did it in the first 7 days were active in days 8–37, vs 25% of 2,900'."""
        return (f"lift {self.lift:.2f} (95% CI {self.lift_low:.2f}–{self.lift_high:.2f}): {self.rate_did:.0%} of {self.did:,} "
                f"who did it in the first {early_days} days were active in days {early_days + 1}–{early_days + horizon_days}, "
                f"vs {self.rate_did_not:.0%} of {self.did_not:,} who did not")

    def to_dict(self) -> dict[str, Any]:
        low, high = wilson_interval(self.did_retained, self.did) or (None, None)
        return {"event_name": self.event_name, "did": self.did, "did_retained": self.did_retained, "did_not": self.did_not,
                "did_not_retained": self.did_not_retained, "rate_did": self.rate_did, "rate_did_interval": [low, high],
                "rate_did_not": self.rate_did_not, "lift": self.lift, "lift_interval": [self.lift_low, self.lift_high]}


@dataclass(frozen=True)
class CandidateReport:
    """Events whose early occurrence separates retained from lapsed customers, best first."""

    early_days: int
    horizon_days: int
    cohort: int  # customers old enough to judge
    retained: int
    candidates: tuple[Candidate, ...] = field(default=())
    note: str | None = None  # why there are no candidates

    def snippet(self) -> str | None:
        """A ready ``[activation]`` config block: the strongest candidate as value event, the top ones as core features."""
        positive = [c for c in self.candidates if c.lift_low > 1.0]
        if not positive:
            return None
        best = positive[0]
        lines = ["[activation]", f"value_event = {json.dumps(best.event_name)}  # {best.describe(self.early_days, self.horizon_days)}",
                 f"within_days = {self.early_days}",
                 f"core_features = {json.dumps([c.event_name for c in positive])}"]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"early_days": self.early_days, "horizon_days": self.horizon_days, "cohort": self.cohort,
                "retained": self.retained, "candidates": [c.to_dict() for c in self.candidates], "note": self.note,
                "snippet": self.snippet()}


def activation_candidates(dataset: Dataset, early_days: int = EARLY_DAYS, horizon_days: int = HORIZON_DAYS,
                          min_group: int = MIN_GROUP, top: int = TOP) -> CandidateReport:
    """Rank event names by how much their early occurrence lifts retention (module docstring for the method).

    Events done by fewer than ``min_group`` eligible customers — or by all but fewer than ``min_group`` — are not
    judged; the ``top`` candidates by the lower end of the lift interval are returned (those whose interval lies
    above 1 are the ones the snippet proposes). Deterministic: ties are broken by event name.
    """
    if not dataset.has("events"):
        return CandidateReport(early_days, horizon_days, 0, 0, note="the dataset has no events")
    customers = dataset.customers()
    cutoff = as_of_ts(dataset) - pd.Timedelta(days=early_days + horizon_days)
    cohort = customers[customers["signup_date"] <= cutoff][["customer_id", "signup_date"]]
    if len(cohort) < 2 * min_group:
        return CandidateReport(early_days, horizon_days, len(cohort), 0,
                               note=f"only {len(cohort)} customer(s) signed up at least {early_days + horizon_days} days before "
                                    f"as_of; at least {2 * min_group} are needed to compare")
    early = _early_events(dataset, cohort, early_days)
    retained_ids = _retained_ids(dataset, cohort, early_days, horizon_days)
    ids = cohort["customer_id"].astype(str)
    n, kept = len(ids), int(ids.isin(retained_ids).sum())
    early = early.assign(retained=early["customer_id"].astype(str).isin(retained_ids))
    per_event = early.groupby("event_name").agg(did=("customer_id", "size"), did_retained=("retained", "sum"))
    found: list[Candidate] = []
    for name, row in per_event.sort_index().iterrows():
        did, did_retained = int(row["did"]), int(row["did_retained"])
        did_not, did_not_retained = n - did, kept - did_retained
        if did < min_group or did_not < min_group:
            continue
        interval = risk_ratio_interval(did_retained, did, did_not_retained, did_not)
        if interval is None:
            continue
        found.append(Candidate(str(name), did, did_retained, did_not, did_not_retained, *interval))
    found.sort(key=lambda c: (-c.lift_low, c.event_name))
    if not found:
        return CandidateReport(early_days, horizon_days, n, kept,
                               note=f"no event was done early by at least {min_group} and left out by at least {min_group} "
                                    f"of the {n} customers old enough to judge")
    return CandidateReport(early_days, horizon_days, n, kept, tuple(found[:top]))


def _early_events(dataset: Dataset, cohort: pd.DataFrame, early_days: int) -> pd.DataFrame:
    """(customer_id, event_name) of the cohort's customers who did the event within ``early_days`` days of signup
    (events before signup count as day 0). A customer did E that early exactly when their *first* E was that early, so
    the per-(customer, event name) first times of ``name_summary`` — one pass in the database, shared with the metrics
    — answer it without reading the events."""
    firsts = name_summary(dataset).rename(columns={"first_at": "occurred_at"})
    timed = days_after_signup(firsts[["customer_id", "event_name", "occurred_at"]], cohort)
    return timed[timed["day"] <= early_days][["customer_id", "event_name"]].reset_index(drop=True)


def _retained_ids(dataset: Dataset, cohort: pd.DataFrame, early_days: int, horizon_days: int) -> set[str]:
    """Ids of the cohort's customers active again on calendar days early_days+1 … early_days+horizon_days after
    signup (``days_after_signup``: whole calendar days), from one aggregate in the database — the calendar days on
    which each customer did an activity event — instead of the activity events themselves."""
    where = ["e.occurred_at < ?"]
    params: list[object] = [next_day_iso(dataset.as_of)]
    names = tuple(dataset.config.activation.active_events)
    if names:  # activity = the configured active events (all events when none are)
        where.append(f"e.event_name IN ({', '.join('?' * len(names))})")
        params += names
    sql = (f"SELECT e.customer_id AS customer_id, {DAY_SQL} AS day FROM events e WHERE {' AND '.join(where)} "
           f"GROUP BY e.customer_id, {DAY_SQL}")

    def run() -> pd.DataFrame:
        days = dataset.connection.query(compile_sql(sql, dataset.connection.dialect), params)
        days["customer_id"] = days["customer_id"].astype("string")
        days["occurred_at"] = to_datetime(days.pop("day")) if len(days) else pd.Series([], dtype="datetime64[us]")
        return days

    # per data and as_of (the parameters carry it), whatever the scope: the cohort selects its customers below
    days = run() if dataset.identity is None else remember(("activity-days", dataset.identity, sql, tuple(params)), run)
    later = days_after_signup(days, cohort)
    later = later[(later["day"] > early_days) & (later["day"] <= early_days + horizon_days)]
    return set(later["customer_id"].astype(str))


__all__ = ["Candidate", "CandidateReport", "activation_candidates", "risk_ratio_interval"]
