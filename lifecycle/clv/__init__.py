"""Probabilistic customer lifetime value: RFM summaries, BG/NBD, Pareto/NBD, Gamma-Gamma, sBG, CLV, RFM segments.

One model per module, each a small frozen dataclass returned by the module's ``fit``:

- :mod:`~lifecycle.clv.rfm`: (frequency, recency, T, monetary_value) from a transaction log, calibration/holdout.
- :mod:`~lifecycle.clv.beta_geo`: BG/NBD (Fader, Hardie & Lee 2005), non-contractual purchases and drop-out.
- :mod:`~lifecycle.clv.modified_beta_geo`: MBG/NBD (Batislam, Denizel & Filiztekin 2007), the BG/NBD in which a
  one-time buyer can have dropped out too.
- :mod:`~lifecycle.clv.pareto_nbd`: Pareto/NBD (Schmittlein, Morrison & Colombo 1987).
- :mod:`~lifecycle.clv.gamma_gamma`: Gamma-Gamma spend per transaction (Fader, Hardie & Lee 2005b).
- :mod:`~lifecycle.clv.shifted_beta_geometric`: sBG contract renewals (Fader & Hardie 2007, 2010).
- :mod:`~lifecycle.clv.lifetime_value`: CLV over a horizon with monthly discounting.
- :mod:`~lifecycle.clv.segments`: RFM quartile scores and named segments.
- :mod:`~lifecycle.clv.order_models`: the transaction models by name (``bg_nbd``, ``mbg_nbd``, ``pareto_nbd``),
  ``fit_transaction_model`` / ``fit_order_models`` with the reported penalised retry, ``FitReport``.
- :mod:`~lifecycle.clv.holdout_check`: ``holdout_check(transactions)`` / ``order_holdout_check(dataset)``, the
  calibration/holdout check by calibration frequency (Fader, Hardie & Lee 2005) that chooses the order model.
- :mod:`~lifecycle.clv.customer_value`: ``predict_customer_value(dataset)``, the order-data API of the snapshot,
  the engine and the ``predict_clv`` tool (model ``auto``: the one the holdout check prefers);
  ``rank_customer_value`` and ``summarize_customer_value`` of its table.
- :mod:`~lifecycle.clv.retention_forecast`: ``subscription_retention_forecast(dataset)``, the sBG fitted on a
  subscription dataset's signup cohorts and the retention it projects.
- :mod:`~lifecycle.clv.subscription_value`: ``predict_subscription_value(dataset)``, each current subscriber's
  renewal probability and discounted expected residual value under that sBG (Fader & Hardie 2010).

Fits raise :class:`lifecycle.errors.ModelFitError` with advice when they do not converge. See docs/clv.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from lifecycle.clv.holdout_check import holdout_check  # bound now: the function shares its module's name
from lifecycle.lazy import exports

if TYPE_CHECKING:
    from lifecycle.clv.beta_geo import BetaGeoModel, BetaGeoParams
    from lifecycle.clv.beta_geo import fit as fit_beta_geo
    from lifecycle.clv.customer_value import (
        ClvSummary,
        ClvTable,
        FitReport,
        predict_customer_value,
        rank_customer_value,
        summarize_customer_value,
    )
    from lifecycle.clv.gamma_gamma import GammaGammaModel, GammaGammaParams
    from lifecycle.clv.gamma_gamma import fit as fit_gamma_gamma
    from lifecycle.clv.holdout_check import FrequencyGroup, HoldoutCheck, ModelCheck, order_holdout_check
    from lifecycle.clv.lifetime_value import customer_lifetime_value
    from lifecycle.clv.modified_beta_geo import ModifiedBetaGeoModel, ModifiedBetaGeoParams
    from lifecycle.clv.modified_beta_geo import fit as fit_modified_beta_geo
    from lifecycle.clv.order_models import MODEL_LABELS, ORDER_MODELS, fit_order_models, fit_transaction_model
    from lifecycle.clv.pareto_nbd import ParetoNBDModel, ParetoNBDParams
    from lifecycle.clv.pareto_nbd import fit as fit_pareto_nbd
    from lifecycle.clv.retention_forecast import RetentionForecast, subscription_retention_forecast
    from lifecycle.clv.rfm import calibration_and_holdout, rfm_summary
    from lifecycle.clv.segments import SEGMENT_RULES, rfm_segments
    from lifecycle.clv.shifted_beta_geometric import ShiftedBetaGeometricModel, ShiftedBetaGeometricParams
    from lifecycle.clv.shifted_beta_geometric import fit as fit_shifted_beta_geometric
    from lifecycle.clv.subscription_value import (
        SubscriptionValueTable,
        predict_subscription_value,
        rank_subscription_value,
    )

__all__ = [
    "MODEL_LABELS",
    "ORDER_MODELS",
    "SEGMENT_RULES",
    "BetaGeoModel",
    "BetaGeoParams",
    "ClvSummary",
    "ClvTable",
    "FitReport",
    "FrequencyGroup",
    "GammaGammaModel",
    "GammaGammaParams",
    "HoldoutCheck",
    "ModelCheck",
    "ModifiedBetaGeoModel",
    "ModifiedBetaGeoParams",
    "ParetoNBDModel",
    "ParetoNBDParams",
    "RetentionForecast",
    "ShiftedBetaGeometricModel",
    "ShiftedBetaGeometricParams",
    "SubscriptionValueTable",
    "calibration_and_holdout",
    "customer_lifetime_value",
    "fit_beta_geo",
    "fit_gamma_gamma",
    "fit_modified_beta_geo",
    "fit_order_models",
    "fit_pareto_nbd",
    "fit_shifted_beta_geometric",
    "fit_transaction_model",
    "holdout_check",
    "order_holdout_check",
    "predict_customer_value",
    "predict_subscription_value",
    "rank_customer_value",
    "rank_subscription_value",
    "rfm_segments",
    "rfm_summary",
    "subscription_retention_forecast",
    "summarize_customer_value",
]

_exported, __dir__ = exports(__name__, {
    "beta_geo": ("BetaGeoModel", "BetaGeoParams",),
    "customer_value": ("ClvSummary", "ClvTable", "FitReport", "predict_customer_value", "rank_customer_value",
                       "summarize_customer_value"),
    "gamma_gamma": ("GammaGammaModel", "GammaGammaParams",),
    "holdout_check": ("FrequencyGroup", "HoldoutCheck", "ModelCheck", "order_holdout_check",),
    "lifetime_value": ("customer_lifetime_value",),
    "modified_beta_geo": ("ModifiedBetaGeoModel", "ModifiedBetaGeoParams",),
    "order_models": ("MODEL_LABELS", "ORDER_MODELS", "fit_order_models", "fit_transaction_model",),
    "pareto_nbd": ("ParetoNBDModel", "ParetoNBDParams",),
    "retention_forecast": ("RetentionForecast", "subscription_retention_forecast",),
    "rfm": ("calibration_and_holdout", "rfm_summary",),
    "segments": ("SEGMENT_RULES", "rfm_segments",),
    "shifted_beta_geometric": ("ShiftedBetaGeometricModel", "ShiftedBetaGeometricParams",),
    "subscription_value": ("SubscriptionValueTable", "predict_subscription_value", "rank_subscription_value",),
})

FIT_ALIASES = {"fit_beta_geo": "beta_geo", "fit_modified_beta_geo": "modified_beta_geo", "fit_pareto_nbd": "pareto_nbd",
               "fit_gamma_gamma": "gamma_gamma", "fit_shifted_beta_geometric": "shifted_beta_geometric"}
"""``fit_<model>``: the ``fit`` of the model's module."""


def __getattr__(name: str) -> Any:
    """A public name, imported from its module on first use (``lifecycle.lazy``); ``fit_<model>`` is that model
    module's ``fit``."""
    if name in FIT_ALIASES:
        return importlib.import_module(f"{__name__}.{FIT_ALIASES[name]}").fit
    return _exported(name)
