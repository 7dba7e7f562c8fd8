"""The at-risk list: who to save first, why (reason codes with evidence), and what to do (a suggested play).

Reason codes (thresholds in the profile's ``[risk]`` table; a missing column or value never raises a reason):

- usage_drop: usage_change_30d ≤ usage_drop_at (−0.3: events down 30 % vs the prior 30 days)
- no_recent_activity: days_since_last_event ≥ inactive_days, or no event ever while events_30d = 0 and
  tenure_days ≥ inactive_days
- detractor_nps: nps_latest ≤ detractor_max (6)
- open_high_priority_tickets: tickets_open_high > 0
- late_payment: invoices_overdue_now > 0 or invoices_late_90d > 0
- contraction: mrr_change_90d < 0
- no_champion: has_champion is false (no internal champion is known)
- no_executive_sponsor: executive_sponsor is false (whether or not there is a champion)
- auto_renew_off: cancel_at_period_end is true (the subscription ends at the end of its term instead of renewing:
  an announced cancellation — Stripe's cancel_at_period_end)
- payment_failed: payment_failures_90d > 0 (a payment failed on an invoice due in the last 90 days: involuntary
  churn starts with a declined card — Stripe's dunning and Smart Retries documentation)
- renewal_due: days_to_renewal ≤ renewal_window_days (60) on a term of at least renewal_min_term_months (12): a
  committed customer can only leave at renewal, so the weeks before it are when to act (Fader & Hardie 2007,
  contractual settings: churn happens at renewal opportunities)

Risk ∈ [0, 1] combines health and reasons as independent warnings (noisy-OR):
risk = 1 − (1 − h) × Π (1 − severity_r) over the reasons present, with h = (100 − health) ÷ 100
(``unknown_health_risk`` when health is unknown). A customer is listed when risk ≥ min_risk (0.25: every red or
yellow customer) and they have not churned (churned customers belong to win-back). Order: priority = risk ×
value at stake (``value_column``, MRR by default; missing values count as 0) descending, then risk
descending, then customer_id ascending — deterministic.
Plays follow seed 002's segment strategies (At-risk: intervention, support; Dormant: re-activation campaign;
Churning: save team escalation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lifecycle import paging
from lifecycle.errors import QueryError
from lifecycle.health.profile import Reason, RiskRules
from lifecycle.health.score import HealthTable, by_customer
from lifecycle.lazy import deferred_module

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:  # loaded on first use (lifecycle.lazy): importing this module stays cheap
    np = deferred_module("numpy")
    pd = deferred_module("pandas")

ORDER_KEY = "risk*value desc, risk desc, customer_id asc"
WRONG_QUERY = ("this cursor belongs to a different at-risk query (other filters, value column or profile): repeat the "
               "original filters with it, or omit cursor to start from the first page")

EVIDENCE_COLUMNS: dict[Reason, tuple[str, ...]] = {
    Reason.USAGE_DROP: ("usage_change_30d", "events_30d", "events_prev_30d"),
    Reason.NO_RECENT_ACTIVITY: ("days_since_last_event", "last_event_at", "events_30d"),
    Reason.DETRACTOR_NPS: ("nps_latest", "nps_latest_at"),
    Reason.OPEN_HIGH_PRIORITY_TICKETS: ("tickets_open_high", "tickets_open"),
    Reason.LATE_PAYMENT: ("invoices_overdue_now", "invoices_late_90d", "invoices_due_90d"),
    Reason.CONTRACTION: ("mrr_change_90d", "mrr_90d_ago", "mrr_current"),
    Reason.NO_CHAMPION: ("has_champion",),
    Reason.NO_EXECUTIVE_SPONSOR: ("executive_sponsor", "has_champion"),
    Reason.AUTO_RENEW_OFF: ("cancel_at_period_end", "days_to_renewal", "term_months"),
    Reason.PAYMENT_FAILED: ("payment_failures_90d", "invoices_due_90d", "invoices_overdue_now"),
    Reason.RENEWAL_DUE: ("days_to_renewal", "term_months", "cancel_at_period_end"),
}


@dataclass(frozen=True)
class ReasonEvidence:
    """One reason a customer is at risk, the values that raised it, and the play it calls for."""

    code: Reason
    severity: float
    strategy: str
    play: str
    evidence: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code.value, "severity": self.severity, "strategy": self.strategy, "play": self.play,
                "evidence": self.evidence}


@dataclass(frozen=True)
class AtRiskItem:
    rank: int
    customer_id: str
    risk: float
    health: float | None
    band: str | None
    segment: str | None
    plan: str | None
    value: float
    priority: float
    reasons: tuple[ReasonEvidence, ...]
    suggested_play: str

    def to_dict(self) -> dict[str, Any]:
        return {"rank": self.rank, "customer_id": self.customer_id, "risk": self.risk, "health": self.health,
                "band": self.band, "segment": self.segment, "plan": self.plan, "value": self.value,
                "priority": self.priority, "reasons": [r.to_dict() for r in self.reasons],
                "suggested_play": self.suggested_play}


@dataclass(frozen=True)
class AtRiskPage:
    """One page of the at-risk list; pass ``next_cursor`` back (same filters) for the next page."""

    items: tuple[AtRiskItem, ...]
    total: int
    offset: int
    limit: int
    next_cursor: str | None
    value_column: str
    query: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"items": [i.to_dict() for i in self.items], "total": self.total, "offset": self.offset,
                "limit": self.limit, "next_cursor": self.next_cursor, "value_column": self.value_column,
                "order": ORDER_KEY, "query": self.query}


# --- reasons and risk ----------------------------------------------------------------------------------------

def _num(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame.columns:
        return np.full(len(frame), np.nan)
    return frame[column].to_numpy(dtype="float64", na_value=np.nan)


def _is_false(frame: pd.DataFrame, column: str) -> np.ndarray:
    return _num(frame, column) == 0.0


def reason_flags(snapshot: pd.DataFrame, rules: RiskRules) -> dict[Reason, np.ndarray]:
    """Boolean mask per reason code over the rows of ``snapshot`` (definitions in the module docstring)."""
    days = _num(snapshot, "days_since_last_event")
    never = np.isnan(days) & (_num(snapshot, "events_30d") == 0) & (_num(snapshot, "tenure_days") >= rules.inactive_days)
    return {
        Reason.USAGE_DROP: _num(snapshot, "usage_change_30d") <= rules.usage_drop_at,
        Reason.NO_RECENT_ACTIVITY: (days >= rules.inactive_days) | never,
        Reason.DETRACTOR_NPS: _num(snapshot, "nps_latest") <= rules.detractor_max,
        Reason.OPEN_HIGH_PRIORITY_TICKETS: _num(snapshot, "tickets_open_high") > 0,
        Reason.LATE_PAYMENT: (_num(snapshot, "invoices_overdue_now") > 0) | (_num(snapshot, "invoices_late_90d") > 0),
        Reason.CONTRACTION: _num(snapshot, "mrr_change_90d") < 0,
        Reason.NO_CHAMPION: _is_false(snapshot, "has_champion"),
        Reason.NO_EXECUTIVE_SPONSOR: _is_false(snapshot, "executive_sponsor"),
        Reason.AUTO_RENEW_OFF: _num(snapshot, "cancel_at_period_end") == 1.0,
        Reason.PAYMENT_FAILED: _num(snapshot, "payment_failures_90d") > 0,
        Reason.RENEWAL_DUE: ((_num(snapshot, "days_to_renewal") <= rules.renewal_window_days)
                             & (_num(snapshot, "term_months") >= rules.renewal_min_term_months)),
    }


def risk_score(health: np.ndarray, flags: dict[Reason, np.ndarray], rules: RiskRules) -> np.ndarray:
    """risk = 1 − (1 − h) × Π (1 − severity_r · flag_r), h = (100 − health) ÷ 100 (unknown health → rules' value)."""
    h = np.where(np.isnan(health), rules.unknown_health_risk, (100.0 - health) / 100.0)
    keep = 1.0 - np.clip(h, 0.0, 1.0)
    for reason, mask in flags.items():
        keep = keep * (1.0 - rules.rule(reason).severity * mask)
    return 1.0 - keep


def _as_tuple(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


@dataclass(frozen=True)
class RiskQuery:
    """The filters and ordering of an at-risk list (what a cursor is bound to)."""

    segment: tuple[str, ...] = ()
    plan: tuple[str, ...] = ()
    reason: tuple[Reason, ...] = ()
    value_column: str = "mrr_current"
    min_risk: float = 0.25
    profile: str = ""

    def digest(self) -> str:
        """sha256 of the canonical query (filters, value column, threshold, profile, ordering key); no as_of."""
        payload = {"segment": sorted(self.segment), "plan": sorted(self.plan), "reason": sorted(r.value for r in self.reason),
                   "value_column": self.value_column, "min_risk": self.min_risk, "profile": self.profile, "order": ORDER_KEY}
        return paging.query_digest(payload)

    def to_dict(self) -> dict[str, Any]:
        return {"segment": list(self.segment), "plan": list(self.plan), "reason": [r.value for r in self.reason],
                "value_column": self.value_column, "min_risk": self.min_risk}


def _reasons(values: Sequence[str | Reason]) -> tuple[Reason, ...]:
    try:
        return tuple(Reason(v) for v in values)
    except ValueError:
        raise QueryError(f"unknown reason in {list(values)}; valid reasons: {', '.join(r.value for r in Reason)}") from None


def _value(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame.columns:
        numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])]
        raise QueryError(f"value column {column!r} is not in the snapshot; numeric columns: {', '.join(numeric)}")
    if not pd.api.types.is_numeric_dtype(frame[column]) or pd.api.types.is_bool_dtype(frame[column]):
        raise QueryError(f"value column {column!r} is not numeric ({frame[column].dtype}); pass a money column such as mrr_current")
    values = frame[column].to_numpy(dtype="float64", na_value=np.nan)
    return np.where(np.isfinite(values), values, 0.0)


