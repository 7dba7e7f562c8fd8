"""Customer health and risk: the explainable 0-100 score, its profile, the at-risk list and its back-test.

The profile as data (``profile``, shipped profiles in ``profiles/``), the score and its explanation (``score``),
the ranked at-risk list with reasons and plays (``risk``), the ranking's evaluation (``evaluation``), the
health of a scope's live customers (``live``) and its summary (``summary``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lifecycle.lazy import exports

if TYPE_CHECKING:
    from lifecycle.health.evaluation import (
        precision_at_k,
        roc_auc,
    )
    from lifecycle.health.live import (
        TREND_DAYS,
        LiveHealth,
        live_health,
    )
    from lifecycle.health.profile import (
        PROFILES_DIR,
        WEIGHT_TOLERANCE,
        Bands,
        Component,
        Condition,
        Direction,
        HealthProfile,
        Reason,
        ReasonRule,
        RiskRules,
        Scoring,
        SegmentRule,
        Signal,
        bundled_profiles,
        load_health_profile,
        profile_for,
        profile_from_dict,
    )
    from lifecycle.health.risk import (
        EVIDENCE_COLUMNS,
        ORDER_KEY,
        WRONG_QUERY,
        AtRiskItem,
        AtRiskPage,
        ReasonEvidence,
        RiskQuery,
        decode_cursor,
        encode_cursor,
        list_at_risk,
        rank_at_risk,
        reason_flags,
        risk_score,
    )
    from lifecycle.health.score import (
        BANDS,
        LOW_COVERAGE,
        ComponentExplanation,
        CoverageSummary,
        Exclusion,
        HealthExplanation,
        HealthTable,
        SignalExplanation,
        assign_segments,
        by_customer,
        coverage_summary,
        explain_health,
        score_health,
        score_signal,
    )
    from lifecycle.health.summary import (
        TRENDS,
        ComponentSummary,
        HealthCount,
        HealthSummary,
        summarize_health,
    )

__all__ = [
    "LiveHealth",
    "TREND_DAYS",
    "live_health",
    "AtRiskItem",
    "AtRiskPage",
    "BANDS",
    "LOW_COVERAGE",
    "CoverageSummary",
    "coverage_summary",
    "Bands",
    "Component",
    "ComponentExplanation",
    "Condition",
    "Direction",
    "EVIDENCE_COLUMNS",
    "Exclusion",
    "HealthExplanation",
    "HealthProfile",
    "HealthTable",
    "ORDER_KEY",
    "PROFILES_DIR",
    "Reason",
    "ReasonEvidence",
    "ReasonRule",
    "RiskQuery",
    "RiskRules",
    "Scoring",
    "SegmentRule",
    "Signal",
    "SignalExplanation",
    "WEIGHT_TOLERANCE",
    "WRONG_QUERY",
    "assign_segments",
    "bundled_profiles",
    "by_customer",
    "decode_cursor",
    "encode_cursor",
    "explain_health",
    "list_at_risk",
    "load_health_profile",
    "profile_for",
    "precision_at_k",
    "profile_from_dict",
    "rank_at_risk",
    "reason_flags",
    "risk_score",
    "roc_auc",
    "score_health",
    "score_signal",
    "TRENDS",
    "ComponentSummary",
    "HealthCount",
    "HealthSummary",
    "summarize_health",
]

__getattr__, __dir__ = exports(__name__, {
    "evaluation": ("precision_at_k", "roc_auc",),
    "live": ("TREND_DAYS", "LiveHealth", "live_health",),
    "profile": ("PROFILES_DIR", "WEIGHT_TOLERANCE", "Bands", "Component", "Condition", "Direction", "HealthProfile",
                "Reason", "ReasonRule", "RiskRules", "Scoring", "SegmentRule", "Signal", "bundled_profiles",
                "load_health_profile", "profile_for", "profile_from_dict"),
    "risk": ("EVIDENCE_COLUMNS", "ORDER_KEY", "WRONG_QUERY", "AtRiskItem", "AtRiskPage", "ReasonEvidence", "RiskQuery",
             "decode_cursor", "encode_cursor", "list_at_risk", "rank_at_risk", "reason_flags", "risk_score"),
    "score": ("BANDS", "LOW_COVERAGE", "ComponentExplanation", "CoverageSummary", "Exclusion", "HealthExplanation",
              "HealthTable", "SignalExplanation", "assign_segments", "by_customer", "coverage_summary",
              "explain_health", "score_health", "score_signal"),
    "summary": ("TRENDS", "ComponentSummary", "HealthCount", "HealthSummary", "summarize_health"),
})
