"""Does a transaction model predict *this* customer base? The calibration/holdout check, and the model it chooses.

Fader, Hardie & Lee (2005, §4-5; "Counting Your Customers the Easy Way") validate the BG/NBD on CDNOW by splitting
the transaction log at a calibration end: the models are fitted on the calibration period only, and then

1. **by calibration frequency** (their Figure 4): customers are grouped by their repeat purchases in the calibration
   period, 0, 1, ..., 6 and 7+, and each group's mean number of purchases in the holdout period is set against the
   mean of the model's conditional expectations E[Y(t*) | x, t_x, T] (t* = the holdout length) — the check that the
   model tells a frequent buyer from an occasional one, and a lapsed one from a live one;
2. **in aggregate**: the customers' total holdout purchases against the summed conditional expectations;
3. **over time** (their Figure 2): cumulative repeat purchases week by week, calibration and holdout, against
   sum_i E[X(t - s_i)] (each customer's unconditional expectation from their first purchase s_i).

:func:`holdout_check` runs the check for each transaction model (BG/NBD, MBG/NBD, Pareto/NBD; fitted as
:func:`~lifecycle.clv.order_models.fit_transaction_model` does, with its reported penalised retry) on any
transaction log (fitted together by :func:`~lifecycle.clv.order_models.fit_order_models`) and chooses the model with
the smallest **frequency-group error**:

    error = sum_k n_k |mean predicted_k - mean actual_k| / sum_k n_k mean actual_k

(k the frequency groups, n_k their customers): the share of the actual holdout purchases the model misplaces across
the groups. It counts aggregate bias (if every group is under-predicted it equals the total error) and the errors
that cancel in the total (a model that over-predicts the one-time buyers and under-predicts the frequent ones).
Exact ties go to the earlier model in ``ORDER_MODELS``. A model whose fit fails on the calibration period is
reported with the reason and not chosen.

The split: ``calibration_end`` if given; otherwise the first two thirds of the observed span (first purchase day to
the observation end), so the holdout is the last third. The check is refused, with the reason, when the history is
too short (``MIN_CALIBRATION_WEEKS`` of calibration and ``MIN_HOLDOUT_WEEKS`` of holdout) or too thin (fewer than
``MIN_CHECK_CUSTOMERS`` calibration customers, ``MIN_CHECK_REPEAT_BUYERS`` repeat buyers among them, or
``MIN_HOLDOUT_PURCHASES`` holdout purchases to compare against).

What it means for a user: a model that passes tracks the holdout group by group; one that misses by 30% or more
mis-ranks customers or mis-states the total, whatever its log-likelihood. All three models under-predicted CDNOW's
holdout by 12-16% (a known property of the data: the holdout year bought more than a stationary model expects),
so the check reports the aggregate error beside the choice rather than hiding it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Final

from lifecycle.clv.order_models import (
    MODEL_LABELS,
    ORDER_MODELS,
    FitReport,
    TransactionModel,
    check_model_name,
    fit_order_models,
)
from lifecycle.clv.rfm import calibration_and_holdout, days_per_unit
from lifecycle.errors import ModelFitError, QueryError
from lifecycle.lazy import deferred_module

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:  # loaded on first use (lifecycle.lazy): importing this module stays cheap
    np = deferred_module("numpy")
    pd = deferred_module("pandas")

FREQUENCY_GROUPS: Final = 8
"""Calibration frequencies 0, 1, ..., 6 and "7+" (Fader, Hardie & Lee 2005, Figure 4)."""
DEFAULT_HOLDOUT_SHARE: Final = 1 / 3
"""Without a calibration end, the last third of the observed span is the holdout."""
MIN_CALIBRATION_WEEKS: Final = 8.0
MIN_HOLDOUT_WEEKS: Final = 4.0
MIN_CHECK_CUSTOMERS: Final = 50
"""Fewer calibration customers than this and the models' differences are noise: the check is refused."""
MIN_CHECK_REPEAT_BUYERS: Final = 10
MIN_HOLDOUT_PURCHASES: Final = 10


