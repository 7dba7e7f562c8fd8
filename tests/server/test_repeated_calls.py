"""A repeated question is answered from the process memo with its own scope (tools/stage_distribution.py): the
same day asked explicitly and by default gives the same numbers, each answer saying whether its as_of was inferred."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client

from server.app import build_server
from tools.scope import clear_memo

pytestmark = pytest.mark.anyio

LAST_DAY = "2024-04-30"
"""The tiny dataset's last day of data (its last event, tests/server/helpers.py TINY_SPANS) — the default as_of."""


async def test_stage_distribution_by_default_and_on_the_same_explicit_day_differs_only_in_as_of_inferred(
        tiny_db: Path) -> None:
    clear_memo()
    async with Client(build_server(tiny_db)) as client:
        inferred = (await client.call_tool("stage_distribution", {})).structured_content
        explicit = (await client.call_tool("stage_distribution", {"as_of": LAST_DAY})).structured_content
        again = (await client.call_tool("stage_distribution", {})).structured_content
    assert inferred is not None and explicit is not None
    assert (inferred["scope"]["as_of"], inferred["scope"]["as_of_inferred"]) == (LAST_DAY, True)
    assert (explicit["scope"]["as_of"], explicit["scope"]["as_of_inferred"]) == (LAST_DAY, False)
    assert again == inferred
    assert {**explicit, "scope": None} == {**inferred, "scope": None}


async def test_another_stage_or_by_of_a_scope_equals_its_fresh_computation(demo_db: Path) -> None:
    """stage_distribution keeps what a scope answers whatever its stage and by (tools.stage_distribution.scope_flow):
    a call about one stage after the whole scope's call must give exactly what that call gives computed from
    nothing — its transitions only out of that stage, its drivers only that stage's transition and churn."""
    args = {"as_of": "2025-06-30", "stage": "adoption", "by": "plan", "filters": {"channel": ["partner"]}}
    clear_memo()
    async with Client(build_server(demo_db)) as client:
        await client.call_tool("stage_distribution", {k: v for k, v in args.items() if k not in ("stage", "by")})
        after_scope = (await client.call_tool("stage_distribution", args)).structured_content
    clear_memo()
    async with Client(build_server(demo_db)) as client:
        fresh = (await client.call_tool("stage_distribution", args)).structured_content
    assert after_scope is not None and after_scope == fresh
    assert after_scope["transitions"] and {t["from_state"] for t in after_scope["transitions"]} == {"adoption"}
    assert {r["transition"] for r in after_scope["drivers"]["rows"]} <= {"adoption->later_stage", "any->churned"}
    assert {v["group"] for v in after_scope["value"]} >= {"Starter"}
