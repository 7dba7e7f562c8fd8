"""Stage history and time in stage: the stage of every customer at monthly checkpoints before ``as_of``.

Time in stage is measured from monthly history (``time_in_stage``): the stage is computed at ``as_of`` and
at the same day 1, 2, … months earlier (each a full as-of snapshot, so no look-ahead); the customer is taken
to have entered the current stage at the earliest checkpoint of the unbroken run ending at ``as_of`` — or
on signup, when the run reaches back past the signup day. The result is a lower bound with monthly
resolution (the true entry lies between that checkpoint and the one before), censored at the history length.
Source: seed 000 (stagnation against each stage's ``expected_days``).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from lifecycle.dataset import Dataset
from lifecycle.filters import add_months
from lifecycle.membership import is_member
from lifecycle.memo import remember
from lifecycle.scope import Scope
from lifecycle.snapshot.build import snapshot_of
from lifecycle.stages.classification import classify_customers
from lifecycle.stages.model import StageModel


def checkpoints(as_of: date, months: int) -> list[date]:
    """``as_of`` and the same day 1..``months`` calendar months earlier (clamped to month ends), newest first."""
    return [add_months(as_of, -k) for k in range(months + 1)]


def stage_features(model: StageModel) -> tuple[str, ...]:
    """Snapshot columns the model's customer rules read, plus those the stage history needs."""
    return tuple(sorted({f for r in model.rules for f in r.features} | {"customer_id", "signup_date", "churned"}))


def stages_at(dataset: Dataset, model: StageModel, day: date) -> pd.DataFrame:
    """Stage and churned flag of every customer (signed up by ``day``) as known on ``day`` (no look-ahead).

    The whole base's stages on ``day`` are computed once per (data, configuration, model, day) in the process memo
    (``lifecycle.memo``); a filtered dataset reads the rows of the customers its filters select on ``day`` (the
    rows of the whole base's snapshot on that day its ``Filters.select``, and the stage members for a stage filter:
    ``lifecycle.snapshot.snapshot_of``) — a mask, not another classification."""
    key = f"__stages__:{model.origin}:{model.id}:{day.isoformat()}"  # memoised with the dataset's table cache
    if key not in dataset._cache:
        view = dataset if day == dataset.as_of else dataset.rescoped(Scope.at(day, dataset.filters))
        if dataset.filters.is_empty():
            memo = (None if dataset.identity is None else
                    ("stages", dataset.identity, dataset.config.fingerprint(), model.origin, model.id, day))
            dataset._cache[key] = _whole_stages(view, model) if memo is None else remember(memo, lambda: _whole_stages(view, model))
        else:
            base = dataset.rescoped(Scope.at(day))
            whole = stages_at(base, model, day)
            keep = view.filters.select(snapshot_of(base, stage_features(model)))  # the same rows, in the same order
            if view.filters.stage:
                keep &= is_member(whole.index, view.stage_members())
            dataset._cache[key] = whole[keep]
    return dataset._cache[key]


def _whole_stages(view: Dataset, model: StageModel) -> pd.DataFrame:
    snap = snapshot_of(view, stage_features(model))
    classified = classify_customers(snap, model, evidence=False, overlays=False)
    return pd.DataFrame({
        "customer_id": classified["customer_id"], "stage": classified["stage"],
        "churned": snap["churned"].fillna(False).astype(bool).to_numpy(),
        "signup_date": snap["signup_date"].to_numpy()}).set_index("customer_id")


def stage_history(dataset: Dataset, model: StageModel, days: list[date]) -> pd.DataFrame:
    """Stage per customer (rows, customers known on ``days[0]``) at each day in ``days`` (columns); NA before signup."""
    frames = {day: stages_at(dataset, model, day)["stage"] for day in days}
    base = frames[days[0]].index
    return pd.DataFrame({day: frames[day].reindex(base) for day in days})


def time_in_stage(dataset: Dataset, model: StageModel, months: int = 12, customer_ids: list[str] | None = None,
                  enough: dict[str, float] | None = None) -> pd.DataFrame:
    """Days each customer has been in their current stage on ``as_of`` (monthly resolution, lower bound).

    Walks back over the checkpoints (as_of, as_of − 1 month, …, as_of − ``months``): the entry is the
    earliest checkpoint of the unbroken run in the current stage, or the signup day when the run reaches back
    past signup. ``censored`` is true when the run spans the whole history, or — with ``enough`` (stage id →
    days) — when the walk stopped early because the run already exceeded that many days (stages missing from
    ``enough`` need no history then). Only as many earlier snapshots are built as some customer still needs.
    Columns: customer_id, stage, entered_at, days_in_stage, censored.
    """
    days = [np.datetime64(d, "us") for d in checkpoints(dataset.as_of, months)]
    current = stages_at(dataset, model, dataset.as_of)
    if customer_ids is not None:
        current = current.loc[current.index.intersection(pd.Index(customer_ids, dtype="string"))]
    ids = current.index
    stage = current["stage"].to_numpy(dtype=object)
    signup = current["signup_date"].to_numpy(dtype="datetime64[us]")
    entered = np.full(len(ids), np.datetime64("NaT"), dtype="datetime64[us]")
    censored = np.zeros(len(ids), dtype=bool)
    open_ = np.ones(len(ids), dtype=bool)
    limit = (current["stage"].map(enough).to_numpy(dtype="float64", na_value=np.nan) if enough is not None
             else np.full(len(ids), np.inf))
    if enough is not None:
        limit = np.where(np.isnan(limit), -1.0, limit)  # no threshold: nothing to find out
    for k in range(1, len(days)):
        run_days = (days[0] - days[k - 1]) / np.timedelta64(1, "D")
        settled = open_ & (run_days > limit)
        entered[settled], censored[settled] = days[k - 1], True
        open_ &= ~settled
        if not open_.any():
            break
        before = stages_at(dataset, model, days[k].astype("datetime64[D]").item())["stage"].reindex(ids)
        same = before.to_numpy(dtype=object, na_value=None) == stage
        broke = open_ & ~same
        entered[broke] = np.where(signup[broke] > days[k], signup[broke], days[k - 1])
        open_ &= same
    if open_.any():  # unbroken over the whole history
        last = days[-1]
        entered[open_] = np.where(signup[open_] >= last, signup[open_], last)
        censored[open_] = signup[open_] < last
    return pd.DataFrame({"customer_id": pd.array(ids, dtype="string"), "stage": stage, "entered_at": entered,
                         "days_in_stage": ((days[0] - entered) / np.timedelta64(1, "D")).astype("float64"),  # type: ignore[operator]  # numpy's stubs lack datetime64 array − scalar ÷ timedelta64
                         "censored": censored})
