"""Per-customer value of an order-based business: P(alive), expected purchases, expected spend and CLV.

:func:`predict_customer_value` is the one entry point the snapshot, the engine and the MCP tool ``predict_clv`` call:

1. The RFM summary (:func:`order_summary`) of the dataset's *kept* orders (status not refunded/cancelled, as in the
   snapshot's ``orders_count``) on or before ``as_of`` (``Dataset.table`` masks later rows, so nothing after
   ``as_of`` is read), with ``T`` measured to ``as_of`` itself, in weeks.
2. A transaction model, BG/NBD (default) or Pareto/NBD, fitted by maximum likelihood. If the unpenalised fit has
   no interior maximum (``ModelFitError``: typically no visible drop-out, s or a running to 0), it is refitted once
   with ``log_penalizer=RETRY_LOG_PENALIZER`` (a weak log-normal prior on the parameters, see
   :mod:`lifecycle.clv._fitting`). The returned :class:`FitReport` then says ``penalized=True`` and carries a
   ``note`` with the unpenalised failure; the parameters are a MAP estimate, not the MLE. An explicit
   ``log_penalizer`` skips the unpenalised attempt.
3. Spend per purchase: the Gamma-Gamma conditional expectation (Fader & Hardie 2013, Eq. 5) when at least
   ``MIN_REPEAT_BUYERS_FOR_SPEND`` customers have repeat purchases of positive value; otherwise (or when the
   Gamma-Gamma fit fails) each customer's observed mean purchase-day value, first purchase included, without
   shrinkage, and ``spend`` is None with the reason in ``spend_note``.
4. ``p_alive`` (model), ``expected_purchases`` = E[Y(h) | x, t_x, T] over the horizon h = ``horizon_months`` x
   4.345 weeks, ``clv`` = :func:`~lifecycle.clv.lifetime_value.customer_lifetime_value` over ``horizon_months`` at
   the monthly rate ``(1 + discount_rate_annual)^(1/12) - 1``, and the RFM ``rfm_segment``
   (:func:`~lifecycle.clv.segments.rfm_segments`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Final, Literal

import numpy as np
import pandas as pd

from lifecycle.clv import beta_geo, gamma_gamma, pareto_nbd
from lifecycle.clv.lifetime_value import UNITS_PER_MONTH, customer_lifetime_value
from lifecycle.clv.rfm import rfm_summary
from lifecycle.clv.segments import SEGMENT_RULES, rfm_segments
from lifecycle.errors import ModelFitError, QueryError

TransactionModelName = Literal["bg_nbd", "pareto_nbd"]
ClvOrder = Literal["clv", "p_alive"]
DEFAULT_HORIZON_MONTHS: Final = 12
DEFAULT_DISCOUNT_RATE_ANNUAL: Final = 0.1
TIME_UNIT: Final = "W"
"""Model time unit: weeks (the unit of the published CDNOW and Online Retail fits)."""
KEPT_EXCLUDED_STATUSES: Final = ("refunded", "cancelled", "canceled")
"""Orders with these statuses (case-insensitive) are not purchases, as in the snapshot's ``orders_count``."""
MIN_CUSTOMERS: Final = 10
"""Fewer customers with orders than this: no model is fitted (``ModelFitError``)."""
MIN_REPEAT_BUYERS_FOR_SPEND: Final = 20
"""The Gamma-Gamma spend model is fitted only with at least this many repeat buyers of positive value."""
RETRY_LOG_PENALIZER: Final = 0.001
"""The log-scale L2 penalty of the one automatic refit after an unpenalised fit fails (see module docstring)."""
P_ALIVE_QUANTILES: Final = (0.1, 0.25, 0.5, 0.75, 0.9)
"""The P(alive) quantiles of :func:`summarize_customer_value`."""
LIKELY_LAPSED_BELOW: Final = 0.5
"""P(alive) below this counts as likely lapsed in :func:`summarize_customer_value`."""
CLV_ORDERS: Final[dict[str, str]] = {"clv": "clv desc, customer_id asc",
                                     "p_alive": "p_alive asc, clv desc, customer_id asc"}
