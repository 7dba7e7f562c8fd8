"""Per-customer value of an order-based business: P(alive), expected purchases, expected spend and CLV.

:func:`predict_customer_value` is the one entry point the snapshot, the engine and the MCP tool ``predict_clv`` call:

1. The RFM summary (:func:`order_summary`) of the dataset's *kept* orders (status not refunded/cancelled, as in the
   snapshot's ``orders_count``) on or before ``as_of`` (``Dataset.table`` masks later rows, so nothing after
   ``as_of`` is read), with ``T`` measured to ``as_of`` itself, in weeks.
2. The transaction model. ``model="auto"`` (the default) takes the one the dataset's own history supports best:
   :func:`~lifecycle.clv.holdout_check.order_holdout_check` splits the kept orders to ``as_of`` (the last third of
   their span is the holdout, or from ``calibration_end``), fits BG/NBD, MBG/NBD and Pareto/NBD on the calibration
   part and compares their holdout predictions by calibration frequency (Fader, Hardie & Lee 2005); the model with
   the smallest frequency-group error wins, and ``ClvTable.model_choice`` says why. When the history is too short
   or too thin for the check (its reason is ``check_note``), BG/NBD is used. A named model (``bg_nbd``,
   ``mbg_nbd``, ``pareto_nbd``) is used as asked; the check still runs and is reported. Every model is then fitted
   on the full summary (:func:`~lifecycle.clv.order_models.fit_order_models`: maximum likelihood, and once more
   with ``log_penalizer=RETRY_LOG_PENALIZER``, a weak log-normal prior, after a fit without an interior maximum;
   the :class:`FitReport` then says ``penalized=True`` with a ``note``). An explicit ``log_penalizer`` applies to
   the chosen model's fit.
3. Spend per purchase: the Gamma-Gamma conditional expectation (Fader & Hardie 2013, Eq. 5) when at least
   ``MIN_REPEAT_BUYERS_FOR_SPEND`` customers have repeat purchases of positive value; otherwise (or when the
   Gamma-Gamma fit fails) each customer's observed mean purchase-day value, first purchase included, without
   shrinkage, and ``spend`` is None with the reason in ``spend_note``.
4. ``p_alive`` (model), ``expected_purchases`` = E[Y(h) | x, t_x, T] over the horizon h = ``horizon_months`` x
   4.345 weeks, ``clv`` = :func:`~lifecycle.clv.lifetime_value.customer_lifetime_value` over ``horizon_months`` at
   the monthly rate ``(1 + discount_rate_annual)^(1/12) - 1``, and the RFM ``rfm_segment``
   (:func:`~lifecycle.clv.segments.rfm_segments`); ``model`` names the transaction model of the row, and
   ``p_alive_note`` explains a P(alive) of 1 that is an assumption rather than evidence: under the BG/NBD a customer
   without repeat purchases cannot have dropped out, however long ago they bought (the note gives the MBG/NBD's
   P(alive) for the same customer when that model could be fitted), so an RFM "lost" or "hibernating" label next to
   P(alive) = 1 is explained in the row.
5. The models' verdicts compared: the share of customers with P(alive) < ``LIKELY_LAPSED_BELOW`` under each model
   fitted (``likely_lapsed_share``); when they differ by ``LAPSED_DISAGREEMENT`` or more, ``warnings`` says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Final, Literal

from lifecycle.clv import gamma_gamma
from lifecycle.clv.holdout_check import HoldoutCheck, order_holdout_check
from lifecycle.clv.lifetime_value import UNITS_PER_MONTH, customer_lifetime_value
from lifecycle.clv.order_models import (
    MODEL_LABELS,
    ONE_TIME_BUYERS_ALIVE,
    ORDER_MODELS,
    RETRY_LOG_PENALIZER,  # noqa: F401  re-exported: part of this module's API since before order_models
    FitReport,
    TransactionModelName,
    fit_order_models,
    fit_transaction_model,  # noqa: F401  re-exported, as RETRY_LOG_PENALIZER
    report,
)
from lifecycle.clv.rfm import rfm_summary
from lifecycle.clv.segments import SEGMENT_RULES, rfm_segments
from lifecycle.errors import ModelFitError, QueryError
from lifecycle.lazy import deferred_module

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:  # loaded on first use (lifecycle.lazy): importing this module stays cheap
    np = deferred_module("numpy")
    pd = deferred_module("pandas")

ModelChoice = Literal["auto", "bg_nbd", "mbg_nbd", "pareto_nbd"]
DEFAULT_ORDER_MODEL: Final = "bg_nbd"
"""The model ``auto`` falls back to when the holdout check cannot run."""
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
P_ALIVE_QUANTILES: Final = (0.1, 0.25, 0.5, 0.75, 0.9)
"""The P(alive) quantiles of :func:`summarize_customer_value`."""
LIKELY_LAPSED_BELOW: Final = 0.5
"""P(alive) below this counts as likely lapsed in :func:`summarize_customer_value`."""
LAPSED_DISAGREEMENT: Final = 0.2
"""Models whose likely-lapsed shares differ by this much (20 percentage points) or more are reported in ``warnings``."""
CLV_ORDERS: Final[dict[str, str]] = {"clv": "clv desc, customer_id asc",
                                     "p_alive": "p_alive asc, clv desc, customer_id asc"}
"""The orderings of :func:`rank_customer_value`, as they are reported."""
CLV_COLUMNS: Final = ("frequency", "recency", "T", "monetary_value", "model", "p_alive", "p_alive_note",
                      "expected_purchases", "expected_avg_value", "clv", "rfm_segment")


@dataclass(frozen=True)
class ClvTable:
    """Per-customer predictions (``frame``, indexed by customer_id, columns :data:`CLV_COLUMNS`) and their fits.

    ``frequency``, ``recency``, ``T`` are in weeks; ``expected_purchases`` over the horizon; ``expected_avg_value``
    and ``clv`` in the orders' currency; ``clv`` discounted monthly. ``transactions`` is the chosen model's fit,
    ``model_choice`` why it was chosen, ``check`` the holdout check (None with the reason in ``check_note`` when it
    could not run), ``other_fits`` the other models fitted on the same summary, ``likely_lapsed_share`` each fitted
    model's share of customers with P(alive) < ``LIKELY_LAPSED_BELOW``, ``warnings`` what a reader must not miss.
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
    model_choice: str = ""
    check: HoldoutCheck | None = None
    check_note: str | None = None
    other_fits: tuple[FitReport, ...] = ()
    likely_lapsed_share: dict[str, float] | None = None
    warnings: tuple[str, ...] = ()

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
    model: ModelChoice = "auto",
    *,
    log_penalizer: float | None = None,
    calibration_end: date | str | None = None,
) -> ClvTable:
    """Fit the CLV models on the dataset's orders at ``as_of`` and predict every ordering customer (module docstring).

    Raises ``QueryError`` for bad arguments or no orders, ``ModelFitError`` when fewer than ``MIN_CUSTOMERS``
    customers have orders or the transaction model fails even after the penalised refit.
    """
    if model != "auto" and model not in ORDER_MODELS:
        raise QueryError(f"unknown CLV model {model!r}; use 'auto' or one of {', '.join(repr(m) for m in ORDER_MODELS)}")
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
    check, check_note = _holdout_check(dataset, calibration_end)
    candidates = _candidates(model, check)
    penalizers: dict[str, float] | None = {candidates[0]: log_penalizer} if log_penalizer is not None else None
    fits = fit_order_models(x, t_x, big_t, ORDER_MODELS, log_penalizers=penalizers)
    chosen = next((name for name in candidates if not isinstance(fits[name], ModelFitError)), None)
    if chosen is None or (model != "auto" and chosen != model):
        failure = fits[candidates[0]]
        assert isinstance(failure, ModelFitError)
        raise failure
    fitted, transactions = fits[chosen]  # type: ignore[misc]
    spend_value, spend, spend_note = _expected_spend(dataset, summary)
    monthly = (1 + discount_rate_annual) ** (1 / 12) - 1
    frame = summary.copy()
    frame["model"] = pd.array([chosen] * len(frame), dtype="string")
    frame["p_alive"] = fitted.p_alive(x, t_x, big_t)
    frame["p_alive_note"] = _p_alive_notes(chosen, fits, x, t_x, big_t)
    frame["expected_purchases"] = fitted.conditional_expected_purchases(horizon_months * UNITS_PER_MONTH[TIME_UNIT], x, t_x, big_t)
    frame["expected_avg_value"] = spend_value
    frame["clv"] = customer_lifetime_value(fitted, x, t_x, big_t, spend_value, months=horizon_months,
                                           monthly_discount_rate=monthly, time_unit=TIME_UNIT)
    frame["rfm_segment"] = rfm_segments(summary)["segment"].astype("string")
    lapsed = {name: float(np.mean(fit[0].p_alive(x, t_x, big_t) < LIKELY_LAPSED_BELOW))
              for name, fit in fits.items() if not isinstance(fit, ModelFitError)}
    return ClvTable(frame=frame[list(CLV_COLUMNS)], as_of=dataset.as_of, horizon_months=horizon_months,
                    discount_rate_annual=discount_rate_annual, monthly_discount_rate=monthly, time_unit=TIME_UNIT,
                    transactions=transactions, spend=spend, spend_note=spend_note,
                    model_choice=_choice_text(model, chosen, candidates, check, check_note, fits), check=check,
                    check_note=check_note,
                    other_fits=tuple(fit[1] for name, fit in fits.items() if name != chosen and not isinstance(fit, ModelFitError)),
                    likely_lapsed_share=lapsed, warnings=_lapsed_warning(lapsed, check))


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