def rank_at_risk(snapshot: pd.DataFrame, health: HealthTable, query: RiskQuery) -> pd.DataFrame:
    """Every listed customer in order (columns risk, health, value, priority, one boolean per reason).

    Indexed by customer_id; the row order is the list's order (see the module docstring).
    """
    return _rank(by_customer(snapshot), health, query)


def _rank(frame: pd.DataFrame, health: HealthTable, query: RiskQuery) -> pd.DataFrame:
    _check_segments(health, query)
    risk, health_values, value, flags, segments = _risk_columns(frame, health, query.value_column)
    keep = _kept(frame, risk, flags, segments, query)
    ranked = pd.DataFrame({"risk": risk, "health": health_values, "value": value, "priority": risk * value,
                           **{r.value: flags[r] for r in Reason}}, index=frame.index)[keep]
    ranked["customer_key"] = ranked.index
    ranked = ranked.sort_values(["priority", "risk", "customer_key"], ascending=[False, False, True], kind="stable")
    return ranked.drop(columns="customer_key")


def _risk_columns(frame: pd.DataFrame, health: HealthTable, value_column: str) -> tuple[
        np.ndarray, np.ndarray, np.ndarray, dict[Reason, np.ndarray], pd.Series]:
    """Per row of ``frame`` (the snapshot by customer_id): risk, health, value at stake, the reason flags and the
    health segment."""
    rules = health.profile.risk
    segments = health.frame["segment"].reindex(frame.index)
    health_values = health.frame["health"].reindex(frame.index).to_numpy(dtype="float64", na_value=np.nan)
    flags = reason_flags(frame, rules)
    return risk_score(health_values, flags, rules), health_values, _value(frame, value_column), flags, segments


