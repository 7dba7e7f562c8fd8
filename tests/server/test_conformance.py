"""The official MCP conformance suite against `lifecycle serve --http`, checked against the baseline.

The slow test runs scripts/conformance.sh (npm install of the pinned @modelcontextprotocol/conformance into
.cache/npm, the server on a free loopback port, every applicable server scenario). The fast tests pin the
baseline comparison on hand-written results, so that a new failure or a stale baseline entry is caught.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.conformance_compare import (
    FAIL,
    MISSING,
    PASS,
    Baseline,
    compare,
    listed_server_scenarios,
    load_baseline,
    plan,
    scenario_outcome,
)

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "conformance.sh"
HELPER = ROOT / "scripts" / "conformance_compare.py"
BASELINE = ROOT / "tests" / "server" / "conformance-baseline.json"
SCRIPT_TIMEOUT_S = 170

LIST_OUTPUT = """Server scenarios (test against a server):
  - server-initialize
  - logging-set-level
  - tools-call-simple-text

Client scenarios (test against a client):
  - initialize
"""

BASE = Baseline("1.0", expected_failures={"logging-set-level": "no logging capability"},
                not_applicable={"tools-call-simple-text": "fixture tool"})


def _write_checks(directory: Path, *statuses: str) -> Path:
    run = directory / "server-x-2026-01-01T00-00-00-000Z"
    run.mkdir(parents=True)
    checks = [{"id": f"check-{i}", "status": s, "errorMessage": None if s != "FAILURE" else f"broke {i}"}
              for i, s in enumerate(statuses)]
    (run / "checks.json").write_text(json.dumps(checks))
    return directory


def test_server_scenarios_are_read_from_the_list_output_and_the_client_ones_ignored() -> None:
    assert listed_server_scenarios(LIST_OUTPUT) == ["server-initialize", "logging-set-level", "tools-call-simple-text"]


def test_the_plan_runs_every_listed_scenario_but_the_not_applicable_ones() -> None:
    assert plan(BASE, listed_server_scenarios(LIST_OUTPUT)) == ["server-initialize", "logging-set-level"]


def test_a_baseline_entry_the_package_does_not_list_is_an_error() -> None:
    stale = Baseline("1.0", expected_failures={"gone-scenario": "x"}, not_applicable={})
    with pytest.raises(ValueError, match="gone-scenario"):
        plan(stale, listed_server_scenarios(LIST_OUTPUT))


def test_an_empty_scenario_list_is_an_error() -> None:
    with pytest.raises(ValueError, match="no server scenarios"):
        plan(BASE, [])


def test_warnings_do_not_fail_a_scenario_but_one_failure_does(tmp_path: Path) -> None:
    assert scenario_outcome(_write_checks(tmp_path / "a", "SUCCESS", "WARNING", "INFO"))[0] == PASS
    status, messages = scenario_outcome(_write_checks(tmp_path / "b", "SUCCESS", "FAILURE"))
    assert (status, messages) == (FAIL, ["check-1: broke 1"])
    assert scenario_outcome(tmp_path / "never-written")[0] == MISSING


def test_results_matching_the_baseline_have_no_problems() -> None:
    assert compare(BASE, {"server-initialize": (PASS, []), "logging-set-level": (FAIL, ["-32601"])}, "1.0") == []


def test_a_new_failure_is_a_problem() -> None:
    problems = compare(BASE, {"server-initialize": (FAIL, ["ping: timeout"]), "logging-set-level": (FAIL, [])}, "1.0")
    assert len(problems) == 1 and "server-initialize: NEW FAILURE" in problems[0]


def test_an_expected_failure_that_passes_is_a_stale_entry() -> None:
    problems = compare(BASE, {"server-initialize": (PASS, []), "logging-set-level": (PASS, [])}, "1.0")
    assert len(problems) == 1 and "logging-set-level: UNEXPECTED PASS" in problems[0]


def test_a_missing_result_or_another_package_version_is_a_problem() -> None:
    problems = compare(BASE, {"server-initialize": (MISSING, ["no checks.json"]), "logging-set-level": (FAIL, [])}, "2.0")
    assert len(problems) == 2
    assert any("recorded for conformance 1.0" in p for p in problems)


def test_the_committed_baseline_is_consistent() -> None:
    """Every entry has a reason, and no scenario is both an expected failure and not applicable."""
    baseline = load_baseline(BASELINE)
    assert baseline.expected_failures and baseline.not_applicable
    assert all(reason.strip() for reason in [*baseline.expected_failures.values(), *baseline.not_applicable.values()])


def _compare_with(baseline: dict, tmp_path: Path, results: Path, version: str, scenarios: list[str]) -> int:
    path = tmp_path / "mutated-baseline.json"
    path.write_text(json.dumps(baseline))
    return subprocess.run([sys.executable, str(HELPER), "compare", str(path), str(results), version, *scenarios],
                          capture_output=True, text=True, timeout=60).returncode


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("node") is None or shutil.which("npm") is None,
                    reason="Node.js and npm are needed to run @modelcontextprotocol/conformance")
def test_the_conformance_suite_matches_the_baseline(tmp_path: Path) -> None:
    """The real run matches the baseline; the same results against a baseline missing an expected failure, or
    listing a passing scenario as one, are rejected (so the check can fail)."""
    results = tmp_path / "results"
    done = subprocess.run(["bash", str(SCRIPT), "--results", str(results)], capture_output=True, text=True,
                          timeout=SCRIPT_TIMEOUT_S, cwd=ROOT, env={**_clean_env(), "PYTHON": sys.executable})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PROBLEM" not in done.stderr
    assert "pass    server-initialize" in done.stderr and "pass    dns-rebinding-protection" in done.stderr

    baseline = json.loads(BASELINE.read_text())
    scenarios = sorted(p.name for p in results.iterdir() if p.is_dir())
    assert "tools-list" in scenarios and "tools-call-simple-text" not in scenarios
    assert _compare_with(baseline, tmp_path, results, baseline["version"], scenarios) == 0
    missing_failure = {**baseline, "expected_failures": {k: v for k, v in baseline["expected_failures"].items()
                                                         if k != "logging-set-level"}}
    assert _compare_with(missing_failure, tmp_path, results, baseline["version"], scenarios) == 1
    stale = {**baseline, "expected_failures": {**baseline["expected_failures"], "ping": "stale"}}
    assert _compare_with(stale, tmp_path, results, baseline["version"], scenarios) == 1


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("LIFECYCLE_MCP_TOKEN", "LIFECYCLE_DB")}
