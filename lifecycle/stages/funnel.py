"""The stage funnel: how far leads and customers got through the lifecycle in the window, and where they stall.

Seed 000 asks for "progression rates: percentage of customers progressing between stages" and "bottleneck
analysis". The funnel counts, for each stage of the stage model in order, how many reached it *or a later one*:

- **lead stages** (population ``leads``): leads created in the window, each at the furthest funnel status it reached
  by ``as_of`` (won > opportunity > sql > mql > its status column; a lost lead keeps the furthest status it reached
  before it was lost), classified with the model's lead rules. A lead that became a customer by ``as_of`` (won, or
  linked to a customer who had signed up) reached every lead stage.
- **customer stages** (population ``customers``): customers active (classified, not churned) at one or more of the
  window's monthly as-of checkpoints (``as_of`` and the same day 1..12 months earlier — the checkpoints the flow
  metrics use), each at the highest-order stage it was seen in. Monthly resolution: a stage held only between two
  checkpoints is not seen, so the counts are lower bounds.

Conversion from one step to the next is ``reached(next) ÷ reached(this)`` within a population; the bridge from the
last lead stage to the first customer stage is ``leads of the window that became customers ÷ leads that reached the
last lead stage`` (customers who never were a lead are not in it). The **bottleneck** is the customer stage with the
highest stagnation rate (share of its customers in it longer than its ``expected_days``), among stages with at least
``small_sample`` customers; without stagnation data, the customer step with the lowest conversion to the next.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

import numpy as np
import pandas as pd

from lifecycle.dataset import Dataset
from lifecycle.filters import Filters
from lifecycle.membership import is_member
from lifecycle.scope import Scope
from lifecycle.snapshot.build import snapshot_of
from lifecycle.stages.classification import UNCLASSIFIED, first_match
from lifecycle.stages.history import checkpoints, stage_features, stage_states, stages_at
from lifecycle.stages.model import StageModel
from lifecycle.stages.value import CHURNED
from lifecycle.stages.verdict import _customers_by

# Furthest funnel status first: the first non-empty date decides (lost is left out: losing is not progress).
PROGRESS_DATES = (("won_at", "won"), ("opportunity_at", "opportunity"), ("sql_at", "sql"), ("mql_at", "mql"))


@dataclass(frozen=True)
class FunnelStep:
    """``reached`` of the step's population got to ``stage`` or a later one."""

    stage: str
    name: str
    population: str  # leads | customers
    reached: int


@dataclass(frozen=True)
class FunnelConversion:
    """``converted`` of ``base`` who reached ``from_stage`` went on to reach ``to_stage`` (rate None when base is 0)."""

    from_stage: str
    to_stage: str
    converted: int
    base: int

    @property
    def rate(self) -> float | None:
        return self.converted / self.base if self.base else None


@dataclass(frozen=True)
class StageFunnel:
    """Funnel steps in model order, the conversions between consecutive steps, and the window it covers."""

    steps: tuple[FunnelStep, ...]
    conversions: tuple[FunnelConversion, ...]
    window_start: str
    as_of: str

    def step(self, stage: str) -> FunnelStep | None:
        return next((s for s in self.steps if s.stage == stage), None)


@dataclass(frozen=True)
class Bottleneck:
    """The stage customers stall in: by ``basis`` ``stagnation`` (value = stagnation rate of ``n`` customers in it)
    or ``conversion`` (value = conversion to the next stage of ``n`` who reached it)."""

    stage: str
    basis: str
    value: float
    n: int


def lead_progress(dataset: Dataset) -> pd.DataFrame:
    """Leads created in the window with the furthest funnel status they reached by ``as_of`` and whether they converted.

    Columns: lead_id, funnel_status, days_since_created, source, segment, converted. A lead converted when it was
    won or is linked to a customer who had signed up by ``as_of`` (filters aside, as ``lead_features`` does).
    """
    leads = dataset.table("leads")
    if not leads.empty:
        leads = leads[(leads["created_at"] >= pd.Timestamp(dataset.window.start)).to_numpy(dtype=bool)]
    if leads.empty:
        return pd.DataFrame({c: pd.Series([], dtype="string") for c in ("lead_id", "funnel_status", "source", "segment")}
                            | {"days_since_created": pd.Series([], dtype="float64"), "converted": pd.Series([], dtype=bool)})
    dated = np.select([leads[c].notna().to_numpy() for c, _ in PROGRESS_DATES], [s for _, s in PROGRESS_DATES], default="")
    status = leads["status"].astype("string").str.lower().fillna("lead").to_numpy(dtype=object)
    status = np.where(status == "lost", "lead", status)
    funnel = np.where(dated != "", dated, status)
    converted = (funnel == "won") | is_member(leads["customer_id"], _customers_by(dataset))
    return pd.DataFrame({"lead_id": leads["lead_id"].astype("string").to_numpy(), "funnel_status": pd.array(funnel, dtype="string"),
                         "days_since_created": (pd.Timestamp(dataset.as_of) - leads["created_at"]).dt.days.astype("float64").to_numpy(),
                         "source": leads["source"].astype("string").to_numpy(), "segment": leads["segment"].astype("string").to_numpy(),
                         "converted": converted})


