"""One start, one stopping test: a fit from lifetimes' own starting point to lifetimes' tolerance (what the CLV
benchmark times against lifetimes) reaches the published CDNOW estimates, like the default several-start fit.

Published: FHL (2005) BG/NBD r 0.243, alpha 4.414, a 0.793, b 2.426; Fader, Hardie & Lee's Pareto/NBD r 0.553,
alpha 10.578, s 0.606, beta 11.669; Batislam et al. (2007) / BTYDplus MBG/NBD r 0.525, alpha 6.183, a 0.891,
b 1.614; FHL Gamma-Gamma p 6.25, q 3.74, gamma 15.44 (the same values the models' own test files pin). The starts
are lifetimes 0.11.3's: log-parameters 0.1 on time scaled to max T = 1 (BG/NBD, MBG/NBD; alpha in weeks is then
e^0.1 x max T), parameters 1 on that scale for the Pareto/NBD, log-parameters 0.1 for Gamma-Gamma.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from lifecycle.clv import beta_geo, gamma_gamma, modified_beta_geo, pareto_nbd
from lifecycle.clv._fitting import starting_points

E01 = math.exp(0.1)
LIFETIMES_TOL = 1e-7


def summary(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.Series]:
    return frame["frequency"], frame["recency"], frame["T"]


@pytest.mark.parametrize(("module", "start", "published"), [
    (beta_geo, lambda t: (E01, E01 * t, E01, E01), (0.243, 4.414, 0.793, 2.426)),
    (modified_beta_geo, lambda t: (E01, E01 * t, E01, E01), (0.525, 6.183, 0.891, 1.614)),
    (pareto_nbd, lambda t: (1.0, t, 1.0, t), (0.553, 10.578, 0.606, 11.669)),
], ids=["bg_nbd", "mbg_nbd", "pareto_nbd"])
def test_a_fit_from_lifetimes_start_to_its_tolerance_reaches_the_published_estimates(cdnow_summary, module, start,  # type: ignore[no-untyped-def]
                                                                                     published) -> None:
    x, t_x, big_t = summary(cdnow_summary)
    model = module.fit(x, t_x, big_t, start=start(float(big_t.max())), gtol=LIFETIMES_TOL)
    default = module.fit(x, t_x, big_t)
    assert model.converged
    assert tuple(vars(model.params).values()) == pytest.approx(published, rel=1e-3, abs=5e-4)
    assert model.log_likelihood == pytest.approx(default.log_likelihood, rel=1e-9)


def test_a_gamma_gamma_fit_from_lifetimes_start_reaches_the_published_estimates(cdnow_summary_with_spend) -> None:  # type: ignore[no-untyped-def]
    spend = cdnow_summary_with_spend
    model = gamma_gamma.fit(spend["x"], spend["zbar"], start=(E01, E01, E01), gtol=LIFETIMES_TOL)
    assert model.converged
    assert (model.params.p, model.params.q, model.params.gamma) == pytest.approx((6.25, 3.74, 15.44), rel=1e-3, abs=0.005)


def test_a_given_start_replaces_the_models_starts() -> None:
    assert starting_points([(1.0, 2.0), (3.0, 4.0)], None) == [(1.0, 2.0), (3.0, 4.0)]
    assert starting_points([(1.0, 2.0), (3.0, 4.0)], (5, 6)) == [(5.0, 6.0)]
