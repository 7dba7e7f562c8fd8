"""ROC AUC and precision at k on hand-computed examples (lifecycle/health/evaluation.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lifecycle.errors import QueryError
from lifecycle.health.evaluation import precision_at_k, roc_auc


def test_roc_auc_counts_ordered_pairs_with_ties_as_half() -> None:
    """scores 0.1 0.4 0.35 0.8 with labels 0 0 1 1 (the scikit-learn docs example):
    positive/negative pairs: (0.35 vs 0.1) ✓, (0.35 vs 0.4) ✗, (0.8 vs 0.1) ✓, (0.8 vs 0.4) ✓ → 3/4 = 0.75.
    Ranks ascending 1, 3, 2, 4: R₊ = 2 + 4 = 6; U = 6 − 2·3/2 = 3; AUC = 3 / (2·2) = 0.75.
    """
    assert roc_auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == pytest.approx(0.75)


def test_roc_auc_ties_between_classes_count_half() -> None:
    """scores 1 2 2 3, labels 0 1 0 1: pairs (2 vs 1) ✓, (2 vs 2) ½, (3 vs 1) ✓, (3 vs 2) ✓ → 3.5/4 = 0.875.
    Average ranks 1, 2.5, 2.5, 4: R₊ = 2.5 + 4 = 6.5; U = 6.5 − 3 = 3.5.
    """
    assert roc_auc(np.array([1, 2, 2, 3]), pd.Series([False, True, False, True])) == pytest.approx(0.875)


def test_roc_auc_is_none_without_both_classes_and_drops_missing_pairs() -> None:
    assert roc_auc([0.2, 0.3], [1, 1]) is None
    assert roc_auc([0.1, np.nan, 0.9], [0, 0, 1]) == pytest.approx(1.0)


def test_roc_auc_rejects_labels_that_are_not_binary() -> None:
    with pytest.raises(QueryError, match="0/1"):
        roc_auc([0.1, 0.2], [0, 2])


def test_precision_at_k_is_the_share_of_positives_among_the_top_k() -> None:
    """Sorted by score: 0.9 (1), 0.8 (0), 0.7 (1), 0.1 (0): top 2 → 1/2; top 3 → 2/3; k beyond n → 2/4."""
    scores, labels = [0.1, 0.9, 0.7, 0.8], [0, 1, 1, 0]
    assert precision_at_k(scores, labels, 1) == 1.0
    assert precision_at_k(scores, labels, 2) == pytest.approx(0.5)
    assert precision_at_k(scores, labels, 3) == pytest.approx(2 / 3)
    assert precision_at_k(scores, labels, 10) == pytest.approx(0.5)
    with pytest.raises(QueryError, match="k must be at least 1"):
        precision_at_k(scores, labels, 0)
