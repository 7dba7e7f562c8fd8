"""Stage history and time in stage: the stage of every customer at monthly checkpoints before ``as_of``.

Time in stage is measured from monthly history (``time_in_stage``): the stage is computed at ``as_of`` and
at the same day 1, 2, … months earlier (each a full as-of snapshot, so no look-ahead); the customer is taken
to have entered the current stage at the earliest checkpoint of the unbroken run ending at ``as_of`` — or
on signup, when the run reaches back past the signup day. The result is a lower bound with monthly
resolution (the true entry lies between that checkpoint and the one before), censored at the history length.
Source: seed 000 (stagnation against each stage's ``expected_days``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from lifecycle.dataset import Dataset
from lifecycle.filters import Filters, add_months
from lifecycle.membership import is_member
from lifecycle.memo import MEMO, remember
from lifecycle.scope import Scope
from lifecycle.snapshot.build import snapshot_of
from lifecycle.stages.classification import classify_customers
from lifecycle.stages.model import StageModel
from lifecycle.stages.value import CHURNED  # the stage filter's value for churned customers


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
            if day < dataset.as_of:  # the tables as known on day, derived from this dataset's (read and parsed once)
                view = dataset.earlier(day)
            memo = _stages_key(dataset, model, day)
            if memo is not None and MEMO.peek(memo) is None:  # the forked builder may be at this very day
                from lifecycle.stages.history_ahead import wait_for_claimed

                wait_for_claimed(day, lambda: _stages_kept(dataset, model, day))

            def classified() -> pd.DataFrame:  # kept by another process (the forked builder), else classified here
                kept = _kept_stages(dataset, model, day)
                return kept if kept is not None else _whole_stages(view, model)

            dataset._cache[key] = classified() if memo is None else remember(memo, classified)
        else:
            base = dataset.rescoped(Scope.at(day))
            whole = stages_at(base, model, day)
            keep = view.filters.select(snapshot_of(base, stage_features(model)))  # the same rows, in the same order
            if view.filters.stage:
                keep &= is_member(whole.index, view.stage_members())
            dataset._cache[key] = whole[keep]
    return dataset._cache[key]


def _stages_key(dataset: Dataset, model: StageModel, day: date) -> tuple[object, ...] | None:
    return (None if dataset.identity is None else
            ("stages", dataset.identity, dataset.config.fingerprint(), model.origin, model.id, day))


def _stages_known(dataset: Dataset, model: StageModel, day: date) -> bool:
    """Whether ``stages_at`` of the whole base on ``day`` is at hand (this dataset's cache or the process memo)."""
    key = _stages_key(dataset, model, day)
    return (f"__stages__:{model.origin}:{model.id}:{day.isoformat()}" in dataset._cache
            or (key is not None and MEMO.peek(key) is not None))


def stages_among(dataset: Dataset, model: StageModel, day: date, customer_ids: Sequence[str]) -> pd.DataFrame:
    """``stages_at(dataset, model, day)``'s rows of the customers among ``customer_ids`` (the same stage and churned
    flag; rows in its order; ``plan``'s categories are those of the rows returned).

    When the whole base's stages on ``day`` are not at hand (this dataset's cache, the process memo, or kept as Parquet)
    only those customers' rows of the day's snapshot are classified: a customer's stage is their first matching rule
    over their own snapshot row (``classify_customers`` evaluates each rule row by row), so classifying a few rows gives
    them what classifying every customer gives them — a page of 50 movers at a million customers classified the whole
    base on their month's start (~2–3.5 s of CPU) to name 50 stages. The snapshot itself is still the whole base's
    (population-wide definitions, such as whether a value event occurs at all, stay settled on every customer). A
    stage filter, whose members are the day's classification itself, takes the whole day's stages."""
    wanted = list(dict.fromkeys(map(str, customer_ids)))
    if dataset.filters.stage or _stages_at_hand(dataset, model, day):
        whole = stages_at(dataset, model, day)
        return whole[is_member(whole.index, wanted)]
    if not dataset.filters.is_empty():  # the whole base's rows on day, then those the filters select that day
        base = dataset.rescoped(Scope.at(day))
        view = dataset if day == dataset.as_of else dataset.rescoped(Scope.at(day, dataset.filters))
        rows = _snapshot_rows(base, model, wanted)
        chosen = rows["customer_id"][np.asarray(view.filters.select(rows), dtype=bool)]
        among = stages_among(base, model, day, wanted)
        return among[is_member(among.index, chosen)]
    view = dataset if day == dataset.as_of else dataset.earlier(day)  # as stages_at reads the whole base on day
    return _classified(_snapshot_rows(view, model, wanted), model)


def _stages_at_hand(dataset: Dataset, model: StageModel, day: date) -> bool:
    """Whether ``stages_at(dataset, model, day)`` classifies nothing: in this dataset's cache, or (whole base) in the
    process memo or kept as Parquet by another process."""
    if f"__stages__:{model.origin}:{model.id}:{day.isoformat()}" in dataset._cache:
        return True
    if not dataset.filters.is_empty():
        return False
    memo = _stages_key(dataset, model, day)
    if memo is not None and MEMO.peek(memo) is None:  # the forked builder may be at this very day (as stages_at waits)
        from lifecycle.stages.history_ahead import wait_for_claimed

        wait_for_claimed(day, lambda: _stages_kept(dataset, model, day))
    return (memo is not None and MEMO.peek(memo) is not None) or _stages_kept(dataset, model, day)


def _snapshot_rows(view: Dataset, model: StageModel, wanted: list[str]) -> pd.DataFrame:
    """The rows of ``view``'s stage-feature snapshot of the customers among ``wanted`` (snapshot order)."""
    snap = snapshot_of(view, stage_features(model))
    return snap[is_member(snap["customer_id"], wanted)].reset_index(drop=True)


def _whole_stages(view: Dataset, model: StageModel) -> pd.DataFrame:
    return _classified(snapshot_of(view, stage_features(model)), model)


def _classified(snap: pd.DataFrame, model: StageModel) -> pd.DataFrame:
    """``stages_at``'s frame of the customers of ``snap`` (a stage-feature snapshot, or some of its rows)."""
    classified = classify_customers(snap, model, evidence=False, overlays=False)
    return _stages_frame(classified["customer_id"], classified["stage"],
                         snap["churned"].fillna(False).astype(bool).to_numpy(), snap["signup_date"].to_numpy(),
                         snap["plan"])


def _stages_frame(ids: pd.Series, stage: pd.Series, churned: np.ndarray, signup: np.ndarray,
                  plan: pd.Series) -> pd.DataFrame:
    """``stages_at``'s frame: indexed by customer id; ``plan`` (the snapshot's plan, as text) as category values."""
    return pd.DataFrame({"customer_id": ids, "stage": stage, "churned": churned, "signup_date": signup,
                         "plan": plan.astype("category").to_numpy()}).set_index("customer_id")


@dataclass(frozen=True)
class StageStates:
    """Every customer's stage on each of a few days, as integer codes: ``codes[i, j]`` indexes ``labels`` for customer
    ``ids[i]`` on day ``days[j]`` (−1: not in the scope that day — not signed up yet, or outside a filter that
    changes with time such as the plan); ``churned[i, j]`` (False where −1); ``signup`` per customer."""

    days: tuple[date, ...]
    ids: pd.Index
    labels: tuple[str, ...]
    codes: np.ndarray
    churned: np.ndarray
    signup: np.ndarray
    plans: tuple[str, ...] = ()  # the plan each customer pays for on each day (``plan_codes`` index it; −1: none)
    plan_codes: np.ndarray | None = None

    def stages(self) -> np.ndarray:
        """The codes as stage ids (object array, None where −1)."""
        named = np.array([*self.labels, None], dtype=object)
        return named[np.where(self.codes >= 0, self.codes, len(self.labels))]

    def first(self, count: int) -> StageStates:
        """The states on the first ``count`` days only (the same customers, labels and plans)."""
        return StageStates(self.days[:count], self.ids, self.labels, self.codes[:, :count], self.churned[:, :count],
                           self.signup, self.plans, None if self.plan_codes is None else self.plan_codes[:, :count])

    def orders(self, model: StageModel) -> np.ndarray:
        """The stage order of each cell (float; NaN where −1 or the stage has no order, e.g. unclassified)."""
        order = np.array([float(model.order.get(label, np.nan)) for label in self.labels] + [np.nan])
        return order[np.where(self.codes >= 0, self.codes, len(self.labels))]


def stage_states(dataset: Dataset, model: StageModel, days: Sequence[date],
                 within: Sequence[date] | None = None) -> StageStates:
    """The stage states (``StageStates``) of the customers in scope on ``days[0]`` on each of ``days`` — one pass
    over the monthly stages of ``stages_at`` instead of a frame per day aligned by id.

    The whole base's states are built once per (data, configuration, model, days) in the process memo and kept between
    processes as Parquet beside the snapshots (``lifecycle.snapshot.cache.aggregate_cache_path``: a warm ``lifecycle
    metrics`` reads one file instead of classifying a snapshot per checkpoint); a filtered
    dataset takes their rows of its customers on ``days[0]``, and for a filter that changes with time (plan, stage)
    clears the days on which a customer was outside it — exactly ``stages_at(dataset, model, day)`` per day.

    With ``within`` — longer days beginning with ``days`` (the flow metrics' checkpoints, of which time in stage reads
    the newest few) — the states are the first columns of ``within``'s (``StageStates.first``): one set of states built
    and kept for both, not a second one of the same days. Each column is the same either way (a day's states do not
    depend on the other days); only the codes' labels may name a stage seen on the other days too."""
    days = tuple(days)
    if within is not None and len(within) > len(days) and tuple(within[:len(days)]) == days:
        return stage_states(dataset, model, within).first(len(days))
    if dataset.filters.is_empty():
        memo = (None if dataset.identity is None else
                ("stage-states", dataset.identity, dataset.config.fingerprint(), model.origin, model.id, days))
        return _whole_states(dataset, model, days) if memo is None else remember(memo, lambda: _kept_states(dataset, model, days))
    whole = stage_states(dataset.rescoped(Scope(dataset.as_of, dataset.window, Filters())), model, days)
    rows = is_member(whole.ids, stages_at(dataset, model, days[0]).index)
    ids, codes, churned = whole.ids[rows], whole.codes[rows], whole.churned[rows]
    filters = dataset.filters
    if filters.plan or filters.stage:  # who is in the population changes from day to day: the plan paid, the stage
        inside = codes >= 0
        if filters.plan:
            assert whole.plan_codes is not None
            chosen = [k for k, plan in enumerate(whole.plans) if plan in filters.plan]
            inside &= np.isin(whole.plan_codes[rows], chosen)
        if filters.stage:
            staged = np.isin(codes, [k for k, label in enumerate(whole.labels) if label in filters.stage])
            inside &= np.where(churned, CHURNED in filters.stage, staged)
        codes, churned = np.where(inside, codes, -1).astype(codes.dtype), churned & inside
    return StageStates(days, ids, whole.labels, codes, churned, whole.signup[rows], whole.plans,
                       None if whole.plan_codes is None else whole.plan_codes[rows])


def states_at_hand(dataset: Dataset, model: StageModel, days: Sequence[date]) -> bool:
    """Whether the whole base's states on ``days`` need no classifying: in the process memo, or kept as Parquet by an
    earlier process (``stage_states`` then only reads them)."""
    days = tuple(days)
    if dataset.identity is None:
        return False
    memo = ("stage-states", dataset.identity, dataset.config.fingerprint(), model.origin, model.id, days)
    return MEMO.peek(memo) is not None or _kept_path(dataset, model, days).exists()


def kept_day_rows(dataset: Dataset, model: StageModel, days: Sequence[date], j: int,
                  customer_ids: Sequence[str]) -> pd.DataFrame | None:
    """The rows of the customers among ``customer_ids`` in the whole base's states on ``days`` kept as Parquet by an
    earlier process (``stage_states``), on its ``j``-th day only: ``customer_id``, ``stage`` (missing where the
    customer had not signed up yet: code −1), ``churned`` and ``plan`` (missing where none), in the states' order.

    Read from the file's three columns of that day (dictionary-encoded stages and plans, flags) at the rows of those
    customers, found in the file's customer ids — read once per file in the process memo — instead of the states of
    every day of a million customers decoded (~1.7 s of CPU at a million) to name the stages of a page of movers.
    None when the states are not kept (or the file cannot be read)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    days = tuple(days)
    if dataset.identity is None:
        return None
    path = _kept_path(dataset, model, days)
    columns = [f"stage_{j}", f"churned_{j}", f"plan_{j}"]

    def kept_ids() -> pd.Series:
        return pd.Series(pd.arrays.ArrowStringArray(pq.ParquetFile(path).read(columns=["customer_id"]).column(0)
                                                    .cast(pa.large_string())))

    try:
        file = pq.ParquetFile(path)
        names = [n for n in file.schema_arrow.names if not n.startswith("__index_level_")]
        if len(names) != 2 + 3 * len(days) or not set(columns) <= set(names):
            return None
        ids = remember(("kept-state-ids", dataset.identity, str(path)), kept_ids)
        table = file.read(columns=columns)
    except Exception:  # not kept, evicted meanwhile or damaged: the caller reads the states
        return None
    if len(ids) != table.num_rows:
        return None
    with suppress(OSError):
        os.utime(path)  # recently used: the bounded cache evicts it last (as ``read_cached`` marks a read)
    rows = np.flatnonzero(is_member(ids, sorted(set(map(str, customer_ids)))))
    picked = table.take(pa.array(rows, type=pa.int64())).to_pandas()
    return pd.DataFrame({"customer_id": ids.iloc[rows].to_numpy(), "stage": picked[f"stage_{j}"].astype("string").to_numpy(),
                         "churned": picked[f"churned_{j}"].to_numpy(dtype=bool),
                         "plan": picked[f"plan_{j}"].astype("string").to_numpy()}).astype(
        {"customer_id": "string", "stage": "string", "plan": "string"})


def states_held(dataset: Dataset, model: StageModel, days: Sequence[date]) -> bool:
    """Whether the whole base's states on ``days`` are in the process memo (``stage_states`` reads nothing then)."""
    return dataset.identity is not None and MEMO.peek(
        ("stage-states", dataset.identity, dataset.config.fingerprint(), model.origin, model.id, tuple(days))) is not None


def _kept_path(dataset: Dataset, model: StageModel, days: tuple[date, ...]) -> Path:
    from lifecycle.snapshot.cache import aggregate_cache_path

    assert dataset.identity is not None
    key = repr((dataset.config.fingerprint(), model.origin, model.id))
    return aggregate_cache_path(dataset.identity, "stage-states", key, [d.isoformat() for d in days])


def _kept_states(dataset: Dataset, model: StageModel, days: tuple[date, ...]) -> StageStates:
    """The whole base's states from the Parquet cache of an earlier process, else built and kept there."""
    from lifecycle.snapshot.cache import read_cached, write_cached

    target = _kept_path(dataset, model, days)
    found = read_cached(target)
    if found is not None and len(found.columns) == 2 + 3 * len(days):
        return _from_frame(found, days)
    states = _whole_states(dataset, model, days)
    write_cached(_to_frame(states), target)
    return states


def _to_frame(states: StageStates) -> pd.DataFrame:
    columns: dict[str, object] = {"customer_id": pd.array(states.ids, dtype="string"), "signup_date": states.signup}
    assert states.plan_codes is not None
    for j in range(len(states.days)):
        columns[f"stage_{j}"] = pd.Categorical.from_codes(states.codes[:, j], categories=list(states.labels))
        columns[f"churned_{j}"] = states.churned[:, j]
        columns[f"plan_{j}"] = pd.Categorical.from_codes(states.plan_codes[:, j], categories=list(states.plans))
    return pd.DataFrame(columns)


def _recoded(parts: list[pd.Series]) -> tuple[tuple[str, ...], np.ndarray] | None:
    """``_from_frame``'s names and codes of categorical ``parts`` (as ``_to_frame`` writes them) read from their
    codes: the names are the categories some row uses, as text, sorted; each part's codes are mapped onto them through
    a table of its categories — the same arrays as matching every value against the names (a million customers ×
    13 days: 0.2 s instead of 2.8 s of CPU). None when a part is not categorical (``_from_frame`` then matches values)."""
    if not parts or not all(isinstance(part.dtype, pd.CategoricalDtype) for part in parts):
        return None
    used = [np.unique(codes[codes >= 0]) for codes in (part.cat.codes.to_numpy() for part in parts)]
    names = tuple(sorted({str(v) for part, present in zip(parts, used, strict=True) for v in part.cat.categories[present]}))
    position = {name: k for k, name in enumerate(names)}
    columns = []
    for part in parts:
        table = np.array([position.get(str(v), -1) for v in part.cat.categories] + [-1], dtype=np.int16)
        codes = part.cat.codes.to_numpy()
        columns.append(table[np.where(codes >= 0, codes, len(table) - 1)])
    return names, np.column_stack(columns).astype(np.int16)


def _from_frame(frame: pd.DataFrame, days: tuple[date, ...]) -> StageStates:
    def coded(prefix: str) -> tuple[tuple[str, ...], np.ndarray]:
        recoded = _recoded([frame[f"{prefix}_{j}"] for j in range(len(days))])
        if recoded is not None:
            return recoded
        parts = [frame[f"{prefix}_{j}"].astype(object) for j in range(len(days))]
        names = tuple(sorted({str(v) for part in parts for v in part.dropna().unique()}))
        return names, np.column_stack([pd.Categorical(part, categories=list(names)).codes for part in parts]).astype(np.int16) \
            if parts else np.zeros((len(frame), 0), dtype=np.int16)

    labels, codes = coded("stage")
    plans, plan_codes = coded("plan")
    churned = np.column_stack([frame[f"churned_{j}"].to_numpy(dtype=bool) for j in range(len(days))])
    return StageStates(days, pd.Index(frame["customer_id"].astype("string"), name="customer_id"), labels, codes, churned,
                       frame["signup_date"].to_numpy(dtype="datetime64[us]"), plans, plan_codes)


@contextmanager
def checkpoints_prefetched(dataset: Dataset, model: StageModel, days: Sequence[date]) -> Iterator[None]:
    """In the block, the snapshots of the stage features on ``days`` (``dataset``: the whole base on the latest of
    them, the others its ``earlier`` days) read what is computed for all of them at once: the recent-event windows in
    one statement where that pays (``prefetch_recent_events_on``) and the subscription groupings of every day in one
    go (``prefetch_subscriptions_on``, when the model reads a subscription column)."""
    from lifecycle.snapshot.build import SECTIONS
    from lifecycle.snapshot.sql import prefetch_recent_events_on, release_recent_events_on
    from lifecycle.snapshot.tables import prefetch_subscriptions_on, release_subscriptions_on

    features = stage_features(model)
    prefetch_recent_events_on(dataset, days, features)  # one statement for every checkpoint, if it pays
    try:
        if dataset.filters.is_empty() and set(features) & set(dict(SECTIONS)["subscriptions"]):
            prefetch_subscriptions_on(dataset, days)
        yield
    finally:
        release_recent_events_on(dataset)
        release_subscriptions_on(dataset)


def checkpoint_kept(dataset: Dataset, model: StageModel, day: date) -> bool:
    """Whether the whole base's stages on ``day`` (``dataset``: the whole base, opened through ``Dataset.over``) or
    the snapshot of the stage features they classify are kept as Parquet — by an earlier process, or by the
    checkpoints' forked builder (``lifecycle.stages.history_ahead``): ``stages_at`` then reads them instead of
    building the snapshot."""
    from lifecycle.snapshot.cache import snapshot_cache_path

    stages = _stages_path(dataset, model, day)
    if stages is None or dataset.source is None:
        return False
    return stages.exists() or snapshot_cache_path(dataset.source, day, dataset.config, Filters(), stage_features(model),
                                                  identity=dataset.identity).exists()


STAGES_COLUMNS = ("customer_id", "stage", "churned", "signup_date", "plan")
"""The columns of a whole base's stages kept as Parquet (``keep_stages``): ``stages_at``'s frame with its index."""


def _stages_path(dataset: Dataset, model: StageModel, day: date) -> Path | None:
    """Where the whole base's stages on ``day`` are kept between processes (``aggregate_cache_path``, beside the
    snapshots of the same data: kind ``stages``, keyed by the configuration's fingerprint, the model and the day);
    None for a filtered dataset or one not opened from a source."""
    from lifecycle.snapshot.cache import aggregate_cache_path

    if dataset.source is None or dataset.identity is None or not dataset.filters.is_empty():
        return None
    return aggregate_cache_path(dataset.identity, "stages", repr((dataset.config.fingerprint(), model.origin, model.id)),
                                [day.isoformat()])


def _stages_kept(dataset: Dataset, model: StageModel, day: date) -> bool:
    """Whether the whole base's stages on ``day`` are kept as Parquet (``_stages_path``; never for a dataset that has
    no such path)."""
    path = _stages_path(dataset, model, day)
    return path is not None and path.exists()


def keep_stages(dataset: Dataset, model: StageModel, day: date) -> None:
    """Keep the whole base's ``stages_at`` on ``day`` as Parquet for other processes (the checkpoints' forked builder
    hands them to its parent this way: reading them costs less than reading the snapshot and classifying it)."""
    from lifecycle.snapshot.cache import write_cached

    path = _stages_path(dataset, model, day)
    if path is not None:
        frame = stages_at(dataset, model, day).reset_index()
        write_cached(frame.assign(plan=frame["plan"].astype("string")), path)  # the plan as the snapshot's text


def _kept_stages(dataset: Dataset, model: StageModel, day: date) -> pd.DataFrame | None:
    """The whole base's stages on ``day`` kept by ``keep_stages``, as ``stages_at`` gives them (the same frame: the
    index, columns and dtypes survive Parquet), or None."""
    from lifecycle.snapshot.cache import read_cached

    path = _stages_path(dataset, model, day)
    found = read_cached(path) if path is not None and path.exists() else None
    if found is None or tuple(found.columns) != STAGES_COLUMNS:
        return None
    return _stages_frame(found["customer_id"], found["stage"], found["churned"].to_numpy(dtype=bool),
                         found["signup_date"].to_numpy(dtype="datetime64[us]"), found["plan"].astype("string"))


PREFETCHED_BESIDE_CHILD = 2
"""How many of the days left to build ``_stages_on`` prefetches at a time while the checkpoints' forked builder runs."""


def _stages_on(dataset: Dataset, model: StageModel, days: tuple[date, ...]) -> list[pd.DataFrame]:
    """``stages_at`` of each of ``days`` (newest first), the days left to build — not at hand in this process, nor
    kept as Parquet — prefetched (``checkpoints_prefetched``): all at once; while the checkpoints' forked builder runs
    (``history_ahead.building_ahead``: it builds the oldest days, this process the newest until the two meet, so most
    days left now are the child's) only the next ``PREFETCHED_BESIDE_CHILD`` of them at a time, as the walk reaches
    them — the subscription groupings of days the child keeps were computed for nothing (a prefetch costs in proportion
    to its days). The same frames either way: a prefetched day's columns are its own computation's."""
    from lifecycle.stages.history_ahead import building_ahead

    def left(chosen: Sequence[date]) -> list[date]:
        return [day for day in chosen if not _stages_known(dataset, model, day) and not checkpoint_kept(dataset, model, day)]

    if not building_ahead():
        with checkpoints_prefetched(dataset, model, left(days)):
            return [stages_at(dataset, model, day) for day in days]
    frames: list[pd.DataFrame] = []
    k = 0
    while k < len(days):
        chunk = left(days[k:k + 1]) and left(days[k:])[:PREFETCHED_BESIDE_CHILD]
        end = days.index(chunk[-1]) + 1 if chunk else k + 1
        with checkpoints_prefetched(dataset, model, chunk):
            frames += [stages_at(dataset, model, day) for day in days[k:end]]
        k = end
    return frames


def _whole_states(dataset: Dataset, model: StageModel, days: tuple[date, ...]) -> StageStates:
    frames = _stages_on(dataset, model, days)
    ids = frames[0].index
    labels = tuple(sorted({str(s) for frame in frames for s in frame["stage"].dropna().unique()}))
    plans = tuple(sorted({str(p) for frame in frames for p in frame["plan"].dropna().unique()}))
    codes = np.full((len(ids), len(days)), -1, dtype=np.int16)
    plan_codes = np.full((len(ids), len(days)), -1, dtype=np.int16)
    churned = np.zeros((len(ids), len(days)), dtype=bool)
    for j, frame in enumerate(frames):
        position = frame.index.get_indexer(ids)
        found = position >= 0
        day_codes = pd.Categorical(frame["stage"].astype(object), categories=list(labels)).codes
        codes[found, j] = day_codes[position[found]]
        plan_codes[found, j] = pd.Categorical(frame["plan"].astype(object), categories=list(plans)).codes[position[found]]
        churned[found, j] = frame["churned"].to_numpy(dtype=bool)[position[found]]
    return StageStates(days, ids, labels, codes, churned, frames[0]["signup_date"].to_numpy(dtype="datetime64[us]"),
                       plans, plan_codes)


def stage_history(dataset: Dataset, model: StageModel, days: list[date]) -> pd.DataFrame:
    """Stage per customer (rows, customers known on ``days[0]``) at each day in ``days`` (columns); NA before signup."""
    frames = {day: stages_at(dataset, model, day)["stage"] for day in days}
    base = frames[days[0]].index
    return pd.DataFrame({day: frames[day].reindex(base) for day in days})


def time_in_stage(dataset: Dataset, model: StageModel, months: int = 12, customer_ids: list[str] | None = None,
                  enough: dict[str, float] | None = None, within: Sequence[date] | None = None) -> pd.DataFrame:
    """Days each customer has been in their current stage on ``as_of`` (monthly resolution, lower bound).

    Walks back over the checkpoints (as_of, as_of − 1 month, …, as_of − ``months``): the entry is the
    earliest checkpoint of the unbroken run in the current stage, or the signup day when the run reaches back
    past signup. ``censored`` is true when the run spans the whole history, or — with ``enough`` (stage id →
    days) — when the walk stopped early because the run already exceeded that many days (stages missing from
    ``enough`` need no history then). For a few customers (``customer_ids``) only as many earlier snapshots are built
    as one of them still needs; for everyone the walk reads the stage states of every checkpoint (``stage_states``,
    built once per data and days; with ``within``, read from the states of those longer days when the checkpoints begin
    them: ``stage_states``). Columns: customer_id, stage, entered_at, days_in_stage, censored.
    """
    checkpoint_days = checkpoints(dataset.as_of, months)
    days = [np.datetime64(d, "us") for d in checkpoint_days]
    if customer_ids is None:
        states = stage_states(dataset, model, checkpoint_days, within)
        ids = states.ids
        current = pd.DataFrame({"stage": states.stages()[:, 0]}, index=ids)

        def same_as_now(k: int) -> np.ndarray:
            return states.codes[:, k] == states.codes[:, 0]  # type: ignore[no-any-return]

        signup = states.signup
    else:
        current = stages_at(dataset, model, dataset.as_of)
        current = current.loc[current.index.intersection(pd.Index(customer_ids, dtype="string"))]
        ids = current.index

        def same_as_now(k: int) -> np.ndarray:
            before = stages_at(dataset, model, checkpoint_days[k])["stage"].reindex(ids)
            return before.to_numpy(dtype=object, na_value=None) == stage  # type: ignore[no-any-return]

        signup = current["signup_date"].to_numpy(dtype="datetime64[us]")
    stage = current["stage"].to_numpy(dtype=object)
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
        same = same_as_now(k)
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
