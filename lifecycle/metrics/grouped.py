"""Grouped passes: what several disjoint filtered scopes of one period need, computed for all of them at once.

``compare_segments`` computes the same metrics for each value of one customer attribute (10–12 groups, each in the
current and the previous period). Per group and metric the work is small, and pandas' fixed cost per operation (about
a millisecond per metric, group and period on the demo) dominates it. Here each metric family makes one pass over the
whole base's memoised rows, each row labelled with the integer code of the group its customer belongs to
(``group_codes``), and sums per group with ``numpy.bincount`` — then hands every group what its own per-scope path
would have computed:

- the flow metrics (regression, progression, stagnation, …): each group's in-scope mask over the whole base's stage
  states (``flow.seed_in_scope``);
- the email rates: each group's (sends, opens, clicks) per channel (``engagement.seed_channel_counts``);
- the MRR bridge (new, expansion, contraction, churned MRR, MRR churn rates, quick ratio, …): each group's
  movements from one classification of the whole base's MRR matrix (``revenue_movements.seed_group_movements``);
- onboarding completion and CAC: each group's result (``activation.onboarding_completion_rates``,
  ``funnel.cac_results``), memoised under the key ``compute_metric`` looks up;
- the lead metrics, when the compared dimension is one leads do not carry (every group's ``funnel.lead_inputs`` are
  equal): the first group's result, relabelled with each group's scope (``results.rescoped_result``);
- every group's mask over a whole-base frame of customer ids (``common.per_customer`` answers, the customer rows of
  ``common.kept_whole_customers``, the subscriber rows of ``revenue_movements._in_scope``): ``join`` files the groups
  as one ``GroupSet``, and ``group_mask`` compares integer codes worked out once per frame for all groups.

Each is the same value, in the same order, as the group's own path gives (the tests compare them on every group); a
family whose preconditions do not hold (overlapping groups, a stage filter, a dataset without identity) is left to
the per-scope path.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lifecycle.dataset import Dataset
from lifecycle.membership import positions_in
from lifecycle.memo import MEMO, remember
from lifecycle.metrics.registry import definition
from lifecycle.metrics.results import MetricResult


def group_codes(values: pd.Series | pd.Index, id_sets: Sequence[pd.Index]) -> np.ndarray | None:
    """Per entry of ``values`` (text ids), the position in ``id_sets`` of the set that holds it (−1: none; a missing
    value is in none, as ``membership.is_member`` has it) — one hash look-up per value instead of one per set. None
    when the sets overlap (a value would belong to two groups)."""
    return GroupCoder(list(id_sets)).codes(values)


def _arrow_of(values: object) -> Any:
    """``values`` (a pandas Series, Index or array) as an Arrow array or chunked array, without a copy when it is
    Arrow-backed — what ``GroupCoder`` compares contents on."""
    import pyarrow as pa

    return pa.array(getattr(values, "array", values), from_pandas=True)


def _same_contents(first: Any, second: Any) -> bool:
    """Whether two Arrow arrays hold the same values (missing values at the same places), with the same type."""
    if first is second:
        return True
    if len(first) != len(second) or first.type != second.type:
        return False
    return bool(first.equals(second))


@dataclass
class GroupCoder:
    """``group_codes`` over fixed id sets (``populations``), worked out once: the sets concatenated and their
    disjointness checked once (a hash of every id: ~0.4 s at a million customers), and the codes of each values array
    kept — an array with the same contents as one coded before (the same customers in the same order, as the whole
    base's customer ids are under several memo keys) takes its codes instead of another look-up of every value."""

    populations: list[pd.Index]
    _every: Any = None
    _disjoint: bool | None = None
    _coded: list[tuple[Any, np.ndarray]] = field(default_factory=list)

    def codes(self, values: pd.Series | pd.Index) -> np.ndarray | None:
        """``group_codes(values, populations)`` (None when the populations overlap); read-only."""
        import pyarrow as pa
        import pyarrow.compute as pc

        sizes = [len(ids) for ids in self.populations]
        if not sizes or sum(sizes) == 0:
            return np.full(len(values), -1, dtype="int64")
        if self._disjoint is None:
            self._every = pa.concat_arrays([pa.array(getattr(ids, "array", ids), from_pandas=True).cast(pa.large_string())
                                            for ids in self.populations if len(ids)])
            self._disjoint = pc.count_distinct(self._every, mode="all").as_py() == len(self._every)
        if not self._disjoint:
            return None  # overlapping (or repeated) ids: the groups are not disjoint
        contents = _arrow_of(values)
        for seen, known in self._coded:
            if _same_contents(seen, contents):
                return known
        at = positions_in(values, self._every)
        owner = np.repeat(np.arange(len(sizes), dtype="int64"), sizes)
        codes = np.where(at >= 0, owner[np.maximum(at, 0)], -1)
        codes.flags.writeable = False
        self._coded.append((contents, codes))
        return codes

    def serves(self, populations: Sequence[pd.Index]) -> bool:
        """Whether ``populations`` hold the same ids, in the same order, as this coder's (then its codes are theirs)."""
        return len(populations) == len(self.populations) and all(
            a is b or _same_contents(_arrow_of(a), _arrow_of(b)) for a, b in zip(populations, self.populations, strict=True))


GROUP_KEY = "__group__"
"""Where ``join`` files a dataset's ``(GroupSet, position)`` in its per-scope cache."""


@dataclass
class GroupSet:
    """Disjoint filtered scopes of one period (``join``): their populations (``event_aggregates.population``), the
    ``GroupCoder`` that labels ids with them and, per whole-base frame they mask, the code of each row's group
    (``group_codes``), worked out once for all."""

    populations: list[pd.Index]
    codes: dict[Hashable, tuple[object, np.ndarray | None]] = field(default_factory=dict)
    coder: GroupCoder | None = None

    def mask(self, key: Hashable, values: pd.Series | pd.Index, position: int) -> np.ndarray | None:
        """Which of ``values`` (the whole-base frame memoised under ``key``, or the object whose ``id`` ``key`` holds —
        kept alive here with its codes, so no other object takes that id meanwhile) the group at ``position`` holds
        (None when the populations overlap)."""
        if key not in self.codes:
            if self.coder is None:
                self.coder = GroupCoder(self.populations)
            self.codes[key] = (values, self.coder.codes(values))
        codes = self.codes[key][1]
        return None if codes is None else codes == position


def join(datasets: Sequence[Dataset], like: GroupSet | None = None) -> GroupSet | None:
    """File ``datasets`` (``groupable``) as one ``GroupSet``: each one's per-customer answers (``common.per_customer``)
    are then masked by comparing integer group codes, worked out once per answer for all groups, instead of hashing
    the answer's ids against the group's population once per group. ``like``: another period's set of the same
    groups — when its populations hold the same ids (a dimension that does not change with as_of) its coder is
    shared, so an answer with the same ids is coded once for both periods. Returns the set (None: a scope without a
    population)."""
    from lifecycle.metrics.event_aggregates import population

    populations = [population(d) for d in datasets]
    if any(ids is None for ids in populations):
        return None
    group = GroupSet(populations)  # type: ignore[arg-type]  # None ruled out above
    shared = like is not None and like.coder is not None and like.coder.serves(group.populations)
    group.coder = like.coder if shared and like is not None else GroupCoder(group.populations)
    for position, dataset in enumerate(datasets):
        dataset._cache.setdefault(GROUP_KEY, (group, position))  # type: ignore[arg-type]  # the per-scope cache
    return group


def group_mask(dataset: Dataset, key: Hashable, values: pd.Series | pd.Index) -> np.ndarray | None:
    """The boolean mask of ``values`` (a whole-base frame's customer ids, memoised under ``key``: the same values for
    every group) for ``dataset``'s customers when it was ``join``-ed to a ``GroupSet``, else None: the caller masks by
    ``is_member`` against its population, the same booleans."""
    found = dataset._cache.get(GROUP_KEY)
    if found is None:
        return None
    group, position = found  # type: ignore[misc]  # (GroupSet, position), filed by join
    return group.mask(key, values, position)


def groups_codes(datasets: Sequence[Dataset], values: pd.Series | pd.Index) -> np.ndarray | None:
    """``group_codes(values, populations of datasets)`` — by the coder of their ``GroupSet`` when ``join`` filed them
    as one, in this order (its disjointness check and its codes of equal arrays are shared), else by a coder of their
    own (``event_aggregates.population``; None also when a dataset has no population)."""
    from lifecycle.metrics.event_aggregates import population

    found = [d._cache.get(GROUP_KEY) for d in datasets]
    first = found[0] if found else None
    if first is not None and all(f is not None and f[0] is first[0] and f[1] == i  # type: ignore[index]
                                 for i, f in enumerate(found)) and len(first[0].populations) == len(datasets):  # type: ignore[index]
        group: GroupSet = first[0]  # type: ignore[index,assignment]
        if group.coder is None:
            group.coder = GroupCoder(group.populations)
        return group.coder.codes(values)
    populations = [population(d) for d in datasets]
    if any(ids is None for ids in populations):
        return None
    return group_codes(values, populations)  # type: ignore[arg-type]  # None ruled out above


def mask_codes(masks: Sequence[np.ndarray], size: int) -> np.ndarray | None:
    """Per row, the position of the one mask of ``masks`` that selects it (−1: none); None when two masks share a row."""
    codes = np.full(size, -1, dtype="int64")
    for position, mask in enumerate(masks):
        if (codes[mask] >= 0).any():
            return None
        codes[mask] = position
    return codes


def groupable(datasets: Sequence[Dataset]) -> bool:
    """Whether ``datasets`` are scopes a grouped pass may serve: at least two, each filtered (no stage filter: its
    members come from a classification per scope), with a data identity, on one connection, as_of and window."""
    if len(datasets) < 2:
        return False
    first = datasets[0]
    return all(d.identity is not None and d.identity == first.identity and d.connection is first.connection
               and d.as_of == first.as_of and d.window == first.window and not d.filters.is_empty()
               and not d.filters.stage for d in datasets)


def store_results(datasets: Sequence[Dataset], metric_id: str, results: Sequence[MetricResult | None]) -> None:
    """Memoise each dataset's result under the key ``registry.compute_metric`` looks up (None: left to it)."""
    for dataset, result in zip(datasets, results, strict=True):
        key = dataset.memo_key("metric", metric_id)
        if result is not None and key is not None and MEMO.peek(key) is None:
            remember(key, lambda: result)  # noqa: B023  # called at once


def prepare(datasets: Sequence[Dataset], metric_ids: Sequence[str], like: GroupSet | None = None) -> GroupSet | None:
    """Before ``metric_ids`` are computed on each of ``datasets`` (disjoint groups of one period): run the grouped
    pass of each family among them, once (module doc), and return their ``GroupSet`` (None: ``groupable`` refuses
    them, and nothing happens). ``like``: what this returned for the same groups in another period (``join``)."""
    if not groupable(datasets):
        return None
    wanted = set(metric_ids)
    group = join(datasets, like)

    def computable(metric_id: str) -> bool:
        return metric_id in wanted and all(datasets[0].has(t) for t in definition(metric_id).required_tables)

    from lifecycle.metrics import activation, engagement, flow, funnel, revenue_movements
    from lifecycle.metrics.registry import compute_metric
    from lifecycle.metrics.results import rescoped_result

    if any(computable(m) for m in flow.SCOPE_MASKED):
        flow.seed_in_scope(datasets)
    if any(computable(m) for m in engagement.CHANNEL_RATES):
        engagement.seed_channel_counts(datasets)
    lead = [m for m in funnel.LEAD_METRICS if computable(m)]
    if lead and len({funnel.lead_inputs(d) for d in datasets}) == 1:  # the compared dimension is not a lead column
        for metric_id in lead:
            first = compute_metric(datasets[0], metric_id)
            store_results(datasets[1:], metric_id, [rescoped_result(first, d.scope) for d in datasets[1:]])
    if any(computable(m) for m in revenue_movements.BRIDGE_READERS):
        revenue_movements.seed_group_movements(datasets)
    if any(m in wanted for m in funnel.CAC_READERS) and all(datasets[0].has(t) for t in definition("cac").required_tables):
        results = funnel.cac_results(datasets)
        if results is not None:
            store_results(datasets, "cac", results)
    if computable("onboarding_completion_rate"):
        results = activation.onboarding_completion_rates(datasets)
        if results is not None:
            store_results(datasets, "onboarding_completion_rate", results)
    return group