@dataclass(frozen=True)
class FrequencyGroup:
    """Customers with one calibration frequency ("7+": seven or more) and their mean holdout purchases."""

    label: str
    customers: int
    actual: float
    predicted: dict[str, float | None]
    """Mean conditional expectation per model (None for a model whose fit failed)."""


@dataclass(frozen=True)
class ModelCheck:
    """One model's calibration fit and how its predictions met the holdout."""

    model: str
    fit: FitReport | None
    failure: str | None
    predicted_total: float | None
    total_error: float | None
    """(predicted - actual) / actual holdout purchases."""
    group_error: float | None
    """The frequency-group error of the module docstring (share of actual holdout purchases misplaced)."""
    tracking: tuple[float, ...]
    """Expected cumulative repeat purchases at ``HoldoutCheck.tracking_days`` (empty when the fit failed)."""


@dataclass(frozen=True)
class HoldoutCheck:
    """The calibration/holdout check of a transaction log (module docstring)."""

    first_purchase: date
    calibration_end: date
    holdout_end: date
    split: str
    """How the calibration end was set: "given" or "default (last third of the observed span)"."""
    time_unit: str
    calibration_length: float
    """From the first purchase to the calibration end, in ``time_unit``."""
    holdout_length: float
    customers: int
    repeat_buyers: int
    actual_total: int
    groups: tuple[FrequencyGroup, ...]
    models: tuple[ModelCheck, ...]
    chosen: str | None
    reason: str
    tracking_days: tuple[date, ...]
    tracking_actual: tuple[int, ...]

    def model(self, name: str) -> ModelCheck:
        """The check of model ``name``."""
        return next(m for m in self.models if m.model == name)

    def to_dict(self, tracking: bool = False) -> dict[str, Any]:
        """Plain JSON-ready data (dates as ISO text), e.g. for a CLI's ``--json``; the weekly tracking series only
        when asked for (one value per week and model)."""
        out: dict[str, Any] = {
            "first_purchase": self.first_purchase.isoformat(), "calibration_end": self.calibration_end.isoformat(),
            "holdout_end": self.holdout_end.isoformat(), "split": self.split, "time_unit": self.time_unit,
            "calibration_length": self.calibration_length, "holdout_length": self.holdout_length,
            "customers": self.customers, "repeat_buyers": self.repeat_buyers, "actual_total": self.actual_total,
            "groups": [{"label": g.label, "customers": g.customers, "actual": g.actual, "predicted": dict(g.predicted)}
                       for g in self.groups],
            "models": [{"model": m.model, "fit": m.fit.to_dict() if m.fit else None, "failure": m.failure,
                        "predicted_total": m.predicted_total, "total_error": m.total_error, "group_error": m.group_error}
                       for m in self.models],
            "chosen": self.chosen, "reason": self.reason,
        }
        if tracking:
            out["tracking"] = {"days": [d.isoformat() for d in self.tracking_days], "actual": list(self.tracking_actual),
                               **{m.model: list(m.tracking) for m in self.models if m.tracking}}
        return out


