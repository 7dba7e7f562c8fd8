"""A filter's values are checked against the data's distinct values, looked up once per identity of the data
(``tools.scope.known_values`` over ``SqlSource.distinct_values``) — not with a scan of the customers on every call —
and looked up again once the data changes. A filter on values the data holds is accepted after one probe per value
(``SqlSource.has_value``: a ``LIMIT 1`` look-up), without listing every value; the listing is read only to refuse. The same look-up names compare_segments' groups, checks list_at_risk's
``plan`` argument and completes a prompt's ``segment_value``.

Fixture (hand-made, as tests/lifecycle/test_plan_filter.py): customers A, B, C; subscriptions A Pro, B Basic, C Basic.
The plan values are the customers' plans (none) and the subscriptions' plans: Basic, Pro.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.types import PromptReference

import lifecycle.scope
import lifecycle.sources.base
from server.app import build_server
from tests.console import import_csvs
from tests.console import lifecycle as run
from tools.scope import clear_memo

pytestmark = pytest.mark.anyio

CUSTOMERS = "customer_id,signup_date,plan\nA,2024-01-10,\nB,2024-01-15,\nC,2024-02-01,\n"
SUBSCRIPTIONS = ("subscription_id,customer_id,start_date,end_date,mrr,plan\n"
                 "S1,A,2024-01-10,,100,Pro\n"
                 "S2,B,2024-01-15,,20,Basic\n"
                 "S4,C,2024-02-01,,20,Basic\n")
GOLD = SUBSCRIPTIONS + "S9,C,2024-03-01,,300,Gold\n"


@pytest.fixture
def plans(tmp_path: Path) -> Path:
    import_csvs(tmp_path, {"customers": CUSTOMERS, "subscriptions": SUBSCRIPTIONS}, "p.db")
    return tmp_path


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> Counter[tuple[str, str]]:
    """Every distinct-values statement run, by (table, column), whichever path runs it."""
    seen: Counter[tuple[str, str]] = Counter()
    original = lifecycle.sources.base.distinct_values

    def counted(connection: Any, table: str, column: str) -> list[str]:
        seen[(table, column)] += 1
        return original(connection, table, column)

    monkeypatch.setattr(lifecycle.sources.base, "distinct_values", counted)
    monkeypatch.setattr(lifecycle.scope, "distinct_values", counted)
    return seen


@pytest.fixture
def probes(monkeypatch: pytest.MonkeyPatch) -> Counter[tuple[str, str, str]]:
    """Every one-value probe run (``value_occurs``), by (table, column, value)."""
    seen: Counter[tuple[str, str, str]] = Counter()
    original = lifecycle.sources.base.value_occurs

    def counted(connection: Any, table: str, column: str, value: str) -> bool:
        seen[(table, column, value)] += 1
        return original(connection, table, column, value)

    monkeypatch.setattr(lifecycle.sources.base, "value_occurs", counted)
    return seen


def _text(result: Any) -> str:
    return " ".join(getattr(block, "text", "") for block in result.content)


async def test_filter_values_are_looked_up_once_for_many_filtered_calls(
        plans: Path, lookups: Counter[tuple[str, str]]) -> None:
    """Three filtered calls (two tools, two plans, two days) and a refused value: the customers' plans and the
    subscriptions' plans are each read once; the refusal still lists the valid values (Basic, Pro)."""
    clear_memo()
    async with Client(build_server(plans / "p.db")) as client:
        basic = await client.call_tool("compute_metrics", {"metrics": ["mrr"], "filters": {"plan": ["Basic"]}})
        pro = await client.call_tool("compute_metrics", {"metrics": ["mrr"], "as_of": "2024-02-29",
                                                         "filters": {"plan": ["Pro"]}})
        health = await client.call_tool("score_health", {"filters": {"plan": ["Basic"]}})
        unknown = await client.call_tool("score_health", {"filters": {"plan": ["Gold"]}})
    assert not basic.is_error and not pro.is_error and not health.is_error, (_text(basic), _text(pro), _text(health))
    assert basic.structured_content["metrics"][0]["value"] == 40.0  # B 20 + C 20
    assert pro.structured_content["metrics"][0]["value"] == 100.0  # A
    assert unknown.is_error and "unknown plan value(s) 'Gold'" in _text(unknown) and "Basic, Pro" in _text(unknown)
    assert lookups[("customers", "plan")] == 1
    assert lookups[("subscriptions", "plan")] == 1


