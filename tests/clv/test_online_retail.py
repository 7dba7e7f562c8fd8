"""The models on a real retail log (UCI Online Retail, invoices): fits run and predictions behave.

Invariants, not copied numbers. On this log the likelihoods see little drop-out: the BG/NBD's a is small (about
0.003, as lifetimes' "a: 0.00") and the Pareto/NBD has no interior maximum at all (s runs to 0: the NBD without
death fits as well; lifetimes silently returns s = 9e-9), which the last test pins. The documented way through is
``log_penalizer`` (a weak log-normal prior): with it every model fits, and P(alive) is a proper distribution.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lifecycle.clv import beta_geo, gamma_gamma, pareto_nbd
from lifecycle.clv.lifetime_value import customer_lifetime_value
from lifecycle.clv.rfm import rfm_summary
from lifecycle.clv.segments import rfm_segments
from lifecycle.errors import ModelFitError


@pytest.fixture(scope="module")
def summary(online_retail_invoices: pd.DataFrame) -> pd.DataFrame:
    return rfm_summary(online_retail_invoices, customer_id_col="CustomerID", datetime_col="InvoiceDate",
                       monetary_value_col="TotalPrice", time_unit="W")


def test_summary_covers_every_customer(summary: pd.DataFrame) -> None:
    assert len(summary) == 4338
    assert (summary["recency"] <= summary["T"]).all()


def test_beta_geo_p_alive_is_sensible(summary: pd.DataFrame) -> None:
    model = beta_geo.fit(summary["frequency"], summary["recency"], summary["T"])
    p = model.p_alive(summary["frequency"], summary["recency"], summary["T"])
    assert model.converged
    assert np.all((p >= 0) & (p <= 1))
    assert np.std(p) > 1e-3  # not all equal
    assert 0.5 < np.median(p) < 1.0
    idle = summary["T"] - summary["recency"]
    repeat = summary["frequency"] > 1
    recent = p[(repeat & (idle < 4)).to_numpy()]
    long_inactive = p[(repeat & (idle > 26)).to_numpy()]
    assert len(recent) > 100 and len(long_inactive) > 50
    assert recent.mean() > long_inactive.mean()
    assert np.median(recent) > np.median(long_inactive)


def test_spend_and_value_are_positive_and_ordered(summary: pd.DataFrame) -> None:
    transactions = beta_geo.fit(summary["frequency"], summary["recency"], summary["T"])
    spend_model = gamma_gamma.fit(summary["frequency"], summary["monetary_value"])
    spend = spend_model.conditional_expected_average_value(summary["frequency"], summary["monetary_value"])
    value = customer_lifetime_value(transactions, summary["frequency"], summary["recency"], summary["T"], spend, months=12)
    assert spend_model.converged and np.all(spend > 0) and np.all(value > 0)
    segments = rfm_segments(summary).assign(value=value)
    by_segment = segments.groupby("segment")["value"].median()
    assert by_segment["champions"] > by_segment["lost"]


@pytest.mark.slow
def test_pareto_nbd_finds_no_drop_out_here_and_says_so(summary: pd.DataFrame) -> None:
    """No interior maximum: a typed error with advice rather than lifetimes' silent s = 9e-9."""
    with pytest.raises(ModelFitError, match="penalizer"):
        pareto_nbd.fit(summary["frequency"], summary["recency"], summary["T"])


@pytest.mark.parametrize("model", ["bg_nbd", "pareto_nbd"])
def test_every_model_fits_with_the_documented_penalty_and_p_alive_is_sensible(summary: pd.DataFrame, model: str) -> None:
    """The issue's acceptance check: fits run without error and report sensible P(alive) distributions.

    ``log_penalizer=0.001`` (docs/clv.md): the Pareto/NBD's s then stays interior; both models converge, P(alive)
    lies in (0, 1], spreads (not all ~1), has its median above 0.5, and recent repeat buyers rank above long-inactive
    ones. (``penalizer``, the L2 on the parameters themselves, cannot help here: it pulls s further towards 0.)"""
    fit = beta_geo.fit if model == "bg_nbd" else pareto_nbd.fit
    fitted = fit(summary["frequency"], summary["recency"], summary["T"], log_penalizer=0.001)
    p = fitted.p_alive(summary["frequency"], summary["recency"], summary["T"])
    assert fitted.converged and fitted.penalized
    assert np.all((p > 0) & (p <= 1))
    assert 0.5 < np.median(p) < 1.0
    assert np.quantile(p, 0.05) < 0.99  # a real lower tail, not everyone alive
    idle = (summary["T"] - summary["recency"]).to_numpy()
    repeat = (summary["frequency"] > 1).to_numpy()
    assert np.median(p[repeat & (idle < 4)]) > np.median(p[repeat & (idle > 26)])
    spend = gamma_gamma.fit(summary["frequency"], summary["monetary_value"])
    assert spend.converged
