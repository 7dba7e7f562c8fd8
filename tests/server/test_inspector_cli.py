"""MCP Inspector's CLI (a third-party client, the TypeScript SDK) lists and calls the tools of `lifecycle serve`.

Inspector 0.15.0 is pinned: it is the release that runs on Node 20 (later ones need Node 22). It is installed
from the npm registry into .cache/npm/inspector-0.15.0 (gitignored) once, under a file lock so parallel test
workers do not race, and `npx` run from that directory picks the local copy. The commands are the ones in
docs/mcp-server.md ("Checking the server with MCP Inspector").
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from server.app import TOOL_MODULES
from tests.server.helpers import TINY_ROWS, RunningServer, server_env
from tools.describe_dataset import DescribeDatasetResult

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(any(shutil.which(tool) is None for tool in ("node", "npm", "npx")),
                       reason="Node.js (node, npm, npx) is needed to run MCP Inspector"),
]

INSPECTOR_VERSION = "0.15.0"
INSPECTOR = f"@modelcontextprotocol/inspector@{INSPECTOR_VERSION}"
ROOT = Path(__file__).resolve().parents[2]
INSTALL_TIMEOUT_S = 150
CALL_TIMEOUT_S = 60


def _npm_dir() -> Path:
    return Path(os.environ.get("LIFECYCLE_NPM_DIR") or ROOT / ".cache" / "npm")


def _npm_env(data_dir: Path) -> dict[str, str]:
    return {**server_env(data_dir), "npm_config_cache": str(_npm_dir() / "_cache"), "npm_config_update_notifier": "false",
            "npm_config_fund": "false", "npm_config_audit": "false"}


@pytest.fixture(scope="module")
def inspector_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The directory holding the pinned Inspector (installed on first use)."""
    prefix = _npm_dir() / f"inspector-{INSPECTOR_VERSION}"
    prefix.mkdir(parents=True, exist_ok=True)
    package_json = prefix / "node_modules" / "@modelcontextprotocol" / "inspector" / "package.json"
    with open(_npm_dir() / ".inspector.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not package_json.exists() or json.loads(package_json.read_text())["version"] != INSPECTOR_VERSION:
            done = subprocess.run(["npm", "install", "--prefix", str(prefix), "--no-save", "--loglevel=error", INSPECTOR],
                                  capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S,
                                  env=_npm_env(tmp_path_factory.mktemp("npm")))
            assert done.returncode == 0, f"npm install {INSPECTOR} failed:\n{done.stderr}"
    return prefix


def inspector(inspector_dir: Path, data_dir: Path, *args: str) -> dict:
    """Run `npx -y @modelcontextprotocol/inspector@0.15.0 --cli ARGS` and parse its JSON output."""
    done = subprocess.run(["npx", "-y", INSPECTOR, "--cli", *args], capture_output=True, text=True, cwd=inspector_dir,
                          timeout=CALL_TIMEOUT_S, env=_npm_env(data_dir), stdin=subprocess.DEVNULL)
    assert done.returncode == 0, f"inspector {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return json.loads(done.stdout)


def serve(db: Path) -> list[str]:
    """The stdio server command line, as the Inspector is given it."""
    return [sys.executable, "-m", "server.cli", "serve", "--db", str(db)]


def test_inspector_lists_the_read_only_tool_with_its_schemas(inspector_dir: Path, tiny_db: Path, isolated_data_dir: Path) -> None:
    listed = inspector(inspector_dir, isolated_data_dir, *serve(tiny_db), "--method", "tools/list")
    assert [tool["name"] for tool in listed["tools"]] == [m.NAME for m in TOOL_MODULES]
    tool = listed["tools"][0]
    assert tool["annotations"]["readOnlyHint"] is True and tool["annotations"]["destructiveHint"] is False
    assert tool["outputSchema"]["type"] == "object" and "tables" in tool["outputSchema"]["properties"]
    assert "as_of" in tool["inputSchema"]["properties"]


def test_inspector_calls_describe_dataset(inspector_dir: Path, tiny_db: Path, isolated_data_dir: Path) -> None:
    """The tiny dataset's counts and span are written by hand in tests/server/conftest.py."""
    result = inspector(inspector_dir, isolated_data_dir, *serve(tiny_db), "--method", "tools/call",
                       "--tool-name", "describe_dataset")
    assert result["isError"] is False
    data = DescribeDatasetResult.model_validate(result["structuredContent"])
    assert {t.name: t.rows for t in data.tables} == TINY_ROWS
    assert (str(data.first_date), str(data.last_date)) == ("2024-01-05", "2024-04-30")
    assert result["content"][0]["type"] == "text"
    rows = [[cell.strip() for cell in line.split("|")] for line in result["content"][0]["text"].splitlines()]
    assert any(cells[:2] == ["customers", "3"] for cells in rows)  # the text's table row: customers | 3 | …


def test_inspector_passes_a_tool_argument(inspector_dir: Path, tiny_db: Path, isolated_data_dir: Path) -> None:
    result = inspector(inspector_dir, isolated_data_dir, *serve(tiny_db), "--method", "tools/call",
                       "--tool-name", "describe_dataset", "--tool-arg", "as_of=2024-02-29")
    assert result["isError"] is False
    assert result["structuredContent"]["as_of"] == "2024-02-29"


def test_inspector_sees_the_error_result_when_there_is_no_dataset(inspector_dir: Path, tmp_path: Path,
                                                                    isolated_data_dir: Path) -> None:
    result = inspector(inspector_dir, isolated_data_dir, *serve(tmp_path / "missing.db"), "--method", "tools/call",
                       "--tool-name", "describe_dataset")
    assert result["isError"] is True
    assert "lifecycle demo" in result["content"][0]["text"] and str(tmp_path) not in result["content"][0]["text"]


def test_inspector_lists_the_tools_over_streamable_http(inspector_dir: Path, http_server: RunningServer,
                                                        isolated_data_dir: Path) -> None:
    listed = inspector(inspector_dir, isolated_data_dir, http_server.url, "--transport", "http", "--method", "tools/list")
    assert [tool["name"] for tool in listed["tools"]] == [m.NAME for m in TOOL_MODULES]
