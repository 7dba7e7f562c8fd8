"""The ``predict_clv`` tool: probabilistic customer lifetime value and retention.

Order-based data (``model`` auto, bg_nbd, mbg_nbd or pareto_nbd): ``lifecycle.clv.customer_value.predict_customer_value``
on the scope's kept orders to as_of (BG/NBD, MBG/NBD or Pareto/NBD for purchases and drop-out, Gamma-Gamma for
spend), presented as the fit reports, why that model (``model_choice``), the calibration/holdout check by
calibration frequency (``check``, ``lifecycle.clv.holdout_check``), warnings, the population summary
(``summarize_customer_value``) and the customers in list order (``rank_customer_value``, paged with a cursor bound
to the query), or one customer's row. ``model`` auto (the default) lets the holdout check choose the order model;
on data without orders but with subscriptions it is sbg.

Subscription data (``model`` sbg): ``lifecycle.clv.retention_forecast.subscription_retention_forecast`` on the
signup cohorts of the ``SBG_COHORT_MONTHS`` months ending on as_of: the sBG fit and the projected retention
(``retention``), and ``lifecycle.clv.subscription_value.predict_subscription_value``: the current subscribers by
residual value (or renewal probability ascending, sort=p_alive), paged the same way, or one subscriber's row.

Fits are memoised per database file, scope, model, horizon and discount rate, so paging does not refit.

Numbers are rounded for presentation only — parameters and log-likelihood to 6 significant digits,
probabilities and expected purchases to 4 decimals, money to 2 decimals, weeks to 4 decimals — so the same
arguments on the same data give byte-identical results.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from lifecycle import paging
from lifecycle.clv.customer_value import (
    CLV_ORDERS,
    DEFAULT_DISCOUNT_RATE_ANNUAL,
    DEFAULT_HORIZON_MONTHS,
    LIKELY_LAPSED_BELOW,
    ClvOrder,
    ClvSummary,
    ClvTable,
    FitReport,
    ModelChoice,
    SegmentValue,
    predict_customer_value,
    rank_customer_value,
    summarize_customer_value,
)
from lifecycle.clv.holdout_check import FrequencyGroup, HoldoutCheck, ModelCheck
from lifecycle.clv.order_models import MODEL_LABELS
from lifecycle.clv.retention_forecast import COHORT_MONTHS
from lifecycle.clv.subscription_value import (
    SUBSCRIBER_ORDERS,
    SubscriptionValueTable,
    predict_subscription_value,
    rank_subscription_value,
)
from lifecycle.errors import QueryError
from lifecycle.lazy import deferred_module
from lifecycle.scope import Scope
from tools.base import READ_ONLY, ToolContext, structured_result
from tools.classify_customer import CustomerId
from tools.records import wire_model
from tools.runtime import Work, run_tool
from tools.scope import AsOf, FiltersArg, ScopeOut, check_customer, memo, resolve_scope
from tools.text import MISSING, data_text, money, number, page_line, table

if TYPE_CHECKING:
    import pandas as pd
else:  # loaded on first use (lifecycle.lazy): importing this module stays cheap
    pd = deferred_module("pandas")

NAME = "predict_clv"
TITLE = "Customer lifetime value"
DESCRIPTION = (
    "CLV. Orders: BG/NBD, MBG/NBD or Pareto/NBD (model=auto: the one a holdout check on this data picks) with "
    "Gamma-Gamma spend: fit, check, summary, customers by expected CLV or P(alive) ascending (sort=p_alive), or one "
    "customer_id; page with cursor=next_cursor. Subscriptions (model=sbg; auto without orders): sBG retention "
    "forecast and subscribers by residual value or renewal probability."
)
ClvModel = Literal["auto", "bg_nbd", "mbg_nbd", "pareto_nbd", "sbg"]
SBG_COHORT_MONTHS = COHORT_MONTHS
"""model=sbg fits the signup cohorts of the 36 months ending on as_of (``retention_forecast.COHORT_MONTHS``)."""
WRONG_QUERY = ("this cursor belongs to a different predict_clv query (other filters, model, horizon, discount rate or "
               "sort): repeat the original arguments with it, or omit cursor to start from the first page")


def _sig(value: float) -> float:
    """``value`` to 6 significant digits (NaN and infinities pass through; the result edge turns them into null)."""
    return float(f"{value:.6g}") if math.isfinite(value) else value


def _dec(value: Any, digits: int) -> float | None:
    number = float(value) if value is not None and value is not pd.NA else math.nan
    return round(number, digits) if math.isfinite(number) else None


class FitOut(wire_model(FitReport, exclude=("penalizer", "log_penalizer"), descriptions={  # type: ignore[misc]
        "n": "Customers fitted."})):
    """How a model was fitted (``lifecycle.clv.order_models.FitReport``; parameters and log-likelihood to 6
    significant digits)."""


class SegmentOut(wire_model(SegmentValue)):  # type: ignore[misc]
    """One RFM segment's customers and expected CLV (``lifecycle.clv.customer_value.SegmentValue``)."""


