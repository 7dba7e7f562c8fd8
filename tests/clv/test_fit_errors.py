"""Fits that cannot converge raise ModelFitError saying what happened, what the data look like and what to try."""

from __future__ import annotations

import numpy as np
import pytest

from lifecycle.clv import beta_geo, gamma_gamma
from lifecycle.errors import LifecycleError, ModelFitError


def test_no_repeat_buyers_gives_advice_instead_of_nonsense_parameters() -> None:
    """500 one-off customers: nothing identifies drop-out, and the purchase rate runs to 0."""
    zeros = np.zeros(500)
    with pytest.raises(ModelFitError) as caught:
        beta_geo.fit(zeros, zeros, np.linspace(10, 40, 500))
    message = str(caught.value)
    assert message.startswith("BG/NBD fit did not converge")
    assert "penalizer" in message
    assert "time unit" in message
    assert "only 0 of 500 customers made a repeat purchase" in message
    assert isinstance(caught.value, LifecycleError) and caught.value.user_message == message


def test_failed_fit_can_return_its_best_attempt_marked_unconverged() -> None:
    zeros = np.zeros(500)
    model = beta_geo.fit(zeros, zeros, np.linspace(10, 40, 500), raise_on_failure=False)
    assert model.converged is False


def test_identical_spend_leaves_gamma_gamma_unidentified() -> None:
    """Every repeat buyer spends exactly 10 per order: no heterogeneity, q and gamma run off together."""
    with pytest.raises(ModelFitError, match="heterogeneity"):
        gamma_gamma.fit(np.full(200, 3.0), np.full(200, 10.0))


@pytest.mark.parametrize(
    ("frequency", "recency", "T", "fragment"),
    [
        pytest.param([1, 2], [5.0, 30.0], [10.0, 20.0], "recency > T", id="recency-after-T"),
        pytest.param([0, 2], [3.0, 5.0], [10.0, 20.0], "frequency 0 but a non-zero recency", id="recency-without-repeat"),
        pytest.param([1.5, 2], [1.0, 5.0], [10.0, 20.0], "whole number", id="fractional-frequency"),
        pytest.param([1, 2], [np.nan, 5.0], [10.0, 20.0], "missing", id="nan"),
    ],
)
def test_invalid_summaries_are_rejected_before_fitting(frequency: list, recency: list, T: list, fragment: str) -> None:
    with pytest.raises(ModelFitError, match=fragment):
        beta_geo.fit(np.array(frequency, dtype=float), np.array(recency), np.array(T))