"""The orderings of :func:`rank_customer_value`, as they are reported."""
CLV_COLUMNS: Final = ("frequency", "recency", "T", "monetary_value", "p_alive", "expected_purchases",
                      "expected_avg_value", "clv", "rfm_segment")


@dataclass(frozen=True)
class FitReport:
    """How one model was fitted: its parameters, maximised log-likelihood, customers, convergence and penalty."""

    model: str
    params: dict[str, float]
    log_likelihood: float
    n: int
    converged: bool
    penalized: bool
    penalizer: float
    log_penalizer: float
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "params": dict(self.params), "log_likelihood": self.log_likelihood, "n": self.n,
                "converged": self.converged, "penalized": self.penalized, "penalizer": self.penalizer,
                "log_penalizer": self.log_penalizer, "note": self.note}


@dataclass(frozen=True)
class ClvTable:
    """Per-customer predictions (``frame``, indexed by customer_id, columns :data:`CLV_COLUMNS`) and their fits.

    ``frequency``, ``recency``, ``T`` are in weeks; ``expected_purchases`` over the horizon; ``expected_avg_value``
    and ``clv`` in the orders' currency; ``clv`` discounted monthly.
    """

    frame: pd.DataFrame
    as_of: date
    horizon_months: int
    discount_rate_annual: float
    monthly_discount_rate: float
    time_unit: str
    transactions: FitReport
    spend: FitReport | None
    spend_note: str | None = None

    def __len__(self) -> int:
        return len(self.frame)


def kept_orders(dataset: Any) -> pd.DataFrame:
    """The dataset's orders (to ``as_of``, in scope) that are purchases: status not refunded/cancelled."""
    orders = dataset.table("orders")
    status = orders["status"].astype("string").str.lower().fillna("")
    kept = orders[~status.isin(KEPT_EXCLUDED_STATUSES).to_numpy()]
    return kept[["customer_id", "ordered_at", "amount"]].assign(customer_id=kept["customer_id"].astype("string"),
                                                               amount=kept["amount"].fillna(0.0))


def order_summary(dataset: Any) -> pd.DataFrame:
    """The RFM summary (frequency, recency, T in weeks; monetary_value) of the kept orders at ``dataset.as_of``.

    Same-day orders are one purchase (:func:`~lifecycle.clv.rfm.rfm_summary`); ``T`` runs to ``as_of``, not to the
    last order. Empty (with those columns) when there are no kept orders.
    """
    orders = kept_orders(dataset)
    if orders.empty:
        return pd.DataFrame({c: pd.Series([], dtype="float64") for c in ("frequency", "recency", "T", "monetary_value")},
                            index=pd.Index([], dtype="string", name="customer_id"))
    return rfm_summary(orders, customer_id_col="customer_id", datetime_col="ordered_at", monetary_value_col="amount",
                       observation_period_end=pd.Timestamp(dataset.as_of), time_unit=TIME_UNIT)