def _check_segments(health: HealthTable, query: RiskQuery) -> None:
    known = {s.name for s in health.profile.segments}
    unknown = [s for s in query.segment if s not in known]
    if unknown:
        raise QueryError(f"unknown segment(s) {unknown}; segments of profile {health.profile.name!r}: {', '.join(sorted(known))}")


def _kept(frame: pd.DataFrame, risk: np.ndarray, flags: dict[Reason, np.ndarray], segments: pd.Series,
          query: RiskQuery) -> np.ndarray:
    """Rows on the list: risk ≥ min_risk, not churned, and the query's segment, plan and reason filters."""
    keep = risk >= query.min_risk
    if "churned" in frame.columns:
        keep &= ~(frame["churned"].to_numpy(dtype="float64", na_value=0.0) == 1.0)
    if query.segment:
        keep &= segments.isin(query.segment).to_numpy(dtype=bool)
    if query.plan:
        if "plan" not in frame.columns:
            raise QueryError("the snapshot has no plan column to filter on")
        keep &= frame["plan"].isin(query.plan).to_numpy(dtype=bool)
    if query.reason:
        keep &= np.logical_or.reduce([flags[r] for r in query.reason])
    return keep


@dataclass(frozen=True)
class RiskRanking:
    """Every row of a snapshot ranked once, for lists that differ only by filters (``list_at_risk_ranked``).

    ``order``: row positions by priority descending, risk descending, customer_id ascending — a total order (ids are
    unique), so the rows a query keeps, taken in this order, are in the order ``rank_at_risk`` sorts them into: a query
    costs a mask and a pass over ``order``, not a sort of the base."""

    frame: pd.DataFrame  # the snapshot by customer_id
    health: HealthTable
    value_column: str
    risk: np.ndarray
    health_values: np.ndarray
    value: np.ndarray
    flags: dict[Reason, np.ndarray]
    segments: pd.Series
    order: np.ndarray