def holdout_check(
    transactions: pd.DataFrame,
    *,
    calibration_end: str | date | pd.Timestamp | None = None,
    observation_end: str | date | pd.Timestamp | None = None,
    customer_id_col: str = "customer_id",
    datetime_col: str = "timestamp",
    models: tuple[str, ...] = ORDER_MODELS,
    time_unit: str = "W",
) -> HoldoutCheck:
    """Run the calibration/holdout check of each model on a transaction log and choose one (module docstring).

    ``transactions`` has one row per purchase (same-day purchases are one purchase, as in
    :func:`~lifecycle.clv.rfm.rfm_summary`); ``observation_end`` defaults to the last purchase day. Raises
    QueryError with the reason when the history is too short or too thin for a check, or a model name is unknown.
    """
    names = tuple(check_model_name(m) for m in models)
    if not names:
        raise QueryError("the holdout check needs at least one model")
    missing = [c for c in (customer_id_col, datetime_col) if c not in transactions.columns]
    if missing:
        raise QueryError(f"transactions lack column(s) {', '.join(map(repr, missing))}")
    days = _purchase_days(transactions, customer_id_col, datetime_col)
    if days.empty:
        raise QueryError("cannot run the holdout check: there are no purchases")
    unit = days_per_unit(time_unit)
    first_day = days["day"].min()
    obs_end = _day(observation_end) if observation_end is not None else days["day"].max()
    days = days[days["day"] <= obs_end]
    if calibration_end is None:
        span = (obs_end - first_day).days
        cal_end = first_day + pd.Timedelta(days=math.floor(span * (1 - DEFAULT_HOLDOUT_SHARE)))
        split = "default (last third of the observed span)"
    else:
        cal_end = _day(calibration_end)
        split = "given"
    _check_lengths(first_day, cal_end, obs_end, unit, time_unit, split)

    frame = calibration_and_holdout(days.rename(columns={"day": "timestamp"}), calibration_period_end=cal_end,
                                    observation_period_end=obs_end, monetary_value_col=None, time_unit=time_unit)
    x, t_x, big_t = (frame[c].to_numpy(dtype=float) for c in ("frequency_cal", "recency_cal", "T_cal"))
    actual = frame["frequency_holdout"].to_numpy(dtype=float)
    holdout = float((obs_end - cal_end) / pd.Timedelta(days=unit))
    _check_data(len(x), int((x > 0).sum()), int(actual.sum()), cal_end, obs_end)

    group = np.minimum(x, FREQUENCY_GROUPS - 1).astype(int)
    counts = np.bincount(group, minlength=FREQUENCY_GROUPS)
    actual_by_group = np.bincount(group, weights=actual, minlength=FREQUENCY_GROUPS)
    tracking_days, tracking_actual, first_offsets = _actual_tracking(days, frame.index, first_day, obs_end)

    checks: list[ModelCheck] = []
    predicted_by_model: dict[str, np.ndarray | None] = {}
    for name, fit in fit_order_models(x, t_x, big_t, names).items():
        if isinstance(fit, ModelFitError):
            checks.append(ModelCheck(name, None, str(fit).split(". Data:")[0], None, None, None, ()))
            predicted_by_model[name] = None
            continue
        fitted, fit_report = fit
        predicted = np.asarray(fitted.conditional_expected_purchases(holdout, x, t_x, big_t), dtype=float)
        by_group = np.bincount(group, weights=predicted, minlength=FREQUENCY_GROUPS)
        predicted_by_model[name] = by_group
        total = float(predicted.sum())
        checks.append(ModelCheck(
            model=name, fit=fit_report, failure=None, predicted_total=total,
            total_error=(total - actual.sum()) / actual.sum(),
            group_error=float(np.abs(by_group - actual_by_group).sum() / actual.sum()),
            tracking=_expected_tracking(fitted, first_offsets, tracking_days, first_day, unit),
        ))
    groups = tuple(
        FrequencyGroup(label=f"{k}+" if k == FREQUENCY_GROUPS - 1 else str(k), customers=int(counts[k]),
                       actual=float(actual_by_group[k] / counts[k]),
                       predicted={name: (None if p is None else float(p[k] / counts[k])) for name, p in predicted_by_model.items()})
        for k in range(FREQUENCY_GROUPS) if counts[k] > 0
    )
    chosen, reason = _choose(checks, int(actual.sum()))
    return HoldoutCheck(
        first_purchase=first_day.date(), calibration_end=cal_end.date(), holdout_end=obs_end.date(), split=split,
        time_unit=time_unit, calibration_length=float((cal_end - first_day) / pd.Timedelta(days=unit)),
        holdout_length=holdout, customers=len(x), repeat_buyers=int((x > 0).sum()), actual_total=int(actual.sum()),
        groups=groups, models=tuple(checks), chosen=chosen, reason=reason,
        tracking_days=tuple(d.date() for d in tracking_days), tracking_actual=tuple(int(v) for v in tracking_actual),
    )