class ClvSummaryOut(wire_model(ClvSummary, types={"segments": list[SegmentOut]}, descriptions={  # type: ignore[misc]
        "total_clv": "Expected CLV of all customers over the horizon.",
        "p_alive_quantiles": "p10, p25, p50, p75, p90.",
        "likely_lapsed": f"Customers with P(alive) < {LIKELY_LAPSED_BELOW}.",
        "segments": "Customers and expected CLV per RFM segment."})):
    """The modelled population (``lifecycle.clv.customer_value.ClvSummary``; money to 2 decimals)."""


class GroupOut(wire_model(FrequencyGroup, rename={"label": "frequency"})):  # type: ignore[misc]
    """Customers with one calibration frequency (``lifecycle.clv.holdout_check.FrequencyGroup``; 4 decimals)."""


class ModelCheckOut(wire_model(  # type: ignore[misc]
        ModelCheck, exclude=("fit", "predicted_total", "tracking"),
        descriptions={"total_error": "(predicted - actual) / actual.",
                      "group_error": "Share of actual purchases misplaced across groups."},
        order=("model", "total_error", "group_error", "failure"))):
    """One model's holdout check (``lifecycle.clv.holdout_check.ModelCheck``; errors to 4 decimals)."""


class HoldoutOut(wire_model(  # type: ignore[misc]
        HoldoutCheck, exclude=("first_purchase", "holdout_end", "split", "time_unit", "calibration_length",
                               "repeat_buyers", "reason", "tracking_days", "tracking_actual"),
        rename={"holdout_length": "holdout_weeks", "actual_total": "actual"},
        types={"calibration_end": str, "groups": list[GroupOut], "models": list[ModelCheckOut]},
        descriptions={"actual": "Their holdout purchases.",
                      "groups": "Mean holdout purchases by calibration frequency."})):
    """The calibration/holdout check (``lifecycle.clv.holdout_check.HoldoutCheck``; weeks and purchases to 4
    decimals)."""


class ClvCustomer(BaseModel):
    rank: int = Field(description="Position in the sort order.")
    customer_id: str
    frequency: int = Field(description="Repeat purchase days.")
    recency: float = Field(description="Weeks from first to last purchase.")
    T: float = Field(description="Weeks from first purchase to as_of.")
    monetary_value: float = Field(description="Mean repeat purchase-day value.")
    p_alive: float | None
    p_alive_note: str | None
    expected_purchases: float | None = Field(description="Over the horizon.")
    expected_avg_value: float | None = Field(description="Expected spend per purchase.")
    clv: float | None = Field(description="Discounted expected value over the horizon.")
    rfm_segment: str | None


class RetentionOut(BaseModel):
    cohorts: int = Field(description="Signup-month cohorts fitted.")
    survival: list[float] = Field(description="Share of a new cohort still paying after months 1..horizon.")
    expected_paid_months: float = Field(description="A new customer's discounted expected monthly payments in the "
                                                    "horizon.")
    discounted_expected_lifetime: float | None = Field(description="The same without a horizon (DEL).")
    subscribers: int = Field(description="Customers paying on as_of.")
    total_mrr: float
    total_residual_value: float = Field(description="Σ residual_value of the subscribers.")


class SubscriberOut(BaseModel):
    rank: int = Field(description="Position in the sort order.")
    customer_id: str
    renewals: int = Field(description="Months since the signup month.")
    mrr: float = Field(description="MRR on as_of.")
    p_renew: float = Field(description="P(paying next month).")
    residual_months: float = Field(description="Discounted expected paid months in the horizon.")
    residual_value: float = Field(description="mrr x residual_months.")


