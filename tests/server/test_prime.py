"""Priming an HTTP server as it starts listening (server/prime.py): the data's range and the default as_of's snapshot
are computed once — the snapshot lands in the Parquet cache and the process memo, where a call finds it — and no
answer changes.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from lifecycle.filters import Filters
from lifecycle.memo import MEMO
from lifecycle.snapshot.cache import snapshot_cache_path
from server.app import build_server
from server.prime import prime, prime_in_background
from tools.scope import clear_memo

pytestmark = pytest.mark.anyio

TINY_LAST_DAY = date(2024, 4, 30)
"""The tiny dataset's last day (tests/server/conftest.py: events end 2024-04-30) — the default as_of."""

TOOLS = ["revenue_movements", "cohort_retention", "list_at_risk", "score_health"]


async def _answers(server: Any) -> dict[str, Any]:
    async with Client(server) as client:
        results = {name: await client.call_tool(name, {}) for name in TOOLS}
    return {name: (r.is_error, [getattr(b, "text", None) for b in r.content], r.structured_content)
            for name, r in results.items()}


async def test_priming_builds_the_default_snapshot_once_and_answers_do_not_change(
        tiny_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clear_memo()
    server = build_server(tiny_db)
    assert server.context is not None
    cached = snapshot_cache_path(server.context.source, TINY_LAST_DAY, server.context.config, Filters())
    assert not cached.exists()
    await anyio.to_thread.run_sync(prime, server.context.source, server.context.config)
    assert cached.exists()
    assert any(isinstance(key, tuple) and key[:2] == ("snapshot", cached) for key in list(MEMO._entries))
    primed = await _answers(server)

    monkeypatch.setenv("LIFECYCLE_DATA_DIR", str(tmp_path / "fresh"))  # no cache, no memo: computed by the calls
    clear_memo()
    assert await _answers(build_server(tiny_db)) == primed


def test_priming_a_server_without_data_is_skipped_quietly(tmp_path: Path) -> None:
    server = build_server(tmp_path / "missing.db")
    assert server.context is not None
    thread = prime_in_background(server.context.source, server.context.config)
    thread.join(timeout=60)
    assert not thread.is_alive()
