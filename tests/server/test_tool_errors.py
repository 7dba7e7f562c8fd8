"""The MCP error edge (tools/base.py): every failure a tool anticipates becomes one actionable, path-free sentence."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client

from lifecycle.errors import (
    DatasetNotFoundError,
    DatasetUnreadableError,
    ModelFitError,
    QueryTimeoutError,
    SchemaVersionError,
)
from lifecycle.sources import SqliteSource
from lifecycle.store import atomic_write
from server.app import build_server
from tools.base import (
    NO_DATASET_MESSAGE,
    UNREADABLE_DATASET_MESSAGE,
    ToolContext,
    call_safely,
    scrub_paths,
    structured_result,
)


def _fails_with(exc: BaseException):
    def compute():
        raise exc
    return compute


CTX = ToolContext(SqliteSource(Path("/srv/private/customers.db")))


@pytest.mark.parametrize(("exc", "expected"), [
    pytest.param(DatasetNotFoundError("/srv/private/customers.db"), NO_DATASET_MESSAGE, id="no-dataset"),
    pytest.param(DatasetUnreadableError("the file is not a database"), UNREADABLE_DATASET_MESSAGE, id="unreadable"),
])
def test_known_failures_become_fixed_actionable_messages(exc: BaseException, expected: str) -> None:
    result = call_safely(CTX, _fails_with(exc))
    assert result.is_error is True and result.content[0].text == expected  # type: ignore[union-attr]


def test_a_timeout_tells_the_model_to_narrow_the_request() -> None:
    result = call_safely(CTX, _fails_with(QueryTimeoutError("the query ran past its time limit")))
    text = result.content[0].text  # type: ignore[union-attr]
    assert result.is_error is True and "time limit" in text and "Next step" in text


def test_other_library_errors_keep_their_message_without_paths() -> None:
    result = call_safely(CTX, _fails_with(SchemaVersionError("/srv/private/customers.db has schema version 9, newer: upgrade the package")))
    text = result.content[0].text  # type: ignore[union-attr]
    assert text == "the dataset has schema version 9, newer: upgrade the package"


def test_a_model_fit_failure_keeps_what_happened_and_gives_a_tool_callers_next_step() -> None:
    """The library's advice names fit arguments (log_penalizer) a tool does not take: it is replaced."""
    failure = ModelFitError("BG/NBD fit did not converge: a runs to 0. Data: 500 customers, 0 with repeat purchases. "
                            "Try: (1) pass log_penalizer=0.01.")
    text = call_safely(CTX, _fails_with(failure)).content[0].text  # type: ignore[union-attr]
    assert text == ("The CLV model could not be fitted: BG/NBD fit did not converge: a runs to 0. Next step: call again "
                    "with the other model, fewer filters or a later as_of (more customers and repeat purchases).")


@pytest.mark.parametrize(("message", "expected"), [
    ("bad file /home/ana/exports/leads.csv: empty", "bad file <path>: empty"),
    ("see C:\\Users\\ana\\data.db now", "see <path> now"),
    ("lead → MQL; ChartMogul/Baremetrics definition", "lead → MQL; ChartMogul/Baremetrics definition"),
])
def test_absolute_paths_are_scrubbed_and_other_slashes_kept(message: str, expected: str) -> None:
    assert scrub_paths(message, CTX.source) == expected


def test_an_unexpected_crash_is_not_swallowed_here() -> None:
    """Crashes go to the SDK, which answers `Error executing tool <name>` without the crash's text."""
    with pytest.raises(ZeroDivisionError):
        call_safely(CTX, _fails_with(ZeroDivisionError("secret detail")))


def test_structured_result_carries_the_model_and_the_text() -> None:
    from pydantic import BaseModel

    class Out(BaseModel):
        n: int

    result = structured_result(Out(n=3), "three")
    assert (result.structured_content, result.content[0].text, result.is_error) == ({"n": 3}, "three", False)  # type: ignore[union-attr]


@pytest.mark.anyio
async def test_a_tool_query_past_the_server_time_limit_is_an_error_result(tmp_path: Path) -> None:
    """With a zero time limit the first large scan is interrupted: isError with the next step, no SQL."""
    path = tmp_path / "big.db"
    with atomic_write(path) as db:
        db["customers"].insert({"customer_id": "C1", "signup_date": "2024-01-01"})
        db["events"].insert_all({"event_id": f"E{i}", "customer_id": "C1", "occurred_at": "2024-01-02T00:00:00",
                                 "event_name": f"n{i % 7}"} for i in range(3000))
    async with Client(build_server(path, query_time_limit_s=0.0)) as client:
        result = await client.call_tool("describe_dataset", {})
    text = result.content[0].text  # type: ignore[union-attr]
    assert result.is_error is True and "time limit" in text and "SELECT" not in text and str(tmp_path) not in text


@pytest.mark.anyio
async def test_invalid_arguments_get_one_sentence_per_argument_with_the_valid_values(tmp_path: Path) -> None:
    """Not pydantic's multi-line report (internal model name, documentation URL): what is wrong and what is valid."""
    path = tmp_path / "tiny.db"
    with atomic_write(path) as db:
        db["customers"].insert({"customer_id": "C1", "signup_date": "2024-01-01"})
    async with Client(build_server(path)) as client:
        enum = await client.call_tool("compare_segments", {"dimension": "mood"})
        bound = await client.call_tool("compute_metrics", {"metrics": ["mrr"], "period_months": 500})
    enum_text, bound_text = enum.content[0].text, bound.content[0].text  # type: ignore[union-attr]
    assert enum.is_error is True and bound.is_error is True
    assert enum_text.startswith("Invalid arguments for compare_segments: dimension: input should be 'segment', 'plan',")
    assert "(got 'mood'); metrics: field required." in enum_text
    assert "period_months: input should be less than or equal to 36 (got 500)" in bound_text
    for text in (enum_text, bound_text):
        assert "\n" not in text and "toolArguments" not in text and "pydantic.dev" not in text and "Next step" in text
