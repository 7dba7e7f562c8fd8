"""The score_health tool says when the scope's health rests on less than half of the designed weight (fixture and
hand computation: tests/lifecycle/test_health_coverage.py; as_of within a month of the data's last day, 2024-03-15)."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client

from server.app import build_server
from tests.builders import make_store
from tests.lifecycle.test_health_coverage import TABLES

pytestmark = pytest.mark.anyio


async def test_the_score_health_tool_text_states_low_coverage(tmp_path: Path) -> None:
    db = make_store(tmp_path / "subs.db", TABLES)
    async with Client(build_server(db)) as client:
        result = await client.call_tool("score_health", {"as_of": "2024-04-15"})
    text = " ".join(block.text for block in result.content if getattr(block, "text", None))
    assert result.is_error is False and "Caveat — low coverage: health rests on 13%" in text
    summary = result.structured_content["summary"]
    assert summary["bands_calibrated"] is False and abs(summary["coverage"] - 0.13125) < 1e-12