def _lead_reached(dataset: Dataset, model: StageModel, lead_stages: list) -> tuple[list[int], int]:
    """Leads reaching each lead stage (or beyond), and how many converted to customers."""
    stage, converted = _lead_stages(dataset, model)
    if not len(stage):
        return [0] * len(lead_stages), 0
    order = {s.id: s.order for s in lead_stages}
    top = max(order.values()) + 1
    # each lead's stage order (0 for a stage without one), by one hash look-up of the stage ids: order.get per lead
    at = pd.Index(list(order), dtype=object).get_indexer(np.asarray(stage, dtype=object))
    reached_order = np.array([*order.values(), 0], dtype="int64")[at]  # -1 (not a lead stage) takes the trailing 0
    reached_order = np.where(converted, top, reached_order)
    counts = [int((reached_order >= s.order).sum()) if k else int(len(stage)) for k, s in enumerate(lead_stages)]
    return counts, int(converted.sum())


def _lead_stages(dataset: Dataset, model: StageModel) -> tuple[np.ndarray, np.ndarray]:
    """Per lead of ``lead_progress`` (in its order): the lead stage its first matching rule gives and whether it
    converted. The rules read one lead's row at a time and ``converted`` does not depend on the filters, so with a
    data identity the whole base's are memoised (per data, configuration, model, as_of and window; the whole base's
    call keeps them for every filter) and a filtered scope takes them for the leads its filters select
    (``Dataset.table("leads")``), in the same table order."""
    def of(scope_data: Dataset) -> tuple[pd.Series, np.ndarray, np.ndarray]:
        leads = lead_progress(scope_data)
        if leads.empty:
            return leads["lead_id"], np.array([], dtype=object), np.array([], dtype=bool)
        stage, _ = first_match(leads, model.lead_rules, model)
        return leads["lead_id"], stage, leads["converted"].to_numpy(dtype=bool)

    if dataset.identity is None:
        _, stage, converted = of(dataset)
        return stage, converted
    from lifecycle.memo import remember

    whole_base = dataset.filters.is_empty()
    base = dataset if whole_base else dataset.rescoped(Scope(dataset.as_of, dataset.window, Filters()))
    key = ("lead_funnel_stages", dataset.identity, dataset.config.fingerprint(), model.origin, model.id, dataset.as_of,
           dataset.window)
    ids, stage, converted = remember(key, lambda: of(base))  # the whole base's call keeps them for every filter
    if whole_base or not len(ids):
        return stage, converted
    keep = is_member(ids, dataset.table("leads")["lead_id"])
    return stage[keep], converted[keep]


def _customer_reached(dataset: Dataset, model: StageModel, customer_stages: list) -> list[int]:
    """Customers active at some checkpoint of the window reaching each customer stage (or beyond) at a checkpoint.

    A filtered scope (with a data identity) reads the whole base's stage states on the checkpoints
    (``_filtered_highest``) instead of classifying a frame per checkpoint (``_highest_by_day``): the same customers and
    stages, a mask."""
    start_day = dataset.window.start - timedelta(days=1)
    months = max(1, (dataset.as_of.year - start_day.year) * 12 + dataset.as_of.month - start_day.month)
    days = checkpoints(dataset.as_of, months)
    order = {s.id: float(s.order) for s in customer_stages}
    if dataset.identity is not None and not dataset.filters.is_empty():
        best = _filtered_highest(dataset, model, days, order)
    else:
        best = _highest_by_day(dataset, model, days, order)
    values = best[~np.isnan(best)]
    if not len(values):
        return [0] * len(customer_stages)
    return [int(len(values)) if k == 0 else int((values >= s.order).sum()) for k, s in enumerate(customer_stages)]


def _highest_by_day(dataset: Dataset, model: StageModel, days: list, order: dict[str, float]) -> np.ndarray:
    """Each customer's highest stage order (``order``) over the checkpoints ``days`` where the customer is in scope,
    active (not churned) and classified (``stages_at`` per day); customers never seen so are left out."""
    ids: list[np.ndarray] = []
    seen: list[np.ndarray] = []
    for day in days:
        frame = stages_at(dataset, model, day)
        live = ~frame["churned"].to_numpy(dtype=bool) & (frame["stage"] != UNCLASSIFIED).to_numpy(dtype=bool)
        stages = frame["stage"].to_numpy(dtype=object)[live]
        ids.append(frame.index.to_numpy(dtype=object)[live])
        seen.append(np.array([order.get(s, np.nan) for s in stages], dtype="float64"))
    if not seen or not sum(len(s) for s in seen):
        return np.array([], dtype="float64")
    # each customer's highest order over the checkpoints (NaN: never in an ordered stage), one pass for all days
    codes, customers = pd.factorize(np.concatenate(ids))
    best = np.full(len(customers), np.nan)
    np.fmax.at(best, codes, np.concatenate(seen))
    return best


