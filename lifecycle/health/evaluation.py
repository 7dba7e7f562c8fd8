"""How well a score ranks the customers who churned: ROC AUC and precision at k.

Both take a score where *higher means more at risk* (e.g. ``100 − health``) and a 0/1 (or boolean) label.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lifecycle.errors import QueryError


def _clean(scores: pd.Series | np.ndarray, labels: pd.Series | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(pd.Series(scores).to_numpy(dtype="float64", na_value=np.nan))
    y = np.asarray(pd.Series(labels).to_numpy(dtype="float64", na_value=np.nan))
    if s.shape != y.shape:
        raise QueryError(f"scores and labels differ in length ({len(s)} vs {len(y)})")
    keep = ~np.isnan(s) & ~np.isnan(y)
    s, y = s[keep], y[keep]
    if not np.isin(y, (0.0, 1.0)).all():
        raise QueryError("labels must be 0/1 or booleans")
    return s, y.astype(bool)


def roc_auc(scores: pd.Series | np.ndarray, labels: pd.Series | np.ndarray) -> float | None:
    """Area under the ROC curve: the chance that a random positive scores above a random negative (ties ½).

    Computed from ranks (Mann–Whitney U): AUC = (R₊ − n₊(n₊ + 1)/2) ÷ (n₊·n₋), where R₊ is the sum of the
    positives' ranks in ascending score order and tied scores get their average rank. Pairs with a missing
    score or label are dropped. ``None`` when either class is empty (the AUC is undefined).
    Source: Hanley & McNeil (1982), "The meaning and use of the area under a ROC curve", eq. 2.
    """
    s, y = _clean(scores, labels)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = pd.Series(s).rank(method="average").to_numpy()
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def precision_at_k(scores: pd.Series | np.ndarray, labels: pd.Series | np.ndarray, k: int) -> float | None:
    """Share of positives among the ``k`` highest scores (ties kept in input order; k is capped at n).

    ``None`` when there is no scored row. Raises ``QueryError`` when ``k`` < 1.
    """
    if k < 1:
        raise QueryError(f"k must be at least 1, got {k}")
    s, y = _clean(scores, labels)
    if len(s) == 0:
        return None
    order = np.argsort(-s, kind="stable")[: min(k, len(s))]
    return float(y[order].mean())


__all__ = ["precision_at_k", "roc_auc"]