def risk_ranking(snapshot: pd.DataFrame, health: HealthTable, value_column: str = "mrr_current") -> RiskRanking:
    """``RiskRanking`` of every row of ``snapshot`` scored by ``health`` (the list's formulas: module docstring)."""
    frame = by_customer(snapshot)
    risk, health_values, value, flags, segments = _risk_columns(frame, health, value_column)
    keys = pd.DataFrame({"priority": risk * value, "risk": risk, "customer_key": frame.index})
    order = keys.sort_values(["priority", "risk", "customer_key"], ascending=[False, False, True],
                             kind="stable").index.to_numpy(dtype=np.int64)
    return RiskRanking(frame, health, value_column, risk, health_values, value, flags, segments, order)


# --- cursors -------------------------------------------------------------------------------------------------

def encode_cursor(offset: int, query: RiskQuery) -> str:
    """An opaque cursor (``lifecycle.paging``): the offset and the query digest."""
    return paging.encode_cursor(offset, query.digest())


def decode_cursor(cursor: str, query: RiskQuery) -> int:
    """The offset in ``cursor``; QueryError when it is malformed or was issued for a different query."""
    return paging.decode_cursor(cursor, query.digest(), WRONG_QUERY)


# --- the list ------------------------------------------------------------------------------------------------

def _cell(frame: pd.DataFrame, customer_id: str, column: str) -> Any:
    if column not in frame.columns:
        return None
    value = frame.at[customer_id, column]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return None if np.isnan(value) else float(value)
    return str(value)


def _item(rank: int, customer_id: str, row: pd.Series, frame: pd.DataFrame, health: HealthTable) -> AtRiskItem:
    rules = health.profile.risk
    evidence = []
    for reason in Reason:
        if row[reason.value]:
            rule = rules.rule(reason)
            evidence.append(ReasonEvidence(reason, rule.severity, rule.strategy, rule.play,
                                           {c: _cell(frame, customer_id, c) for c in EVIDENCE_COLUMNS[reason] if c in frame.columns}))
    evidence.sort(key=lambda e: -e.severity)  # stable: ties keep the Reason order
    segment = _cell(health.frame, customer_id, "segment") if customer_id in health.frame.index else None
    if evidence:
        play = evidence[0].play
    else:
        fix = _cell(health.frame, customer_id, "most_impactful") if customer_id in health.frame.index else None
        strategy = health.profile.strategy_for(segment) or "Intervention, support"
        play = f"{strategy}: review the health explanation" + (f" and fix {fix} first." if fix else ".")
    health_value = None if np.isnan(row["health"]) else float(row["health"])
    return AtRiskItem(
        rank=rank, customer_id=customer_id, risk=float(row["risk"]), health=health_value,
        band=health.profile.bands.band(health_value), segment=segment, plan=_cell(frame, customer_id, "plan"),
        value=float(row["value"]), priority=float(row["priority"]), reasons=tuple(evidence), suggested_play=play,
    )


