"""RFM quartile scores and named segments, from an RFM summary (see :mod:`lifecycle.clv.rfm`).

Scores run 1 (worst) to 4 (best) and are quartiles of the customer base:

- R from the time since the last purchase, ``T - recency`` (shorter is better);
- F from ``frequency`` (more repeat purchases is better);
- M from ``monetary_value`` (a higher mean repeat spend is better; customers without repeat purchases have 0).

A customer's score is ``1 + floor(4 * share of customers strictly worse)``, capped at 4. Tied customers always
share a score, so a value held by many customers (say, 60% with frequency 0) takes one score and the next score up
may stay empty. Segments are named from (R, F) by the rules in :data:`SEGMENT_RULES`, which cover the 4 x 4 grid
exactly once; the names follow the common RFM segment map (champions, loyal, at risk, hibernating, new, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lifecycle.errors import QueryError
from lifecycle.lazy import deferred_module

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:  # loaded on first use (lifecycle.lazy): importing this module stays cheap
    np = deferred_module("numpy")
    pd = deferred_module("pandas")


@dataclass(frozen=True)
class SegmentRule:
    """A named segment: customers whose R and F scores fall in the given inclusive ranges."""

    name: str
    r_scores: tuple[int, int]
    f_scores: tuple[int, int]
    description: str


SEGMENT_RULES: tuple[SegmentRule, ...] = (
    SegmentRule("champions", (4, 4), (4, 4), "bought recently and buy most often"),
    SegmentRule("loyal", (3, 4), (3, 4), "buy often and recently"),
    SegmentRule("new", (4, 4), (1, 1), "bought recently, for the first time"),
    SegmentRule("promising", (3, 4), (1, 2), "recent, but not yet frequent"),
    SegmentRule("cant_lose", (1, 1), (4, 4), "used to buy most often, but not for a long time"),
    SegmentRule("at_risk", (1, 2), (3, 4), "used to buy often, but not recently"),
    SegmentRule("hibernating", (2, 2), (1, 2), "infrequent and not recent"),
    SegmentRule("lost", (1, 1), (1, 2), "infrequent, and the longest inactive"),
)
"""First matching rule wins; every (R, F) pair in 1..4 x 1..4 is matched by exactly one rule."""


def quartile_score(values: pd.Series, *, higher_is_better: bool = True) -> pd.Series:
    """1 + floor(4 * share of values strictly worse), capped at 4; ties share a score (see module docstring)."""
    v = values.astype(float) if higher_is_better else -values.astype(float)
    if v.isna().any():
        raise QueryError(f"cannot score {values.name!r}: {int(v.isna().sum())} missing value(s)")
    strictly_worse = v.rank(method="min") - 1
    return (1 + np.floor(4 * strictly_worse / len(v))).clip(upper=4).astype(int)


def rfm_segments(summary: pd.DataFrame, rules: tuple[SegmentRule, ...] = SEGMENT_RULES) -> pd.DataFrame:
    """Per-customer R, F (and M when ``monetary_value`` is present) scores, an ``rfm_score`` string and a segment.

    ``summary`` needs ``frequency``, ``recency`` and ``T`` (as returned by ``rfm_summary``). The result has the
    same index, with integer columns ``R``, ``F``, ``M``, the string ``rfm_score`` (e.g. "434") and ``segment``.
    """
    missing = [c for c in ("frequency", "recency", "T") if c not in summary.columns]
    if missing:
        raise QueryError(f"the RFM summary lacks column(s) {', '.join(missing)}; build it with lifecycle.clv.rfm.rfm_summary")
    if summary.empty:
        raise QueryError("the RFM summary has no customers")
    out = pd.DataFrame(index=summary.index)
    out["R"] = quartile_score(summary["T"] - summary["recency"], higher_is_better=False)
    out["F"] = quartile_score(summary["frequency"])
    if "monetary_value" in summary.columns:
        out["M"] = quartile_score(summary["monetary_value"])
    out["rfm_score"] = out["R"].astype(str) + out["F"].astype(str) + (out["M"].astype(str) if "M" in out else "")
    out["segment"] = _name_segments(out["R"].to_numpy(), out["F"].to_numpy(), rules)
    return out


def _name_segments(r: np.ndarray, f: np.ndarray, rules: tuple[SegmentRule, ...]) -> np.ndarray:
    names = np.full(len(r), None, dtype=object)
    for rule in reversed(rules):  # earlier rules overwrite later ones: first match wins
        hit = (r >= rule.r_scores[0]) & (r <= rule.r_scores[1]) & (f >= rule.f_scores[0]) & (f <= rule.f_scores[1])
        names[hit] = rule.name
    if any(n is None for n in names):
        raise QueryError("the segment rules leave some (R, F) scores unnamed; every pair in 1..4 x 1..4 needs a rule")
    return names
