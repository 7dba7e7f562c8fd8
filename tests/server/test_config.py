"""The MCP server computes with the user's engine configuration (`build_server(config=...)`, `lifecycle serve
--config`), as `lifecycle plan --config` does: same data + same as_of + same configuration ⇒ same numbers.

Wiring checks: each tool result equals the engine's own result for that configuration (``Dataset.open(...,
config=...)`` called directly), and differs from the default configuration's where the setting matters. Expected
stage ids and profile names come from the shipped presets (``load_model``, ``load_health_profile``), never from
the tools' output.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters

from lifecycle.config import DEFAULT_CONFIG, EngineConfig, ServeLimits, load_config
from lifecycle.dataset import Dataset, data_end
from lifecycle.facts import build_facts
from lifecycle.health.profile import load_health_profile
from lifecycle.metrics.registry import compute_metric
from lifecycle.stages import load_model, stage_distribution
from server.app import build_server
from server.cli import main
from tests.server.helpers import serve_args
from tools.base import finite
from tools.lifecycle_facts import FactOut

pytestmark = pytest.mark.anyio

CONFIG_TOML = """\
[models]
stages = "saas"
health = "ecommerce"

[activation]
within_days = 90

[targets.activation_rate]
low = 0.5
high = 0.6
"""
"""A non-default configuration touching the stage model, the health profile, the activation rule and a target."""

AS_OF = date(2025, 6, 30)


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "lifecycle.toml"
    path.write_text(CONFIG_TOML, encoding="utf-8")
    return path


@pytest.fixture
def config(config_file: Path) -> EngineConfig:
    return load_config(config_file)


def customer_stage_ids(model: str) -> list[str]:
    return [s.id for s in load_model(model).customer_stages]


def stage_enum_of(tool: Any) -> list[str]:
    """The stages the ``stage`` argument of ``tool`` accepts (its schema: ``{"enum": [..., null], "type": [string, null]}``
    or ``{"anyOf": [{"enum": [...]}, null]}``), without null."""
    prop = tool.input_schema["properties"]["stage"]
    return [v for v in next(option["enum"] for option in prop.get("anyOf", [prop]) if "enum" in option) if v is not None]


def text_of(result: Any) -> str:
    return " ".join(getattr(block, "text", "") for block in result.content)


UNHURRIED = ServeLimits(time_limit_s=0)
"""No time limit: these tests pin which numbers the server computes, and a loaded machine (a cold demo snapshot on
two shared cores) must not turn them into time-limit errors; the limits have their own tests (test_call_gate.py)."""


async def call(db: Path, name: str, args: dict[str, Any], config: EngineConfig = DEFAULT_CONFIG) -> Any:
    async with Client(build_server(db, config=config, limits=UNHURRIED)) as client:
        return await client.call_tool(name, args)


async def test_lifecycle_facts_are_the_engines_facts_under_the_configuration(demo_db: Path, config: EngineConfig) -> None:
    """The fact bundle `lifecycle plan --config` cites is the one the server returns."""
    result = await call(demo_db, "lifecycle_facts", {"section": "all"}, config)
    assert result.is_error is False
    bundle = build_facts(Dataset.open(demo_db, data_end(demo_db), config=config))
    expected = [finite(FactOut.model_validate(f.to_dict()).model_dump(mode="json")) for f in bundle.facts]
    assert result.structured_content["facts"] == expected
    ids = {f["id"] for f in expected}
    assert {f"stage.{s}.count" for s in customer_stage_ids("saas")} <= ids
    assert not {f"stage.{s}.count" for s in set(customer_stage_ids("default")) - set(customer_stage_ids("saas"))} & ids


async def test_stage_distribution_counts_customers_by_the_configured_stage_model(demo_db: Path, config: EngineConfig) -> None:
    result = await call(demo_db, "stage_distribution", {"as_of": AS_OF.isoformat(), "drivers": False}, config)
    assert result.is_error is False
    data = result.structured_content
    table = stage_distribution(Dataset.open(demo_db, AS_OF, config=config), load_model("saas"))
    expected = {(str(r["stage"]), str(r["population"])): int(r["count"]) for r in table.to_dict(orient="records")}
    assert data["model"] == "saas"
    assert {(s["stage"], s["population"]): s["count"] for s in data["stages"]} == expected


async def test_the_stage_argument_lists_the_configured_models_stages(demo_db: Path, config: EngineConfig) -> None:
    async with Client(build_server(demo_db, config=config, limits=UNHURRIED)) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        default_only = min(set(customer_stage_ids("default")) - set(customer_stage_ids("saas")))
        rejected = await client.call_tool("stage_distribution", {"stage": default_only, "drivers": False})
        saas_stage = customer_stage_ids("saas")[0]
        accepted = await client.call_tool("stage_distribution", {"stage": saas_stage, "drivers": False})
    async with Client(build_server(demo_db, limits=UNHURRIED)) as client:
        default_tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert stage_enum_of(tools["stage_distribution"]) == customer_stage_ids("saas")
    assert stage_enum_of(default_tools["stage_distribution"]) == customer_stage_ids("default")
    assert rejected.is_error is True
    assert all(f"'{s}'" in text_of(rejected) for s in customer_stage_ids("saas")), text_of(rejected)
    assert accepted.is_error is False
    assert all(t["from_state"] == saas_stage for t in accepted.structured_content["transitions"])


async def test_compute_metrics_uses_the_configured_activation_rule_and_target_band(demo_db: Path, config: EngineConfig) -> None:
    result = await call(demo_db, "compute_metrics", {"metrics": ["activation_rate"], "as_of": AS_OF.isoformat()}, config)
    assert result.is_error is False
    (metric,) = result.structured_content["metrics"]
    configured = compute_metric(Dataset.open(demo_db, AS_OF, config=config), "activation_rate").to_dict()
    default = compute_metric(Dataset.open(demo_db, AS_OF), "activation_rate").to_dict()
    assert (metric["value"], metric["sample_size"], metric["status"]) == (
        configured["value"], configured["sample_size"], configured["status"])
    assert (metric["target"]["low"], metric["target"]["high"]) == (0.5, 0.6)  # the band in CONFIG_TOML
    assert metric["value"] != default["value"]  # 90 days to first value activates more customers than 7


async def test_score_health_scores_with_the_configured_profile(demo_db: Path, config: EngineConfig) -> None:
    result = await call(demo_db, "score_health", {"customer_id": "C00286"}, config)
    assert result.is_error is False
    customer = result.structured_content["customer"]
    profile = load_health_profile("ecommerce")
    assert customer["profile"] == profile.name != load_health_profile("default").name
    assert {c["name"] for c in customer["components"]} == {c.name for c in profile.components}


async def test_resources_show_the_configured_stage_model_and_health_profile(tiny_db: Path, config: EngineConfig) -> None:
    async with Client(build_server(tiny_db, config=config)) as client:
        model = json.loads((await client.read_resource("lifecycle://stages/model")).contents[0].text)  # type: ignore[union-attr]
        profile = json.loads((await client.read_resource("lifecycle://health/profile")).contents[0].text)  # type: ignore[union-attr]
    saas = load_model("saas").to_dict()
    assert (model["id"], [s["id"] for s in model["stages"]]) == (saas["id"], [s["id"] for s in saas["stages"]])
    ecommerce = load_health_profile("ecommerce")
    assert (profile["name"], [c["name"] for c in profile["components"]]) == (ecommerce.name, [c.name for c in ecommerce.components])


async def test_memoised_results_are_kept_apart_per_configuration(tiny_db: Path, config: EngineConfig) -> None:
    """Fact bundles are memoised per process: a server with another configuration must not get the default's.

    The activation_rate fact differs between the two configurations (other target band, and with 90 days to
    first value, signups fewer than 90 days before as_of are left out of the denominator).
    """
    def activation(facts: list[dict[str, Any]]) -> dict[str, Any]:
        return next(f for f in facts if f["id"] == "activation_rate")

    def engine_activation(engine_config: EngineConfig) -> dict[str, Any]:
        bundle = build_facts(Dataset.open(tiny_db, data_end(tiny_db), config=engine_config))
        return activation([finite(FactOut.model_validate(f.to_dict()).model_dump(mode="json")) for f in bundle.facts])

    default = await call(tiny_db, "lifecycle_facts", {}, DEFAULT_CONFIG)
    configured = await call(tiny_db, "lifecycle_facts", {}, config)
    assert engine_activation(config) != engine_activation(DEFAULT_CONFIG)
    assert activation(configured.structured_content["facts"]) == engine_activation(config)
    assert activation(default.structured_content["facts"]) == engine_activation(DEFAULT_CONFIG)


# --- the command line: `lifecycle serve --config`, `lifecycle metrics --config` ------------------------------------


def run_cli(args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run `lifecycle <args>` through the real entry point; (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["lifecycle", *args])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(("content", "expected"), [
    pytest.param(None, "config file not found", id="missing-file"),
    pytest.param("[models\nstages = 1", "invalid TOML", id="not-toml"),
    pytest.param('[models]\nstages = "nirvana"\n', "unknown stage model 'nirvana'", id="unknown-stage-model"),
    pytest.param('[models]\nhealth = "nirvana"\n', "health profile 'nirvana' not found", id="unknown-health-profile"),
    pytest.param("[activation]\nwithin_dayz = 3\n", "unknown setting(s) within_dayz", id="unknown-setting"),
])
def test_serve_with_a_bad_config_stops_with_one_error_line(tiny_db: Path, tmp_path: Path, content: str | None, expected: str,
                                                          monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.toml"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    code, out, err = run_cli(["serve", "--db", str(tiny_db), "--config", str(path)], monkeypatch, capsys)
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert lines[-1].startswith("Error: ") and expected in " ".join(lines), err
    assert "Traceback" not in err


def test_metrics_computes_with_the_configuration(tiny_db: Path, config_file: Path, config: EngineConfig,
                                                 monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["metrics", "--db", str(tiny_db), "--config", str(config_file), "--json"], monkeypatch, capsys)
    assert (code, err) == (0, "")
    shown = json.loads(out)["activation_rate"]
    expected = json.loads(json.dumps(compute_metric(Dataset.open(tiny_db, data_end(tiny_db), config=config),
                                                    "activation_rate").to_dict()))
    assert shown == expected


def test_metrics_with_a_missing_config_is_one_error_line(tiny_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["metrics", "--db", str(tiny_db), "--config", str(tmp_path / "none.toml")], monkeypatch, capsys)
    assert (code, out) == (1, "") and err.startswith("Error: config file not found") and "Traceback" not in err


async def test_stdio_server_started_with_config_serves_the_configured_model(tiny_db: Path, config_file: Path,
                                                                             isolated_data_dir: Path) -> None:
    command, *args = serve_args("--db", str(tiny_db), "--config", str(config_file))
    params = StdioServerParameters(command=command, args=args, env={"LIFECYCLE_DATA_DIR": str(isolated_data_dir)})
    with anyio.fail_after(60):
        async with Client(params) as client:
            model = json.loads((await client.read_resource("lifecycle://stages/model")).contents[0].text)  # type: ignore[union-attr]
            tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert model["id"] == load_model("saas").id
    assert stage_enum_of(tools["stage_distribution"]) == customer_stage_ids("saas")
