"""The MCP server in-process, through the real `mcp.Client`: tool listing, the describe_dataset result, errors."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from mcp import Client

from lifecycle.schema import SCHEMA_VERSION
from lifecycle.store import atomic_write
from server.app import INSTRUCTIONS, SERVER_NAME, TOOL_MODULES, build_server
from tests.server.helpers import TINY_ROWS, TINY_SPANS
from tools.describe_dataset import DescribeDatasetResult

pytestmark = pytest.mark.anyio

DOCS = Path(__file__).resolve().parents[2] / "docs" / "mcp-server.md"


async def test_server_introduces_itself_with_name_and_instructions(tiny_db: Path) -> None:
    async with Client(build_server(tiny_db)) as client:
        assert client.server_info is not None and client.server_info.name == SERVER_NAME
        assert client.instructions == INSTRUCTIONS
        assert "describe_dataset" in (client.instructions or "")


async def test_describe_dataset_is_listed_read_only_with_an_output_schema(tiny_db: Path) -> None:
    async with Client(build_server(tiny_db)) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    tool = tools["describe_dataset"]
    assert tool.annotations is not None
    assert (tool.annotations.read_only_hint, tool.annotations.idempotent_hint,
            tool.annotations.open_world_hint, tool.annotations.destructive_hint) == (True, True, False, False)
    assert tool.output_schema is not None
    assert set(tool.output_schema["properties"]) == set(DescribeDatasetResult.model_fields)
    assert set(tool.input_schema["properties"]) == {"as_of"}
    assert tool.description and "Call this first" in tool.description


async def test_every_tool_is_read_only_and_has_an_output_schema(tiny_db: Path) -> None:
    async with Client(build_server(tiny_db)) as client:
        tools = (await client.list_tools()).tools
    assert len(tools) == len(TOOL_MODULES)
    for tool in tools:
        assert tool.annotations is not None and tool.annotations.read_only_hint is True, tool.name
        assert tool.output_schema is not None, tool.name


async def test_describe_dataset_reports_rows_and_dates_of_the_fixture(tiny_db: Path) -> None:
    """Expected values are the hand-written fixture's (see tiny_db)."""
    async with Client(build_server(tiny_db)) as client:
        result = await client.call_tool("describe_dataset", {})
    assert result.is_error is False
    data = DescribeDatasetResult.model_validate(result.structured_content)
    assert {t.name: t.rows for t in data.tables} == TINY_ROWS
    spans = {t.name: (str(t.first_date), str(t.last_date)) for t in data.tables if t.rows}
    assert spans == TINY_SPANS
    assert (str(data.first_date), str(data.last_date)) == ("2024-01-05", "2024-04-30")
    assert {"mrr", "nrr", "grr", "revenue_movements", "activation", "logo_churn", "retention"} <= set(data.computable)
    assert not {"funnel_conversion", "aov", "nps", "cac"} & set(data.computable)
    assert (data.warnings_count, data.info_count, data.as_of_inferred) == (0, 0, True)
    text = result.content[0].text  # type: ignore[union-attr]
    assert "customers | 3 | signup_date | 2024-01-05 | 2024-03-15" in text and "2024-01-05 to 2024-04-30" in text


async def test_describe_dataset_takes_an_as_of_date(tiny_db: Path) -> None:
    """As of 2024-03-01, E2 (2024-04-30) and C3's signup (2024-03-15) lie in the future: 2 warnings."""
    async with Client(build_server(tiny_db)) as client:
        result = await client.call_tool("describe_dataset", {"as_of": "2024-03-01"})
    data = DescribeDatasetResult.model_validate(result.structured_content)
    assert (str(data.as_of), data.as_of_inferred, data.warnings_count) == ("2024-03-01", False, 2)
    assert {(w.code, w.table, w.count) for w in data.warnings} == {("future_date", "events", 1), ("future_date", "customers", 1)}


async def test_a_malformed_as_of_is_an_error_result(tiny_db: Path) -> None:
    async with Client(build_server(tiny_db)) as client:
        result = await client.call_tool("describe_dataset", {"as_of": "last tuesday"})
    assert result.is_error is True


def _error_text(result: object) -> str:
    return " ".join(block.text for block in result.content)  # type: ignore[attr-defined]


def _assert_no_leak(text: str, path: Path) -> None:
    assert str(path.parent) not in text and path.name not in text
    assert "Traceback" not in text and "SELECT" not in text.upper().split("`")[0]


async def test_missing_dataset_gives_an_actionable_error_without_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "secret-folder" / "missing.db"
    async with Client(build_server(missing)) as client:
        result = await client.call_tool("describe_dataset", {})
    assert result.is_error is True and result.structured_content is None
    text = _error_text(result)
    assert "lifecycle demo" in text and "lifecycle import" in text
    _assert_no_leak(text, missing)


async def test_a_file_that_is_not_a_database_gives_an_actionable_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    async with Client(build_server(junk)) as client:
        result = await client.call_tool("describe_dataset", {})
    assert result.is_error is True
    text = _error_text(result)
    assert "lifecycle doctor" in text
    _assert_no_leak(text, junk)


async def test_a_database_from_a_newer_version_asks_for_an_upgrade_without_the_path(tmp_path: Path) -> None:
    newer = tmp_path / "newer.db"
    with atomic_write(newer) as db:
        db["_meta"].upsert({"key": "schema_version", "value": str(SCHEMA_VERSION + 1)}, pk="key")
    async with Client(build_server(newer)) as client:
        result = await client.call_tool("describe_dataset", {})
    assert result.is_error is True
    text = _error_text(result)
    assert "upgrade" in text
    _assert_no_leak(text, newer)


async def test_a_sqlite_file_without_lifecycle_tables_says_to_import(tmp_path: Path) -> None:
    plain = tmp_path / "plain.db"
    sqlite3.connect(plain).execute("CREATE TABLE t (x)").connection.commit()
    async with Client(build_server(plain)) as client:
        result = await client.call_tool("describe_dataset", {})
    assert result.is_error is True
    text = _error_text(result)
    assert "lifecycle import" in text
    _assert_no_leak(text, plain)


async def test_structured_content_round_trips_as_json(tiny_db: Path) -> None:
    async with Client(build_server(tiny_db)) as client:
        result = await client.call_tool("describe_dataset", {})
    assert json.loads(json.dumps(result.structured_content)) == result.structured_content


async def test_every_tool_is_documented(tiny_db: Path) -> None:
    docs = DOCS.read_text(encoding="utf-8")
    async with Client(build_server(tiny_db)) as client:
        for tool in (await client.list_tools()).tools:
            assert f"`{tool.name}`" in docs, f"{tool.name} missing from docs/mcp-server.md"


TOOLS_LIST_BUDGET_BYTES = 20_000  # "20 KB" read strictly (decimal kilobytes)


async def test_the_whole_tools_list_answer_fits_the_budget(tiny_db: Path) -> None:
    """A small, sharp surface: the tools/list result as it goes over the wire (compact JSON: every name,
    description, schema, annotation) stays under 20 KB so that it does not crowd the model's context (metric ids come from a
    resource, not an enum repeated per tool)."""
    async with Client(build_server(tiny_db)) as client:
        listed = await client.list_tools()
    wire = json.dumps(listed.model_dump(mode="json", by_alias=True, exclude_none=True), separators=(",", ":"), ensure_ascii=False)
    size = len(wire.encode("utf-8"))
    assert size <= TOOLS_LIST_BUDGET_BYTES, size
    assert len(listed.tools) <= 12