def _holdout_check(dataset: Any, calibration_end: date | str | None) -> tuple[HoldoutCheck | None, str | None]:
    """The holdout check of the kept orders, or None and the reason it cannot run."""
    try:
        return order_holdout_check(dataset, calibration_end), None
    except QueryError as refused:
        if calibration_end is not None:
            raise
        return None, str(refused)


def _candidates(model: ModelChoice, check: HoldoutCheck | None) -> list[TransactionModelName]:
    """The models to use, best first: the one asked for; or for auto, the check's ranking, then the fallback."""
    if model != "auto":
        return [model]
    if check is None or check.chosen is None:
        return [DEFAULT_ORDER_MODEL, *(m for m in ORDER_MODELS if m != DEFAULT_ORDER_MODEL)]
    ranked = sorted((c for c in check.models if c.group_error is not None), key=lambda c: c.group_error or 0.0)
    names = [c.model for c in ranked]
    return [*names, *(m for m in ORDER_MODELS if m not in names)]  # type: ignore[list-item]


def _choice_text(model: ModelChoice, chosen: str, candidates: list[TransactionModelName], check: HoldoutCheck | None,
                 check_note: str | None, fits: dict[str, Any]) -> str:
    label = MODEL_LABELS[chosen]
    if model != "auto":
        prefers = (f"; the holdout check prefers {MODEL_LABELS[check.chosen]} ({check.reason})"
                   if check is not None and check.chosen not in (None, chosen) else "")
        return f"{label} as requested{prefers}"
    if check is None or check.chosen is None:
        why = check_note if check is None else check.reason
        text = f"{label} by default: the holdout check cannot choose ({why})"
    else:
        text = check.reason
    if chosen != candidates[0]:
        failure = str(fits[candidates[0]]).split(". Data:")[0]
        text += f"; {MODEL_LABELS[candidates[0]]} could not be fitted on the full history ({failure}), so {label} is used"
    return text