def order_holdout_check(dataset: Any, calibration_end: str | date | None = None,
                        models: tuple[str, ...] = ORDER_MODELS) -> HoldoutCheck:
    """:func:`holdout_check` of a dataset's kept orders (status not refunded/cancelled) to ``as_of``, in weeks.

    The observation end is ``dataset.as_of`` (nothing after it is read), so the default split holds out the last
    third of the span from the first kept order to ``as_of``.
    """
    from lifecycle.clv.customer_value import kept_orders  # customer_value uses this module: import late

    orders = kept_orders(dataset)
    if orders.empty:
        raise QueryError(f"cannot run the holdout check: no kept orders on or before {dataset.as_of}")
    return holdout_check(orders, calibration_end=calibration_end, observation_end=pd.Timestamp(dataset.as_of),
                         datetime_col="ordered_at", models=models)


def _choose(checks: list[ModelCheck], actual_total: int) -> tuple[str | None, str]:
    usable = [c for c in checks if c.group_error is not None]
    failed = [c for c in checks if c.group_error is None]
    failures = "; ".join(f"{MODEL_LABELS[c.model]} could not be fitted ({c.failure})" for c in failed)
    if not usable:
        return None, f"no model could be fitted on the calibration period: {failures}"
    best = min(usable, key=lambda c: (c.group_error, ORDER_MODELS.index(c.model)))  # type: ignore[arg-type]
    others = ", ".join(f"{MODEL_LABELS[c.model]} {c.group_error:.1%}" for c in usable if c is not best)
    assert best.group_error is not None and best.total_error is not None and best.predicted_total is not None
    reason = (f"{MODEL_LABELS[best.model]} predicts this holdout best: across calibration-frequency groups its "
              f"predictions misplace {best.group_error:.1%} of the {actual_total:,} actual holdout purchases"
              + (f" ({others})" if others else "")
              + f"; its total is {best.predicted_total:,.0f} ({best.total_error:+.1%})")
    return best.model, reason + (f". {failures}" if failures else "")


def _check_lengths(first: pd.Timestamp, cal_end: pd.Timestamp, obs_end: pd.Timestamp, unit: float, time_unit: str,
                   split: str) -> None:
    weeks = pd.Timedelta(days=7)
    calibration, holdout = (cal_end - first) / weeks, (obs_end - cal_end) / weeks
    span = f"the purchases run from {first.date()} to {obs_end.date()}"
    if split != "given" and (obs_end - first) / weeks < MIN_CALIBRATION_WEEKS + MIN_HOLDOUT_WEEKS:
        raise QueryError(f"cannot run the holdout check: {span}, {(obs_end - first) / weeks:.1f} weeks; it needs at "
                         f"least {MIN_CALIBRATION_WEEKS + MIN_HOLDOUT_WEEKS:.0f} weeks of history "
                         f"({MIN_CALIBRATION_WEEKS:.0f} to fit the models, {MIN_HOLDOUT_WEEKS:.0f} to compare against)")
    if calibration < MIN_CALIBRATION_WEEKS:
        raise QueryError(f"cannot run the holdout check: {span}, so a calibration period ending {cal_end.date()} holds "
                         f"{calibration:.1f} weeks; it needs at least {MIN_CALIBRATION_WEEKS:.0f}")
    if holdout < MIN_HOLDOUT_WEEKS:
        raise QueryError(f"cannot run the holdout check: {span}, so a calibration period ending {cal_end.date()} leaves "
                         f"a {holdout:.1f}-week holdout; it needs at least {MIN_HOLDOUT_WEEKS:.0f}")