def predict_customer_value(
    dataset: Any,
    horizon_months: int = DEFAULT_HORIZON_MONTHS,
    discount_rate_annual: float = DEFAULT_DISCOUNT_RATE_ANNUAL,
    model: TransactionModelName = "bg_nbd",
    *,
    log_penalizer: float | None = None,
) -> ClvTable:
    """Fit the CLV models on the dataset's orders at ``as_of`` and predict every ordering customer (module docstring).

    Raises ``QueryError`` for bad arguments or no orders, ``ModelFitError`` when fewer than ``MIN_CUSTOMERS``
    customers have orders or the transaction model fails even after the penalised refit.
    """
    if model not in ("bg_nbd", "pareto_nbd"):
        raise QueryError(f"unknown CLV model {model!r}; use 'bg_nbd' or 'pareto_nbd'")
    if not 1 <= horizon_months <= 120:
        raise QueryError(f"horizon_months must be within 1..120, got {horizon_months}")
    if not -1 < discount_rate_annual <= 1:
        raise QueryError(f"discount_rate_annual must be within (-1, 1] (0.1 = 10 % a year), got {discount_rate_annual}")
    summary = order_summary(dataset)
    if summary.empty:
        raise QueryError(f"no kept orders on or before {dataset.as_of}: CLV models need purchases in the orders table "
                         "(order-based data); for subscription data use the sBG retention forecast (model sbg) or the ltv metric")
    if len(summary) < MIN_CUSTOMERS:
        raise ModelFitError(f"too few customers with orders to fit a CLV model: {len(summary)} (at least {MIN_CUSTOMERS})")
    x, t_x, big_t = summary["frequency"], summary["recency"], summary["T"]
    fitted, transactions = fit_transaction_model(x, t_x, big_t, model, log_penalizer=log_penalizer)
    spend_value, spend, spend_note = _expected_spend(dataset, summary)
    monthly = (1 + discount_rate_annual) ** (1 / 12) - 1
    frame = summary.copy()
    frame["p_alive"] = fitted.p_alive(x, t_x, big_t)
    frame["expected_purchases"] = fitted.conditional_expected_purchases(horizon_months * UNITS_PER_MONTH[TIME_UNIT], x, t_x, big_t)
    frame["expected_avg_value"] = spend_value
    frame["clv"] = customer_lifetime_value(fitted, x, t_x, big_t, spend_value, months=horizon_months,
                                           monthly_discount_rate=monthly, time_unit=TIME_UNIT)
    frame["rfm_segment"] = rfm_segments(summary)["segment"].astype("string")
    return ClvTable(frame=frame[list(CLV_COLUMNS)], as_of=dataset.as_of, horizon_months=horizon_months,
                    discount_rate_annual=discount_rate_annual, monthly_discount_rate=monthly, time_unit=TIME_UNIT,
                    transactions=transactions, spend=spend, spend_note=spend_note)


def rank_customer_value(table: ClvTable, order: ClvOrder = "clv") -> pd.DataFrame:
    """``table.frame`` in list order (:data:`CLV_ORDERS`): ``"clv"`` ranks by expected CLV, highest first;
    ``"p_alive"`` by P(alive), lowest first (who is slipping away), the higher CLV first among equals. Ties end with
    customer_id ascending and missing values go last, so the order is total and deterministic."""
    if order not in CLV_ORDERS:
        raise QueryError(f"unknown CLV order {order!r}; use one of {', '.join(CLV_ORDERS)}")
    keys, ascending = (["clv"], [False]) if order == "clv" else (["p_alive", "clv"], [True, False])
    frame = table.frame.assign(_customer_id=table.frame.index.astype(str))
    ranked = frame.sort_values([*keys, "_customer_id"], ascending=[*ascending, True], kind="stable", na_position="last")
    return ranked.drop(columns="_customer_id")


@dataclass(frozen=True)
class SegmentValue:
    """Customers of one RFM segment and their summed expected CLV."""

    segment: str
    customers: int
    clv: float


@dataclass(frozen=True)
class ClvSummary:
    """The population view of a :class:`ClvTable` (see :func:`summarize_customer_value`)."""

    customers: int
    total_clv: float
    p_alive_quantiles: dict[str, float | None]
    likely_lapsed: int
    segments: tuple[SegmentValue, ...]


def summarize_customer_value(table: ClvTable) -> ClvSummary:
    """Customers modelled; total expected CLV over the horizon (sum of ``clv``, missing values skipped); P(alive)
    quantiles ``p10, p25, p50, p75, p90`` (:data:`P_ALIVE_QUANTILES`, numpy's default linear interpolation between
    order statistics, Hyndman & Fan type 7; None when no customer has a P(alive)); how many customers have
    P(alive) < :data:`LIKELY_LAPSED_BELOW`; and per RFM segment present, in :data:`SEGMENT_RULES` order, its
    customers and summed CLV."""
    frame = table.frame
    alive = frame["p_alive"].to_numpy(dtype="float64", na_value=np.nan)
    alive = alive[np.isfinite(alive)]
    quantiles: dict[str, float | None] = {f"p{round(q * 100)}": None for q in P_ALIVE_QUANTILES}
    if alive.size:
        quantiles = dict(zip(quantiles, (float(v) for v in np.quantile(alive, P_ALIVE_QUANTILES))))
    clv = frame["clv"].to_numpy(dtype="float64", na_value=np.nan)
    segment = frame["rfm_segment"].astype("string").fillna("").to_numpy(dtype=object)
    segments = []
    for rule in SEGMENT_RULES:
        members = segment == rule.name
        if members.any():
            segments.append(SegmentValue(rule.name, int(members.sum()), float(np.nansum(clv[members]))))
    return ClvSummary(customers=len(frame), total_clv=float(np.nansum(clv)), p_alive_quantiles=quantiles,
                      likely_lapsed=int((alive < LIKELY_LAPSED_BELOW).sum()), segments=tuple(segments))