def list_at_risk(snapshot: pd.DataFrame, health: HealthTable, *, value_column: str = "mrr_current", limit: int = 50,
                 cursor: str | None = None, segment: str | Sequence[str] | None = None,
                 plan: str | Sequence[str] | None = None, reason: str | Reason | Sequence[str | Reason] | None = None,
                 min_risk: float | None = None) -> AtRiskPage:
    """One page of the at-risk list of ``snapshot`` ranked by risk × value at stake (module docstring).

    ``health`` is ``score_health`` of the same snapshot. Filters: ``segment`` and ``plan`` (any of the given
    values) and ``reason`` (customers with any of the given reasons). ``value_column`` is any numeric snapshot
    column (MRR, expected CLV, ...). ``cursor`` is the previous page's ``next_cursor``; a cursor from a query
    with other filters raises ``QueryError``. ``limit`` must be ≥ 1.
    """
    query, offset = _query(health, value_column, limit, cursor, segment, plan, reason, min_risk)
    indexed = by_customer(snapshot)
    ranked = _rank(indexed, health, query)
    page = ranked.iloc[offset: offset + limit]
    return _page(page, indexed.loc[page.index], health, query, offset, limit, len(ranked))


def list_at_risk_ranked(ranking: RiskRanking, rows: np.ndarray | None = None, *, limit: int = 50,
                        cursor: str | None = None, segment: str | Sequence[str] | None = None,
                        plan: str | Sequence[str] | None = None,
                        reason: str | Reason | Sequence[str | Reason] | None = None,
                        min_risk: float | None = None) -> AtRiskPage:
    """``list_at_risk`` of the snapshot rows at positions ``rows`` of ``ranking``'s (None: all), from the ranking made
    once: the same page, total and cursor, and the evidence read for the page's rows only."""
    health = ranking.health
    query, offset = _query(health, ranking.value_column, limit, cursor, segment, plan, reason, min_risk)
    _check_segments(health, query)
    keep = _kept(ranking.frame, ranking.risk, ranking.flags, ranking.segments, query)
    if rows is not None:
        inside = np.zeros(len(keep), dtype=bool)
        inside[rows] = True
        keep &= inside
    ordered = ranking.order[keep[ranking.order]]
    chosen = ordered[offset: offset + limit]
    frame = ranking.frame.iloc[chosen]
    page = pd.DataFrame({"risk": ranking.risk[chosen], "health": ranking.health_values[chosen],
                         "value": ranking.value[chosen], "priority": ranking.risk[chosen] * ranking.value[chosen],
                         **{r.value: ranking.flags[r][chosen] for r in Reason}}, index=frame.index)
    return _page(page, frame, health, query, offset, limit, len(ordered))


def _query(health: HealthTable, value_column: str, limit: int, cursor: str | None,
           segment: str | Sequence[str] | None, plan: str | Sequence[str] | None,
           reason: str | Reason | Sequence[str | Reason] | None, min_risk: float | None) -> tuple[RiskQuery, int]:
    if limit < 1:
        raise QueryError(f"limit must be at least 1, got {limit}")
    rules = health.profile.risk
    query = RiskQuery(segment=_as_tuple(segment), plan=_as_tuple(plan),
                      reason=_reasons(_as_tuple(reason) if not isinstance(reason, Reason) else (reason,)),
                      value_column=value_column, min_risk=rules.min_risk if min_risk is None else float(min_risk),
                      profile=health.profile.fingerprint())
    return query, decode_cursor(cursor, query) if cursor is not None else 0


def _page(page: pd.DataFrame, frame: pd.DataFrame, health: HealthTable, query: RiskQuery, offset: int, limit: int,
          total: int) -> AtRiskPage:
    items = tuple(_item(offset + i + 1, str(cid), row, frame, health) for i, (cid, row) in enumerate(page.iterrows()))
    end = offset + len(page)
    return AtRiskPage(items=items, total=total, offset=offset, limit=limit,
                      next_cursor=encode_cursor(end, query) if end < total else None,
                      value_column=query.value_column, query=query.to_dict())


__all__ = ["AtRiskItem", "AtRiskPage", "EVIDENCE_COLUMNS", "ORDER_KEY", "Reason", "ReasonEvidence", "RiskQuery",
           "RiskRanking", "decode_cursor", "encode_cursor", "list_at_risk", "list_at_risk_ranked", "rank_at_risk",
           "reason_flags", "risk_ranking", "risk_score"]