def _p_alive_notes(chosen: str, fits: dict[str, Any], x: pd.Series, t_x: pd.Series, big_t: pd.Series) -> pd.Series:
    """Why P(alive) is 1 for a one-time buyer under a model that assumes it (module docstring, step 4)."""
    notes = pd.Series(pd.NA, index=x.index, dtype="string")
    if chosen not in ONE_TIME_BUYERS_ALIVE:
        return notes
    once = (x == 0).to_numpy()
    text = (f"{MODEL_LABELS[chosen]} assumption: a customer without repeat purchases cannot have dropped out, "
            "however long ago they bought")
    alternative = fits.get("mbg_nbd")
    if alternative is None or isinstance(alternative, ModelFitError):
        notes[once] = text
        return notes
    other = alternative[0].p_alive(x[once], t_x[once], big_t[once])
    notes[once] = [f"{text}; MBG/NBD P(alive) {p:.2f}" for p in other]
    return notes


def _lapsed_warning(lapsed: dict[str, float], check: HoldoutCheck | None) -> tuple[str, ...]:
    """A warning when the models' likely-lapsed shares differ by ``LAPSED_DISAGREEMENT`` or more."""
    if len(lapsed) < 2 or max(lapsed.values()) - min(lapsed.values()) < LAPSED_DISAGREEMENT:
        return ()
    shares = ", ".join(f"{MODEL_LABELS[m]} {v:.1%}" for m, v in lapsed.items())
    assumption = (" The BG/NBD counts every one-time buyer alive; the MBG/NBD and Pareto/NBD let them lapse."
                  if "bg_nbd" in lapsed else "")
    judge = (f" The holdout check prefers {MODEL_LABELS[check.chosen]}." if check is not None and check.chosen else
             " No holdout check could arbitrate.")
    return (f"The models disagree on who has lapsed: the share of customers with P(alive) < {LIKELY_LAPSED_BELOW} is "
            f"{shares}.{assumption}{judge}",)


def _expected_spend(dataset: Any, summary: pd.DataFrame) -> tuple[np.ndarray, FitReport | None, str | None]:
    """Gamma-Gamma expected spend per purchase, or the observed mean purchase-day value with the reason why."""
    repeat = (summary["frequency"] > 0) & (summary["monetary_value"] > 0)
    reason: str
    if int(repeat.sum()) >= MIN_REPEAT_BUYERS_FOR_SPEND:
        try:
            spend_model = gamma_gamma.fit(summary.loc[repeat, "frequency"], summary.loc[repeat, "monetary_value"])
            value = spend_model.conditional_expected_average_value(summary["frequency"], summary["monetary_value"])
            return value, report("gamma_gamma", spend_model, None), None
        except ModelFitError as failure:
            reason = f"the Gamma-Gamma fit failed ({str(failure).split('. Data:')[0]})"
    else:
        reason = f"only {int(repeat.sum())} repeat buyers (the Gamma-Gamma needs {MIN_REPEAT_BUYERS_FOR_SPEND})"
    orders = kept_orders(dataset)
    totals = orders.groupby("customer_id")["amount"].sum().reindex(summary.index).to_numpy(dtype=float)
    observed = totals / (summary["frequency"].to_numpy() + 1)
    return observed, None, f"{reason}: expected spend is each customer's observed mean purchase-day value"
