"""Property test: any arguments drawn from a tool's own inputSchema give a result, an isError result, or a
protocol error — never a crash (the SDK's generic "Error executing tool" for an unexpected exception).

Arguments come from hypothesis-jsonschema on the advertised (compacted) schema, so the schema is tested too:
every drawn value must be accepted by the server's own validation or rejected as an isError result naming the
problem. Runs in-process on the tiny dataset; 25 examples per tool.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from mcp import Client
from mcp.shared.exceptions import MCPError

from server.app import TOOL_MODULES, build_server

CRASH_MARK = "Error executing tool"
# A crash inside the work surfaces as this generic text; invalid arguments get "Invalid arguments for <tool>: …".


def strategy_for(schema: dict[str, Any], defs: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values valid for ``schema``: objects are built here (hypothesis-jsonschema's object generation breaks on
    this hypothesis release), everything else comes from ``from_schema`` with the definitions inlined."""
    if "$ref" in schema:
        return strategy_for(defs[schema["$ref"].rsplit("/", 1)[1]], defs)
    if "anyOf" in schema:
        return st.one_of([strategy_for(option, defs) for option in schema["anyOf"]])
    types = schema.get("type")
    types = types if isinstance(types, list) else [types]
    if "object" not in types:
        return from_schema({**schema, "$defs": defs} if defs else schema)
    options: list[st.SearchStrategy[Any]] = [st.none()] if "null" in types else []
    if "properties" in schema:
        required = set(schema.get("required", ()))
        props = {name: strategy_for(sub, defs) for name, sub in schema["properties"].items()}
        options.append(st.fixed_dictionaries({k: v for k, v in props.items() if k in required},
                                             optional={k: v for k, v in props.items() if k not in required}))
    else:
        keys = strategy_for(schema.get("propertyNames", {"type": "string"}), defs)
        values = strategy_for(schema.get("additionalProperties", {}), defs) if schema.get("additionalProperties") else st.none()
        options.append(st.dictionaries(keys, values, max_size=schema.get("maxProperties", 3)))
    return st.one_of(options)


def _schemas(db: Path) -> dict[str, dict[str, Any]]:
    async def listing() -> dict[str, dict[str, Any]]:
        async with Client(build_server(db)) as client:
            return {t.name: t.input_schema for t in (await client.list_tools()).tools}

    return anyio.run(listing)


@pytest.fixture(scope="module")
def schemas(tiny_db: Path) -> dict[str, dict[str, Any]]:
    return _schemas(tiny_db)


def _is_crash(result: Any) -> bool:
    text = " ".join(getattr(block, "text", "") for block in result.content)
    return result.is_error is True and text.startswith(CRASH_MARK) and "validation error" not in text


@pytest.mark.parametrize("examples", [pytest.param(6, id="quick"),
                                      pytest.param(40, id="thorough", marks=pytest.mark.slow)])
@pytest.mark.parametrize("tool", [m.NAME for m in TOOL_MODULES])
def test_any_schema_valid_arguments_never_crash_the_tool(tool: str, examples: int, tiny_db: Path,
                                                         schemas: dict[str, dict[str, Any]]) -> None:
    """Hypothesis draws ``examples`` argument sets per tool: a few in the default suite, many in the slow one."""
    server = build_server(tiny_db)
    schema = schemas[tool]

    @settings(max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                                                        HealthCheck.filter_too_much])
    @given(arguments=strategy_for(schema, schema.get("$defs", {})) | st.dictionaries(st.sampled_from(sorted(schema.get("properties", {})) or ["x"]),
                                                           st.none() | st.integers() | st.text(max_size=5), max_size=3))
    def run(arguments: dict[str, Any]) -> None:
        async def one() -> None:
            async with Client(server) as client:
                try:
                    result = await client.call_tool(tool, arguments)
                except MCPError:
                    return  # a protocol error is an acceptable answer
            assert not _is_crash(result), (tool, json.dumps(arguments), result.content)
            if result.is_error is False:
                json.dumps(result.structured_content, allow_nan=False)

        anyio.run(one)

    run()


EXTREME_DAYS = ("0001-01-01", "0001-03-01", "1899-12-31", "3000-01-01", "9999-12-31")


@pytest.mark.parametrize("tool", [m.NAME for m in TOOL_MODULES])
def test_extreme_as_of_days_are_error_results_not_crashes(tool: str, tiny_db: Path) -> None:
    """Dates at the ends of the calendar (found by hand: month and day shifts around them overflow)."""
    from tests.server.transport_session import VALID_CALLS

    async def run() -> list[Any]:
        async with Client(build_server(tiny_db)) as client:
            return [await client.call_tool(tool, {**VALID_CALLS[tool], "as_of": day}) for day in EXTREME_DAYS]

    for day, result in zip(EXTREME_DAYS, anyio.run(run)):
        text = " ".join(getattr(b, "text", "") for b in result.content)
        assert result.is_error is True and "out of range" in text, (tool, day, text)