def _check_data(customers: int, repeat_buyers: int, holdout_purchases: int, cal_end: pd.Timestamp,
                obs_end: pd.Timestamp) -> None:
    if customers < MIN_CHECK_CUSTOMERS:
        raise QueryError(f"cannot run the holdout check: only {customers} customers bought by {cal_end.date()}; it "
                         f"needs at least {MIN_CHECK_CUSTOMERS}")
    if repeat_buyers < MIN_CHECK_REPEAT_BUYERS:
        raise QueryError(f"cannot run the holdout check: only {repeat_buyers} of {customers} customers made a repeat "
                         f"purchase by {cal_end.date()}; it needs at least {MIN_CHECK_REPEAT_BUYERS}")
    if holdout_purchases < MIN_HOLDOUT_PURCHASES:
        raise QueryError(f"cannot run the holdout check: those customers made {holdout_purchases} "
                         f"purchase{'' if holdout_purchases == 1 else 's'} from "
                         f"{(cal_end + pd.Timedelta(days=1)).date()} to {obs_end.date()}; it needs at least "
                         f"{MIN_HOLDOUT_PURCHASES} to compare against")


def _purchase_days(transactions: pd.DataFrame, customer_id_col: str, datetime_col: str) -> pd.DataFrame:
    """Distinct (customer_id, day) purchase days."""
    try:
        stamps = pd.to_datetime(transactions[datetime_col], format="mixed")
    except (ValueError, TypeError) as exc:
        raise QueryError(f"column {datetime_col!r} has values that are not dates: {exc}") from None
    if stamps.dt.tz is not None:
        stamps = stamps.dt.tz_localize(None)
    if stamps.isna().any():
        raise QueryError(f"column {datetime_col!r} has {int(stamps.isna().sum())} missing timestamp(s)")
    frame = pd.DataFrame({"customer_id": transactions[customer_id_col].to_numpy(), "day": stamps.dt.normalize().to_numpy()})
    return frame.drop_duplicates().sort_values(["customer_id", "day"], kind="stable").reset_index(drop=True)


def _actual_tracking(days: pd.DataFrame, customers: pd.Index, first_day: pd.Timestamp,
                     obs_end: pd.Timestamp) -> tuple[list[pd.Timestamp], np.ndarray, pd.Series]:
    """Week-end days from the first purchase to the observation end, the calibration customers' cumulative repeat
    purchase days on or before each, and each customer's first purchase offset in days."""
    cohort = days[days["customer_id"].isin(customers)]
    first = cohort.groupby("customer_id")["day"].transform("min")
    repeat_offsets = ((cohort["day"] - first_day).dt.days)[cohort["day"] > first].to_numpy()
    total_days = (obs_end - first_day).days
    ends = list(range(6, total_days, 7)) + [total_days]
    actual = np.searchsorted(np.sort(repeat_offsets), np.asarray(ends), side="right")
    first_offsets = (cohort.groupby("customer_id")["day"].min() - first_day).dt.days
    return [first_day + pd.Timedelta(days=e) for e in ends], actual, first_offsets


def _expected_tracking(fitted: TransactionModel, first_offsets: pd.Series, tracking_days: list[pd.Timestamp],
                       first_day: pd.Timestamp, unit: float) -> tuple[float, ...]:
    """sum_i E[X((day - first_i) / unit)] at each tracking day, computed per distinct first-purchase day."""
    offsets, counts = np.unique(first_offsets.to_numpy(), return_counts=True)
    ends = np.array([(d - first_day).days for d in tracking_days], dtype=float)
    age = np.maximum(ends[None, :] - offsets[:, None], 0.0) / unit
    expected = np.where(age > 0, fitted.expected_purchases(age), 0.0)
    return tuple(float(v) for v in (counts[:, None] * expected).sum(axis=0))


def _day(value: str | date | pd.Timestamp) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_localize(None)
    return stamp.normalize()