class PredictClvResult(BaseModel):
    scope: ScopeOut
    horizon_months: int
    discount_rate_annual: float
    fit: FitOut
    model_choice: str | None
    check: HoldoutOut | None
    warnings: list[str]
    spend: FitOut | None
    spend_note: str | None
    summary: ClvSummaryOut | None
    customer: ClvCustomer | SubscriberOut | None
    retention: RetentionOut | None
    total: int = Field(description="Customers modelled.")
    offset: int
    limit: int
    next_cursor: str | None
    order: str
    items: list[ClvCustomer | SubscriberOut]


def fit_out(report: FitReport) -> FitOut:
    """The fit report rounded for presentation (parameters and log-likelihood to 6 significant digits)."""
    return FitOut.of(report, params={k: _sig(v) for k, v in report.params.items()},
                     log_likelihood=_sig(report.log_likelihood))


def check_out(check: HoldoutCheck) -> HoldoutOut:
    """The holdout check rounded for presentation (purchases to 4 decimals, errors to 4)."""
    return HoldoutOut.of(
        check, calibration_end=check.calibration_end.isoformat(), holdout_weeks=round(check.holdout_length, 4),
        groups=[GroupOut.of(g, actual=round(g.actual, 4), predicted={m: _dec(v, 4) for m, v in g.predicted.items()})
                for g in check.groups],
        models=[ModelCheckOut.of(m, total_error=_dec(m.total_error, 4), group_error=_dec(m.group_error, 4))
                for m in check.models])


def _text(value: Any) -> str | None:
    return None if value is None or value is pd.NA else str(value)


def customer_out(rank: int, customer_id: str, row: pd.Series) -> ClvCustomer:
    segment = row["rfm_segment"]
    return ClvCustomer(
        rank=rank, customer_id=str(customer_id), frequency=int(row["frequency"]), recency=round(float(row["recency"]), 4),
        T=round(float(row["T"]), 4), monetary_value=round(float(row["monetary_value"]), 2), p_alive=_dec(row["p_alive"], 4),
        p_alive_note=_text(row["p_alive_note"]),
        expected_purchases=_dec(row["expected_purchases"], 4), expected_avg_value=_dec(row["expected_avg_value"], 2),
        clv=_dec(row["clv"], 2), rfm_segment=None if segment is None or segment is pd.NA else str(segment),
    )


def summary_out(table: ClvTable) -> ClvSummaryOut:
    summary = summarize_customer_value(table)
    return ClvSummaryOut.of(
        summary, total_clv=round(summary.total_clv, 2),
        p_alive_quantiles={k: _dec(v, 4) for k, v in summary.p_alive_quantiles.items()},
        segments=[SegmentOut.of(s, clv=round(s.clv, 2)) for s in summary.segments])


def clv_table(work: Work, scope: Scope, model: ModelChoice, horizon_months: int,
              discount_rate_annual: float) -> ClvTable:
    """``predict_customer_value`` of the scope's orders (memoised per database file and arguments)."""
    def compute() -> ClvTable:
        dataset = work.dataset(scope.as_of, scope.filters)
        work.step(0, 1, "checking the order models on a holdout, fitting them and gamma_gamma")
        return predict_customer_value(dataset, horizon_months, discount_rate_annual, model)

    return memo(work, "clv", (scope.key(), model, horizon_months, discount_rate_annual), compute)


def query_digest(scope: Scope, model: str, horizon_months: int, discount_rate_annual: float, sort: str) -> str:
    """What a cursor is bound to: filters, model, horizon, discount rate and ordering (not as_of)."""
    return paging.query_digest({"filters": scope.filters.to_dict(), "model": model, "horizon_months": horizon_months,
                                "discount_rate_annual": discount_rate_annual, "order": CLV_ORDERS[sort]})


def subscription_value(work: Work, scope: Scope, horizon_months: int,
                       discount_rate_annual: float) -> SubscriptionValueTable:
    """``predict_subscription_value`` of the signup cohorts of the scope's window (memoised)."""
    def compute() -> SubscriptionValueTable:
        dataset = work.dataset(scope.as_of, scope.filters, scope.window)
        work.step(0, 1, "fitting sbg on the signup cohorts")
        return predict_subscription_value(dataset, horizon_months, discount_rate_annual)

    return memo(work, "sbg", (scope.key(), horizon_months, discount_rate_annual), compute)


