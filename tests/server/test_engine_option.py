"""``--engine sqlite|duckdb`` (and ``$LIFECYCLE_ENGINE``) on the commands that read a dataset, run as users run them:
the installed ``lifecycle`` console script in a subprocess, and ``lifecycle serve`` over stdio through the real
MCP client.

Parity (issue #18): counts, ids, stages and bands exactly equal, floats within 1e-9 relative, rankings in the same
order (ties broken by customer_id inside the engine) — the comparison of ``tests/lifecycle/test_backend_parity.py``.
The tiny dataset runs in the default suite; the demo in the slow suite.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters

from lifecycle.metrics.registry import metric_ids
from lifecycle.sources import ENGINES
from server.dataset import Engine
from tests.lifecycle.test_backend_parity import differences, engine_param
from tests.server.helpers import server_env
from tests.server.transport_session import VALID_CALLS
from tools.compute_metrics import MAX_METRICS

LIFECYCLE = str(Path(sys.executable).parent / "lifecycle")
"""The console script installed next to the interpreter running the tests."""

OTHER_ENGINES = [engine_param(engine) for engine in ENGINES if engine != "sqlite"]
"""DuckDB in the default suite; Spark in the slow suite, skipped (with the reason) without pyspark."""

DEMO_CALLS: dict[str, dict[str, Any]] = {
    "describe_dataset": {}, "stage_distribution": {},
    "classify_customer": {"customer_id": "C00002"}, "score_health": {"customer_id": "C00003"},
    "list_at_risk": {"limit": 50}, "predict_clv": {"limit": 20}, "cohort_retention": {}, "revenue_movements": {},
    "compare_segments": {"dimension": "segment", "metrics": ["mrr", "logo_churn_rate", "nrr"]}, "lifecycle_facts": {},
    "verify_plan": {"draft": "MRR is $1 [F:mrr]. Activation is 50% [F:activation_rate]."},
}
"""One call of every other tool on the demo (its customers are C00001…)."""
METRIC_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("compute_metrics", {"metrics": list(metric_ids()[i:i + MAX_METRICS])}) for i in range(0, len(metric_ids()), MAX_METRICS)]
"""Every metric of the catalogue, in as many calls as the tool's limit per call needs."""
SCOPED_CALLS: dict[str, dict[str, Any]] = {
    "compute_metrics": {"as_of": "2025-06-30", "segment": ["SMB"], "metrics": ["mrr", "logo_churn_rate", "activation_rate"]},
    "stage_distribution": {"as_of": "2025-06-30", "segment": ["SMB"]},
    "list_at_risk": {"as_of": "2025-06-30", "limit": 50},
}