def fit_transaction_model(
    frequency: pd.Series | np.ndarray,
    recency: pd.Series | np.ndarray,
    T: pd.Series | np.ndarray,
    model: TransactionModelName = "bg_nbd",
    *,
    log_penalizer: float | None = None,
) -> tuple[beta_geo.BetaGeoModel | pareto_nbd.ParetoNBDModel, FitReport]:
    """Fit BG/NBD or Pareto/NBD; on ``ModelFitError`` refit once with ``RETRY_LOG_PENALIZER`` and say so.

    With an explicit ``log_penalizer`` only that fit runs (0 means the plain MLE, which may raise).
    """
    fit = beta_geo.fit if model == "bg_nbd" else pareto_nbd.fit
    if log_penalizer is not None:
        fitted = fit(frequency, recency, T, log_penalizer=log_penalizer)
        return fitted, _report(model, fitted, None)
    try:
        fitted = fit(frequency, recency, T)
        return fitted, _report(model, fitted, None)
    except ModelFitError as failure:
        unpenalised = failure
    try:
        fitted = fit(frequency, recency, T, log_penalizer=RETRY_LOG_PENALIZER)
    except ModelFitError:
        raise unpenalised from None
    reason = str(unpenalised).split(". Data:")[0]
    note = (f"{reason}; refitted with log_penalizer={RETRY_LOG_PENALIZER} (a weak log-normal prior on the parameters), "
            "so the parameters are a penalised (MAP) estimate, not the maximum-likelihood one")
    return fitted, _report(model, fitted, note)


def _report(name: str, fitted: Any, note: str | None) -> FitReport:
    params = {k: float(v) for k, v in vars(fitted.params).items()}
    return FitReport(model=name, params=params, log_likelihood=float(fitted.log_likelihood), n=int(fitted.n),
                     converged=bool(fitted.converged), penalized=bool(fitted.penalized), penalizer=float(fitted.penalizer),
                     log_penalizer=float(fitted.log_penalizer), note=note)


def _expected_spend(dataset: Any, summary: pd.DataFrame) -> tuple[np.ndarray, FitReport | None, str | None]:
    """Gamma-Gamma expected spend per purchase, or the observed mean purchase-day value with the reason why."""
    repeat = (summary["frequency"] > 0) & (summary["monetary_value"] > 0)
    reason: str
    if int(repeat.sum()) >= MIN_REPEAT_BUYERS_FOR_SPEND:
        try:
            spend_model = gamma_gamma.fit(summary.loc[repeat, "frequency"], summary.loc[repeat, "monetary_value"])
            value = spend_model.conditional_expected_average_value(summary["frequency"], summary["monetary_value"])
            return value, _report("gamma_gamma", spend_model, None), None
        except ModelFitError as failure:
            reason = f"the Gamma-Gamma fit failed ({str(failure).split('. Data:')[0]})"
    else:
        reason = f"only {int(repeat.sum())} repeat buyers (the Gamma-Gamma needs {MIN_REPEAT_BUYERS_FOR_SPEND})"
    orders = kept_orders(dataset)
    totals = orders.groupby("customer_id")["amount"].sum().reindex(summary.index).to_numpy(dtype=float)
    observed = totals / (summary["frequency"].to_numpy() + 1)
    return observed, None, f"{reason}: expected spend is each customer's observed mean purchase-day value"