def _filtered_highest(dataset: Dataset, model: StageModel, days: list, order: dict[str, float]) -> np.ndarray:
    """For a filtered scope, each customer's highest stage order over ``days`` among the checkpoints where the customer
    is in the scope, active (not churned) and classified (NaN: never) — from the whole base's stage states
    (``lifecycle.stages.history.stage_states``, built once per data and days), masked as ``stages_at`` selects a
    filtered scope on each day: the attribute and cohort filters once (a customer's attributes and signup day do not
    change with the day: ``Filters.select`` over the whole base's snapshot on as_of), the plan paid and the stage on each checkpoint (as ``stage_states`` clears the days a
    customer was outside such a filter)."""
    filters = dataset.filters
    base = dataset.rescoped(Scope(dataset.as_of, dataset.window, Filters()))
    whole = stage_states(base, model, days)
    inside = whole.codes >= 0
    fixed = replace(filters, plan=(), stage=())
    if not fixed.is_empty():  # the rows stages_at keeps on as_of (Filters.select over the whole base's snapshot)
        if fixed == filters:  # no plan or stage filter: the scope's own rows (``restricted``'s mask, kept per dataset)
            from lifecycle.stages.scope_rows import scope_mask, whole_snapshot

            kept = whole_snapshot(dataset)["customer_id"].astype("string")[scope_mask(dataset)]
        else:
            snapshot = snapshot_of(base, stage_features(model))
            kept = snapshot["customer_id"].astype("string")[fixed.select(snapshot)]
        inside &= is_member(whole.ids, kept)[:, None]
    if filters.plan:
        assert whole.plan_codes is not None
        inside &= np.isin(whole.plan_codes, [k for k, plan in enumerate(whole.plans) if plan in filters.plan])
    if filters.stage:
        staged = np.isin(whole.codes, [k for k, label in enumerate(whole.labels) if label in filters.stage])
        inside &= np.where(whole.churned, CHURNED in filters.stage, staged)
    label_order = np.array([order.get(label, np.nan) if label != UNCLASSIFIED else np.nan for label in whole.labels]
                           + [np.nan])
    orders = label_order[np.where(inside & ~whole.churned, whole.codes, len(whole.labels))]
    if not orders.size:
        return np.full(len(whole.ids), np.nan)
    return np.fmax.reduce(orders, axis=1)


def stage_funnel(dataset: Dataset, model: StageModel) -> StageFunnel:
    """The funnel of ``model``'s stages over ``dataset``'s window (see the module docstring for the definitions)."""
    stages = sorted(model.stages, key=lambda s: s.order)
    lead_stages = [s for s in stages if s.population == "leads"] if dataset.has("leads") else []
    customer_stages = [s for s in stages if s.population != "leads"]
    steps: list[FunnelStep] = []
    conversions: list[FunnelConversion] = []
    converted_leads = 0
    if lead_stages:
        counts, converted_leads = _lead_reached(dataset, model, lead_stages)
        steps += [FunnelStep(s.id, s.name, "leads", c) for s, c in zip(lead_stages, counts)]
    if customer_stages:
        counts = _customer_reached(dataset, model, customer_stages)
        steps += [FunnelStep(s.id, s.name, "customers", c) for s, c in zip(customer_stages, counts)]
    for before, after in zip(steps, steps[1:]):
        converted = converted_leads if before.population != after.population else after.reached
        conversions.append(FunnelConversion(before.stage, after.stage, converted, before.reached))
    return StageFunnel(tuple(steps), tuple(conversions), dataset.window.start.isoformat(), dataset.as_of.isoformat())


def find_bottleneck(funnel: StageFunnel, stagnation: dict[str, tuple[float | None, int]], small_sample: int) -> Bottleneck | None:
    """The stage customers stall in: highest stagnation rate among customer stages with ≥ ``small_sample`` customers
    (``stagnation``: stage → (rate, n)); else the customer step with the lowest conversion to the next step (base ≥
    ``small_sample``). None when neither is known. Ties go to the earlier stage."""
    customer_stages = [s.stage for s in funnel.steps if s.population == "customers"]
    candidates = [(rate, n, stage) for stage in customer_stages
                  for rate, n in [stagnation.get(stage, (None, 0))] if rate is not None and n >= small_sample]
    if candidates:
        rate, n, stage = max(candidates, key=lambda c: (c[0], -customer_stages.index(c[2])))
        return Bottleneck(stage, "stagnation", rate, n)
    steps = [c for c in funnel.conversions if c.from_stage in customer_stages and c.to_stage in customer_stages
             and c.rate is not None and c.base >= small_sample]
    if not steps:
        return None
    worst = min(steps, key=lambda c: (c.rate, customer_stages.index(c.from_stage)))
    return Bottleneck(worst.from_stage, "conversion", worst.rate, worst.base)  # type: ignore[arg-type]