def subscriber_out(rank: int, customer_id: str, row: pd.Series) -> SubscriberOut:
    return SubscriberOut(rank=rank, customer_id=str(customer_id), renewals=int(row["renewals"]),
                         mrr=round(float(row["mrr"]), 2), p_renew=round(float(row["p_renew"]), 4),
                         residual_months=round(float(row["residual_months"]), 4),
                         residual_value=round(float(row["residual_value"]), 2))


def retention_result(work: Work, scope: Scope, horizon_months: int, discount_rate_annual: float,
                     customer_id: str | None, sort: ClvOrder, limit: int, cursor: str | None,
                     choice: str | None = None) -> PredictClvResult:
    """model=sbg: the retention forecast, plus the current subscribers' page or one subscriber's row."""
    digest = paging.query_digest({"filters": scope.filters.to_dict(), "model": "sbg", "horizon_months": horizon_months,
                                  "discount_rate_annual": discount_rate_annual, "order": SUBSCRIBER_ORDERS[sort]})
    offset = paging.decode_cursor(cursor, digest, WRONG_QUERY) if cursor is not None else 0
    if customer_id:
        with work.connect() as conn:
            check_customer(conn, customer_id)
    table = subscription_value(work, scope, horizon_months, discount_rate_annual)
    forecast = table.forecast
    ranked = rank_subscription_value(table, sort)
    retention = RetentionOut(cohorts=forecast.cohorts, survival=[round(v, 4) for v in forecast.survival],
                             expected_paid_months=round(forecast.expected_paid_months, 2),
                             discounted_expected_lifetime=_dec(forecast.discounted_expected_lifetime, 2),
                             subscribers=len(ranked), total_mrr=round(table.total_mrr, 2),
                             total_residual_value=round(table.total_residual_value, 2))
    common: dict[str, Any] = {
        "scope": ScopeOut.of(scope), "horizon_months": horizon_months, "discount_rate_annual": discount_rate_annual,
        "fit": fit_out(forecast.fit), "model_choice": choice, "check": None, "warnings": [], "spend": None,
        "spend_note": None, "summary": None, "retention": retention, "total": len(ranked),
        "order": SUBSCRIBER_ORDERS[sort], "limit": limit,
    }
    if customer_id:
        if customer_id not in ranked.index:
            raise QueryError(f"customer {customer_id!r} is not paying on {scope.as_of} in this scope (no subscription "
                             "with MRR > 0), so there is no residual value to predict. Call without customer_id to "
                             "list the current subscribers.")
        rank = int(ranked.index.get_loc(customer_id)) + 1
        return PredictClvResult(**common, customer=subscriber_out(rank, customer_id, ranked.loc[customer_id]),
                                offset=0, next_cursor=None, items=[])
    page = ranked.iloc[offset: offset + limit]
    end = offset + len(page)
    items: list[ClvCustomer | SubscriberOut] = [subscriber_out(offset + i + 1, str(cid), row)
                                                for i, (cid, row) in enumerate(page.iterrows())]
    return PredictClvResult(**common, customer=None, offset=offset,
                            next_cursor=paging.encode_cursor(end, digest) if end < len(ranked) else None, items=items)


SUBSCRIPTIONS_CHOICE = ("sbg: the data have subscriptions and no orders, so the sBG on signup cohorts values them "
                        "(the order models need purchases)")