def run_lifecycle(args: list[str], data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``lifecycle <args>`` as a user runs it (the console script, a fresh process)."""
    return subprocess.run([LIFECYCLE, *args], capture_output=True, text=True, timeout=600, env=server_env(data_dir, **env))


def metrics_json(db: Path, data_dir: Path, *args: str, **env: str) -> dict[str, Any]:
    done = run_lifecycle(["metrics", "--db", str(db), "--json", *args], data_dir, **env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_engine_option_offers_exactly_the_engines_the_sources_can_open() -> None:
    assert [engine.value for engine in Engine] == list(ENGINES)


@pytest.mark.parametrize("engine", OTHER_ENGINES)
def test_metrics_json_on_another_engine_equals_sqlite_on_the_tiny_dataset(engine: str, tiny_db: Path, isolated_data_dir: Path) -> None:
    """Hand check on top of parity: MRR on the tiny dataset is 100 + 50 = 150 on every engine."""
    on_sqlite = metrics_json(tiny_db, isolated_data_dir, "--engine", "sqlite")
    on_other = metrics_json(tiny_db, isolated_data_dir, "--engine", engine)
    from_env = metrics_json(tiny_db, isolated_data_dir, LIFECYCLE_ENGINE=engine)
    assert on_sqlite["mrr"]["value"] == on_other["mrr"]["value"] == 150.0
    assert differences(on_sqlite, on_other, "metrics") == []
    assert differences(on_sqlite, from_env, "metrics") == []


@pytest.mark.parametrize("where", ["--engine", "LIFECYCLE_ENGINE"])
def test_an_unknown_engine_is_a_one_line_usage_error_naming_the_valid_ones(where: str, tiny_db: Path, isolated_data_dir: Path) -> None:
    args, env = (["--engine", "oracle"], {}) if where == "--engine" else ([], {"LIFECYCLE_ENGINE": "oracle"})
    done = run_lifecycle(["metrics", "--db", str(tiny_db), *args], isolated_data_dir, **env)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "'oracle' is not one of 'sqlite', 'duckdb', 'spark'" in done.stderr and done.stdout == ""


@pytest.mark.slow
@pytest.mark.parametrize("engine", OTHER_ENGINES)
def test_metrics_json_on_another_engine_equals_sqlite_on_the_demo(engine: str, demo_db: Path, isolated_data_dir: Path) -> None:
    on_sqlite = metrics_json(demo_db, isolated_data_dir, "--engine", "sqlite")
    on_other = metrics_json(demo_db, isolated_data_dir, "--engine", engine)
    assert len(on_sqlite) > 30 and on_sqlite["mrr"]["value"] > 0
    found = differences(on_sqlite, on_other, "metrics")
    assert not found, "\n".join(found[:40])


@pytest.mark.parametrize("engine", OTHER_ENGINES)
def test_plan_dry_run_on_another_engine_writes_the_facts_and_prompt_of_sqlite(engine: str, tiny_db: Path, isolated_data_dir: Path,
                                                                          tmp_path: Path) -> None:
    written = {}
    for name in ("sqlite", engine):
        out = tmp_path / name
        done = run_lifecycle(["plan", "--db", str(tiny_db), "--engine", name, "--dry-run", "--no-charts", "--out", str(out)],
                             isolated_data_dir)
        assert done.returncode == 0, done.stderr
        written[name] = (json.loads((out / "all.facts.json").read_text()), (out / "all.prompt.md").read_text())
    (facts, prompt), (other_facts, other_prompt) = written["sqlite"], written[engine]
    assert "[F:population.customers]" in prompt
    assert differences(facts, other_facts, "facts") == [] and prompt == other_prompt


# --------------------------------------------------------------------------------------------- lifecycle serve


def _params(db: Path, data_dir: Path, engine: str) -> StdioServerParameters:
    return StdioServerParameters(command=LIFECYCLE, args=["serve", "--db", str(db), "--engine", engine, "--time-limit", "600"],
                                 env={"LIFECYCLE_DATA_DIR": str(data_dir)})


async def answers(db: Path, data_dir: Path, engine: str, calls: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Every call's outcome from ``lifecycle serve --engine ENGINE`` over stdio: error flag, structured content and,
    for an error, its text."""
    out: list[dict[str, Any]] = []
    async with Client(_params(db, data_dir, engine)) as client:
        for name, arguments in calls:
            result = await client.call_tool(name, arguments)
            text = " ".join(getattr(block, "text", "") for block in result.content) if result.is_error else None
            out.append({"tool": name, "is_error": result.is_error, "structured": result.structured_content, "error": text})
    return out


def _compare(db: Path, data_dir: Path, engine: str, calls: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    async def both() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        with anyio.fail_after(900):
            return (await answers(db, data_dir / "sqlite", "sqlite", calls),
                    await answers(db, data_dir / engine, engine, calls))

    on_sqlite, on_other = anyio.run(both)
    found = [d for i, (a, b) in enumerate(zip(on_sqlite, on_other, strict=True))
             for d in differences(a, b, f"{calls[i][0]}{calls[i][1]}")]
    assert not found, f"SQLite and {engine} answer differently:\n" + "\n".join(found[:40])
    return on_sqlite


@pytest.mark.parametrize("engine", OTHER_ENGINES)
def test_serve_on_another_engine_answers_every_tool_like_sqlite_on_the_tiny_dataset(
        engine: str, tiny_db: Path, isolated_data_dir: Path) -> None:
    calls = list(VALID_CALLS.items())
    on_sqlite = _compare(tiny_db, isolated_data_dir, engine, calls)
    assert [a["tool"] for a in on_sqlite] == list(VALID_CALLS)
    metrics = next(a for a in on_sqlite if a["tool"] == "compute_metrics")
    assert metrics["structured"]["metrics"][0]["value"] == 150.0  # 100 + 50 by hand


@pytest.mark.slow
@pytest.mark.parametrize("engine", OTHER_ENGINES)
def test_serve_on_another_engine_answers_every_tool_like_sqlite_on_the_demo(
        engine: str, demo_db: Path, isolated_data_dir: Path) -> None:
    calls = list(DEMO_CALLS.items()) + METRIC_CALLS + list(SCOPED_CALLS.items())
    on_sqlite = _compare(demo_db, isolated_data_dir, engine, calls)
    assert {a["tool"] for a in on_sqlite} == set(DEMO_CALLS) | {"compute_metrics"}
    assert all(not a["is_error"] for a in on_sqlite), [a for a in on_sqlite if a["is_error"]]


@pytest.mark.parametrize("command", [["customers"], ["revenue"]], ids=lambda c: c[0])
def test_results_commands_on_duckdb_print_what_sqlite_prints(command: list[str], tiny_db: Path, isolated_data_dir: Path) -> None:
    outputs = []
    for engine in ("sqlite", "duckdb"):
        done = run_lifecycle([*command, "--db", str(tiny_db), "--engine", engine], isolated_data_dir)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    assert outputs[0].strip() and outputs[0] == outputs[1]


# --------------------------------------------------------------------------------------------- engine from --config


def test_the_engine_comes_from_the_command_line_then_the_environment_then_the_config(
        tiny_db: Path, isolated_data_dir: Path, tmp_path: Path) -> None:
    """A Parquet folder is readable by DuckDB but refused by SQLite with a one-line message naming the folder: so
    which engine ran is visible. ``[source] engine = "duckdb"`` reads it; ``--engine sqlite`` or
    ``LIFECYCLE_ENGINE=sqlite`` overrides the config; ``--engine duckdb`` overrides ``LIFECYCLE_ENGINE=sqlite``."""
    from lifecycle.sources.parquet import export_parquet

    folder = tmp_path / "parquet"
    export_parquet(tiny_db, folder)
    config = tmp_path / "lifecycle.toml"
    config.write_text('[source]\nengine = "duckdb"\n', encoding="utf-8")
    base = ["metrics", "--db", str(folder), "--json", "--config", str(config)]

    from_config = run_lifecycle(base, isolated_data_dir)
    assert from_config.returncode == 0, from_config.stderr
    assert json.loads(from_config.stdout)["mrr"]["value"] == 150.0  # 100 + 50 by hand
    for refused in (run_lifecycle([*base, "--engine", "sqlite"], isolated_data_dir),
                    run_lifecycle(base, isolated_data_dir, LIFECYCLE_ENGINE="sqlite")):
        assert refused.returncode != 0 and "Traceback" not in refused.stderr
        assert "is a folder: SQLite reads the importer's database file" in refused.stderr
    cli_over_env = run_lifecycle([*base, "--engine", "duckdb"], isolated_data_dir, LIFECYCLE_ENGINE="sqlite")
    assert cli_over_env.returncode == 0 and json.loads(cli_over_env.stdout) == json.loads(from_config.stdout)


def test_customers_reads_the_engine_from_the_config_too(tiny_db: Path, isolated_data_dir: Path, tmp_path: Path) -> None:
    from lifecycle.sources.parquet import export_parquet

    folder = tmp_path / "parquet"
    export_parquet(tiny_db, folder)
    config = tmp_path / "lifecycle.toml"
    config.write_text('[source]\nengine = "duckdb"\n', encoding="utf-8")
    on_folder = run_lifecycle(["customers", "--db", str(folder), "--config", str(config), "--format", "csv"], isolated_data_dir)
    on_sqlite = run_lifecycle(["customers", "--db", str(tiny_db), "--format", "csv"], isolated_data_dir)
    assert on_folder.returncode == 0, on_folder.stderr
    assert on_folder.stdout.strip() and on_folder.stdout == on_sqlite.stdout