async def test_a_value_imported_later_is_accepted(plans: Path, lookups: Counter[tuple[str, str]],
                                                 probes: Counter[tuple[str, str, str]]) -> None:
    """Gold is refused, then imported (the subscriptions again, with C adding Gold on 2024-03-01): the data's identity
    changes, Gold is probed again (found among the subscriptions' plans this time) and plan Gold selects C (MRR 20 +
    300 on the last day). The plans are listed once: for the refusal."""
    clear_memo()
    async with Client(build_server(plans / "p.db")) as client:
        before = await client.call_tool("compute_metrics", {"metrics": ["mrr"], "filters": {"plan": ["Gold"]}})
    (plans / "subscriptions.csv").write_text(GOLD, encoding="utf-8")
    done = run("import", "subscriptions", "subscriptions.csv", "--db", "p.db", cwd=plans)
    assert done.returncode == 0, done.stderr
    async with Client(build_server(plans / "p.db")) as client:
        after = await client.call_tool("compute_metrics", {"metrics": ["mrr"], "filters": {"plan": ["Gold"]}})
    assert before.is_error and "Basic, Pro" in _text(before)
    assert not after.is_error, _text(after)
    assert after.structured_content["metrics"][0]["value"] == 320.0
    assert probes[("subscriptions", "plan", "Gold")] == 2  # once per identity of the data
    assert lookups[("subscriptions", "plan")] == 1


async def test_segments_at_risk_plans_and_completions_share_the_one_look_up(
        plans: Path, lookups: Counter[tuple[str, str]]) -> None:
    """compare_segments by plan (groups: every plan value, Basic then Pro), list_at_risk filtered to a plan and to an unknown
    plan, and the completion of a segment value: the plans are read once in all (customers' once, subscriptions' once),
    the groups are the sorted values, the refusal lists them and the completion offers the one starting with "B"."""
    clear_memo()
    async with Client(build_server(plans / "p.db")) as client:
        segments = await client.call_tool("compare_segments", {"dimension": "plan", "metrics": ["mrr"]})
        at_risk = await client.call_tool("list_at_risk", {"filters": {"plan": ["Pro"]}})
        unknown = await client.call_tool("list_at_risk", {"filters": {"plan": ["Gold"]}})
        offered = await client.complete(PromptReference(type="ref/prompt", name="lifecycle_map"),
                                        {"name": "segment_value", "value": "B"},
                                        context_arguments={"segment_dimension": "plan"})
    assert not segments.is_error and not at_risk.is_error, (_text(segments), _text(at_risk))
    groups = [g["value"] for g in segments.structured_content["groups"]]
    assert groups[-2:] == ["Basic", "Pro"]
    assert unknown.is_error and "unknown plan value(s) 'Gold'" in _text(unknown) and "Basic, Pro" in _text(unknown)
    assert offered.completion.values == ["Basic"]
    assert lookups[("customers", "plan")] == 1
    assert lookups[("subscriptions", "plan")] == 1


async def test_known_values_are_accepted_by_one_probe_each_without_listing(
        plans: Path, lookups: Counter[tuple[str, str]], probes: Counter[tuple[str, str, str]]) -> None:
    """plan Basic twice (two tools) and plan Pro: no customer has a plan, so each value is probed in the customers'
    plans (absent) and the subscriptions' plans (present), once per value for the whole session; nothing is listed.
    Basic selects B and C (MRR 20 + 20), Pro selects A (100)."""
    clear_memo()
    async with Client(build_server(plans / "p.db")) as client:
        basic = await client.call_tool("compute_metrics", {"metrics": ["mrr"], "filters": {"plan": ["Basic"]}})
        again = await client.call_tool("score_health", {"filters": {"plan": ["Basic"]}})
        pro = await client.call_tool("compute_metrics", {"metrics": ["mrr"], "filters": {"plan": ["Pro"]}})
    assert not basic.is_error and not again.is_error and not pro.is_error, (_text(basic), _text(again), _text(pro))
    assert basic.structured_content["metrics"][0]["value"] == 40.0
    assert pro.structured_content["metrics"][0]["value"] == 100.0
    assert probes == Counter({("customers", "plan", "Basic"): 1, ("subscriptions", "plan", "Basic"): 1,
                              ("customers", "plan", "Pro"): 1, ("subscriptions", "plan", "Pro"): 1})
    assert not lookups


def test_a_value_occurs_exactly_when_it_is_among_the_distinct_values(plans: Path) -> None:
    """``value_occurs`` against ``distinct_values`` on the fixture: the subscriptions' plans are Basic and Pro (present),
    Gold and the case-changed "basic" are not, the empty text never occurs (the customers' plans are all empty, and
    distinct values leave empty text out), an unknown column is never looked up."""
    from lifecycle.sources import open_source

    connection = open_source(plans / "p.db").connect()
    try:
        listed = set(lifecycle.sources.base.distinct_values(connection, "subscriptions", "plan"))
        assert listed == {"Basic", "Pro"}
        for value in ("Basic", "Pro", "Gold", "basic", ""):
            assert lifecycle.sources.base.value_occurs(connection, "subscriptions", "plan", value) is (value in listed)
        assert lifecycle.sources.base.value_occurs(connection, "customers", "plan", "") is False
        assert lifecycle.sources.base.value_occurs(connection, "customers", "no_such_column", "A") is False
    finally:
        connection.close()