def predict(work: Work, scope: Scope, *, model: ClvModel, horizon_months: int,
            discount_rate_annual: float, customer_id: str | None, sort: ClvOrder, limit: int,
            cursor: str | None) -> PredictClvResult:
    if model == "sbg":
        return retention_result(work, scope, horizon_months, discount_rate_annual, customer_id, sort, limit, cursor)
    digest = query_digest(scope, model, horizon_months, discount_rate_annual, sort)
    offset = paging.decode_cursor(cursor, digest, WRONG_QUERY) if cursor is not None else 0
    if customer_id:
        with work.connect() as conn:
            check_customer(conn, customer_id)
    table = clv_table(work, scope, model, horizon_months, discount_rate_annual)
    ranked = rank_customer_value(table, sort)
    common: dict[str, Any] = {
        "scope": ScopeOut.of(scope), "horizon_months": horizon_months, "discount_rate_annual": discount_rate_annual,
        "fit": fit_out(table.transactions), "model_choice": table.model_choice, "warnings": list(table.warnings),
        "spend": fit_out(table.spend) if table.spend else None,
        "spend_note": table.spend_note, "total": len(ranked), "order": CLV_ORDERS[sort],
    }
    if customer_id:
        if customer_id not in ranked.index:
            raise QueryError(f"customer {customer_id!r} has no purchases on or before {scope.as_of} in this scope, so "
                             "there is no CLV to predict. Call without customer_id to list the customers modelled.")
        rank = int(ranked.index.get_loc(customer_id)) + 1
        return PredictClvResult(**common, check=None, summary=None,
                                customer=customer_out(rank, customer_id, ranked.loc[customer_id]), retention=None,
                                offset=0, limit=limit, next_cursor=None, items=[])
    page = ranked.iloc[offset: offset + limit]
    end = offset + len(page)
    items: list[ClvCustomer | SubscriberOut] = [customer_out(offset + i + 1, str(cid), row)
                                                for i, (cid, row) in enumerate(page.iterrows())]
    return PredictClvResult(**common, check=check_out(table.check) if table.check else None, summary=summary_out(table),
                            customer=None, retention=None, offset=offset, limit=limit,
                            next_cursor=paging.encode_cursor(end, digest) if end < len(ranked) else None, items=items)


def _fit_text(fit: FitOut) -> str:
    params = ", ".join(f"{k}={number(v, 4)}" for k, v in fit.params.items())
    flags = ", ".join(f for f, on in (("converged", fit.converged), ("penalised", fit.penalized)) if on) or "not converged"
    return f"{fit.model} on {fit.n} customers: {params}; log-likelihood {number(fit.log_likelihood, 1)}; {flags}" + (
        f"; {data_text(fit.note, 160)}" if fit.note else "")


def summary_text(result: PredictClvResult, currency: str = "USD") -> str:
    """The fit(s), the summary or retention forecast, and every customer of the page (or the one asked for)."""
    m = lambda v: money(v, currency)  # noqa: E731
    kind = "Retention" if result.retention is not None else "CLV"
    lines = [f"{kind} as of {result.scope.as_of} ({result.horizon_months}-month horizon, "
             f"{result.discount_rate_annual:.0%} a year discount; money in {currency}).", "Fit: " + _fit_text(result.fit)]
    if result.spend is not None:
        lines.append("Spend: " + _fit_text(result.spend))
    if result.spend_note:
        lines.append(data_text(result.spend_note, 200))
    if result.retention is not None:
        r = result.retention
        lines.append(f"sBG on {r.cohorts} signup cohorts. Share of a new cohort still paying after month 1..{len(r.survival)}: "
                     + " ".join(f"{v * 100:.1f}%" for v in r.survival) + ".")
        lines.append(f"A new customer pays {number(r.expected_paid_months)} discounted months within the horizon "
                     f"(unbounded: {number(r.discounted_expected_lifetime)}). {r.subscribers} current subscribers, MRR "
                     f"{m(r.total_mrr)}, residual value {m(r.total_residual_value)}.")
    if result.summary is not None:
        s = result.summary
        quantiles = ", ".join(f"{k} {number(v, 3)}" for k, v in s.p_alive_quantiles.items())
        lines.append(f"{s.customers} customers, total expected CLV {m(s.total_clv)}; P(alive) {quantiles}; "
                     f"{s.likely_lapsed} below {LIKELY_LAPSED_BELOW}.")
        lines.append("RFM segments: " + "; ".join(f"{g.segment} {g.customers} customers, CLV {m(g.clv)}" for g in s.segments))
    if result.model_choice:
        lines.append(f"Model: {data_text(result.model_choice, 400)}.")
    if result.check is not None:
        lines += check_lines(result.check)
    lines += [f"Warning: {w}" for w in result.warnings]
    if isinstance(result.customer, SubscriberOut) or isinstance(result.customer, ClvCustomer):
        rows = [result.customer]
        lines.append(f"Customer {result.customer.customer_id} (rank {result.customer.rank} of {result.total}):")
    else:
        rows = list(result.items)
        lines.append(f"Customers by {result.order}:")
    subscribers = [r for r in rows if isinstance(r, SubscriberOut)]
    buyers = [r for r in rows if isinstance(r, ClvCustomer)]
    if subscribers:
        lines += table(("rank", "customer", "months since signup", "MRR", "P(renew)", "residual months", "residual value"),
                       ((c.rank, c.customer_id, c.renewals, m(c.mrr), number(c.p_renew, 3), number(c.residual_months),
                         m(c.residual_value)) for c in subscribers))
    if buyers:
        lines += table(("rank", "customer", "repeat days", "recency wk", "T wk", "avg value", "P(alive)", "exp. purchases",
                        "exp. value", "CLV", "RFM"),
                       ((c.rank, c.customer_id, c.frequency, number(c.recency, 1), number(c.T, 1), m(c.monetary_value),
                         number(c.p_alive, 3), number(c.expected_purchases), m(c.expected_avg_value), m(c.clv),
                         c.rfm_segment or MISSING) for c in buyers))
        notes = sorted({c.p_alive_note for c in buyers if c.p_alive_note})
        if notes:
            lines.append(f"P(alive) 1.000 of customers without repeat purchases: {data_text(notes[0].split(';')[0], 200)} "
                         "(p_alive_note; the MBG/NBD's value per row).")
    if result.customer is None:
        lines.append(page_line("customers", result.offset, len(result.items), result.total, result.next_cursor))
    return "\n".join(lines)


