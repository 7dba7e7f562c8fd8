"""A health score resting on little of its designed weight says so: in the facts, the plan's prompt and document,
and the MCP tool text.

Fixture: subscriptions only (no events, NPS, tickets, invoices, touches, sponsors or champions). The one live
customer, A (100/month since 2024-01-01, so already paying 90 days before as_of), has data for mrr_growth_90d (60 % of
growth, 17.5) and tenure_days (15 % of relationship, 17.5): coverage = (0.6 × 17.5 + 0.15 × 17.5) ÷ 100 = 0.13125 of
the default profile's weight.
"""

from __future__ import annotations

from pathlib import Path

from lifecycle.facts import build_facts
from prompts.documents import offline_document
from prompts.render import render_prompt
from tests.builders import customers, make_dataset

TABLES = {
    "customers": customers(("A", "2024-01-01"), ("B", "2024-01-01")),
    "subscriptions": [
        {"subscription_id": "s1", "customer_id": "A", "start_date": "2024-01-01", "end_date": None, "mrr": 100.0},
        {"subscription_id": "s2", "customer_id": "B", "start_date": "2024-01-01", "end_date": "2024-03-15", "mrr": 50.0},
    ],
}


def test_low_coverage_is_stated_in_the_facts_the_caveats_and_the_plan(tmp_path: Path) -> None:
    bundle = build_facts(make_dataset(tmp_path, TABLES, "2024-06-30"))
    facts = bundle.by_id()
    assert abs(facts["health.coverage.mean"].value - 0.13125) < 1e-12
    assert facts["health.mean"].note.startswith("low coverage: health rests on 13% of the profile's designed weight")
    assert "usage" in facts["health.mean"].note and "payment" in facts["health.mean"].note
    assert facts["health.band.green.share"].note == facts["health.mean"].note
    assert bundle.caveats and bundle.caveats[0].startswith("Health: low coverage")
    prompt = render_prompt("executive_summary", bundle).text
    assert "DATA CAVEATS" in prompt and "low coverage: health rests on 13%" in prompt
    assert "Data caveats" in offline_document("Plan", bundle) and "low coverage" in offline_document("Plan", bundle)
