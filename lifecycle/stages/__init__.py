"""Lifecycle stages: rule-based classification of customers (and leads) from the per-customer snapshot.

The rule language (``rules``), stage models and their TOML loading (``model``, shipped models in ``models/``),
vectorised classification with evidence (``classification``), time in stage (``history``), the verdict's records
(``records``: pandas-free, for the tool listing), the verdict, leads and distribution (``verdict``) and the progression
drivers (``drivers``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lifecycle.lazy import exports

if TYPE_CHECKING:
    from lifecycle.stages.classification import (
        UNCLASSIFIED,
        classify_customers,
        first_match,
        json_values,
    )
    from lifecycle.stages.drivers import (
        CAVEAT,
        CHURNED,
        DEFAULT_SIGNALS,
        PROGRESSED,
        Z95,
        DriverRow,
        DriversReport,
        GroupRate,
        Transition,
        default_transitions,
        measure_drivers,
        newcombe_interval,
        progression_drivers,
        wilson_interval,
    )
    from lifecycle.stages.history import (
        checkpoints,
        stage_features,
        stage_history,
        stages_at,
        time_in_stage,
    )
    from lifecycle.stages.model import (
        POPULATIONS,
        Overlay,
        Stage,
        StageModel,
        load_model,
        model_for,
        parse_model,
        preset_names,
    )
    from lifecycle.stages.records import RuleCheck, StageVerdict
    from lifecycle.stages.rules import (
        OPS,
        Condition,
        Rule,
    )
    from lifecycle.stages.verdict import (
        LEAD_STATUSES_OPEN,
        classify_customer,
        classify_leads,
        lead_features,
        stage_distribution,
    )

__all__ = [
    "CAVEAT",
    "CHURNED",
    "Condition",
    "DEFAULT_SIGNALS",
    "DriverRow",
    "DriversReport",
    "GroupRate",
    "LEAD_STATUSES_OPEN",
    "OPS",
    "Overlay",
    "POPULATIONS",
    "PROGRESSED",
    "Rule",
    "RuleCheck",
    "Stage",
    "StageModel",
    "StageVerdict",
    "Transition",
    "UNCLASSIFIED",
    "Z95",
    "checkpoints",
    "classify_customer",
    "classify_customers",
    "classify_leads",
    "default_transitions",
    "first_match",
    "json_values",
    "lead_features",
    "load_model",
    "measure_drivers",
    "model_for",
    "newcombe_interval",
    "parse_model",
    "preset_names",
    "progression_drivers",
    "stage_distribution",
    "stage_features",
    "stage_history",
    "stages_at",
    "time_in_stage",
    "wilson_interval",
]

__getattr__, __dir__ = exports(__name__, {
    "classification": ("UNCLASSIFIED", "classify_customers", "first_match", "json_values",),
    "drivers": ("CAVEAT", "CHURNED", "DEFAULT_SIGNALS", "PROGRESSED", "Z95", "DriverRow", "DriversReport", "GroupRate",
                "Transition", "default_transitions", "measure_drivers", "newcombe_interval", "progression_drivers",
                "wilson_interval"),
    "history": ("checkpoints", "stage_features", "stage_history", "stages_at", "time_in_stage",),
    "model": ("POPULATIONS", "Overlay", "Stage", "StageModel", "load_model", "model_for", "parse_model",
              "preset_names"),
    "records": ("RuleCheck", "StageVerdict"),
    "rules": ("OPS", "Condition", "Rule",),
    "verdict": ("LEAD_STATUSES_OPEN", "classify_customer", "classify_leads", "lead_features", "stage_distribution"),
})