def check_lines(check: HoldoutOut) -> list[str]:
    """The holdout check: the split, each model's errors, and the frequency groups as a table."""
    models = "; ".join(f"{MODEL_LABELS.get(c.model, c.model)} " + (
        f"total {c.total_error * 100:+.1f}%, misplaced {c.group_error * 100:.1f}%"
        if c.total_error is not None and c.group_error is not None else f"not fitted ({data_text(c.failure or '', 120)})")
        for c in check.models)
    names = [c.model for c in check.models]
    return [f"Holdout check (fitted to {check.calibration_end}, {number(check.holdout_weeks, 1)}-week holdout, "
            f"{check.customers} customers, {check.actual} actual purchases): {models}. Mean holdout purchases by "
            "calibration purchases:",
            *table(("calibration purchases", "customers", "actual", *(MODEL_LABELS.get(n, n) for n in names)),
                   ((g.frequency, g.customers, number(g.actual, 2), *(number(g.predicted.get(n), 2) for n in names))
                    for g in check.groups))]


def register(server: MCPServer, ctx: ToolContext) -> None:
    """Add the ``predict_clv`` tool to ``server``."""

    async def predict_clv_tool(
        customer_id: Annotated[CustomerId | None, Field(description="One customer; omit for the list.")] = None,
        as_of: AsOf = None,
        filters: FiltersArg = None,
        model: ClvModel = "auto",
        horizon_months: Annotated[int, Field(ge=1, le=60)] = DEFAULT_HORIZON_MONTHS,
        discount_rate_annual: Annotated[float, Field(ge=0, le=1)] = DEFAULT_DISCOUNT_RATE_ANNUAL,
        sort: ClvOrder = "clv",
        limit: Annotated[int, Field(ge=1, le=100)] = 20,
        cursor: Annotated[str | None, Field(max_length=512)] = None,
        mcp_ctx: Context | None = None,
    ) -> Annotated[CallToolResult, PredictClvResult]:
        def work_fn(work: Work) -> CallToolResult:
            chosen = model
            if model == "auto":
                dataset = work.dataset(resolve_scope(work, as_of, filters).as_of)
                if not dataset.has("orders") and dataset.has("subscriptions"):
                    chosen = "sbg"
            scope = resolve_scope(work, as_of, filters, SBG_COHORT_MONTHS if chosen == "sbg" else 12)
            if chosen == "sbg" and model == "auto":
                result = retention_result(work, scope, horizon_months, discount_rate_annual, customer_id, sort, limit,
                                          cursor, SUBSCRIPTIONS_CHOICE)
            else:
                result = predict(work, scope, model=chosen, horizon_months=horizon_months,
                                 discount_rate_annual=discount_rate_annual, customer_id=customer_id, sort=sort,
                                 limit=limit, cursor=cursor)
            return structured_result(result, summary_text(result, ctx.config.revenue.currency))

        return await run_tool(ctx, mcp_ctx, work_fn)

    server.add_tool(predict_clv_tool, name=NAME, title=TITLE, description=DESCRIPTION, annotations=READ_ONLY)
