"""`lifecycle` loads a command's module only when that command runs, and lists every command without loading any.

The root help's command list comes from ``server.commands.root.COMMANDS``; these tests hold that table to the
command modules (every module listed, each registering the command it is listed under, the listed line being
the first line of the command's own help) and check what a start imports, in a fresh interpreter.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from server.commands.root import COMMANDS, load_command
from tests.server.helpers import server_env

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("pandas", "numpy", "scipy", "matplotlib", "mcp", "openai", "pyarrow", "duckdb", "lifecycle.dataset")


def modules_loaded_by(*argv: str) -> set[str]:
    """The modules ``lifecycle *argv`` has imported when it exits (run through ``server.cli.main`` in a new
    interpreter, the way the console script runs it)."""
    code = ("import json, sys\nfrom server.cli import main\nsys.argv = ['lifecycle', *json.loads(sys.argv[1])]\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "sys.stderr.write('\\nMODULES ' + json.dumps(sorted(sys.modules)))\n")
    done = subprocess.run([sys.executable, "-c", code, json.dumps(list(argv))], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    return set(json.loads(done.stderr.rpartition("MODULES ")[2]))


def test_every_command_module_is_listed_once() -> None:
    on_disk = {f"server.commands.{p.stem}" for p in (ROOT / "server" / "commands").glob("*_cmd.py")}
    assert {entry.module for entry in COMMANDS} == on_disk
    assert len({entry.name for entry in COMMANDS}) == len(COMMANDS)


@pytest.mark.parametrize("entry", COMMANDS, ids=[entry.name for entry in COMMANDS])
def test_each_listed_line_is_the_first_line_of_the_commands_help(entry) -> None:  # type: ignore[no-untyped-def]
    command = load_command(entry.name)
    assert command.name == entry.name
    assert (command.help or "").strip().splitlines()[0] == entry.summary


def test_the_root_help_lists_every_command_without_importing_the_engine() -> None:
    loaded = modules_loaded_by("--help")
    assert not {name for name in loaded if name.split(".")[0] in HEAVY or name in HEAVY}
    assert not {name for name in loaded if name.endswith("_cmd")}


def test_a_command_imports_its_own_module_only() -> None:
    loaded = modules_loaded_by("schema", "--plain")
    assert "server.commands.schema_cmd" in loaded
    assert not {name for name in loaded if name.endswith("_cmd") and name != "server.commands.schema_cmd"}
    assert not {name for name in loaded if name.split(".")[0] in ("mcp", "matplotlib", "openai", "scipy")}


def test_the_server_starts_without_loading_charts_or_the_llm_client(tmp_path: Path) -> None:
    """Building the MCP server (what ``lifecycle serve`` does before answering tools/list) leaves matplotlib to the first
    chart and openai to ``lifecycle plan``."""
    code = ("import json, sys\nfrom server.app import build_server\nbuild_server(sys.argv[1])\n"
            "sys.stderr.write('\\nMODULES ' + json.dumps(sorted(sys.modules)))\n")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "absent.db")], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    loaded = set(json.loads(done.stderr.rpartition("MODULES ")[2]))
    assert "server.app" in loaded
    assert not {name for name in loaded if name.split(".")[0] in ("matplotlib", "openai")}


def test_the_metric_catalogue_on_sqlite_loads_neither_sqlglot_nor_the_clv_models_nor_the_export_stack(tiny_db: Path, tmp_path: Path) -> None:
    """`lifecycle metrics --json` on a SQLite file with no orders: SQLGlot only writes other dialects, the CLV models
    only fill the snapshot's order columns, and the per-customer export stack only serves ``--monthly`` — none of them
    is imported (each was about a tenth of a second of the command's start). Nor rich (the table and error output
    only) or ``pyarrow.dataset`` (the snapshot cache reads a single Parquet file): ~15 and ~10 ms of the start."""
    code = ("import json, os, sys\nfrom server.cli import main\nsys.argv = ['lifecycle', 'metrics', '--db', sys.argv[1], '--json']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "sys.stderr.write('\\nMODULES ' + json.dumps(sorted(sys.modules)))\n")
    done = subprocess.run([sys.executable, "-c", code, str(tiny_db)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env={**server_env(tmp_path / "data"), "PYTHONDONTWRITEBYTECODE": "1"})
    assert json.loads(done.stdout.rpartition("MODULES")[0] or done.stdout)["mrr"]["value"] == 150.0
    loaded = set(json.loads(done.stderr.rpartition("MODULES ")[2]))
    assert "lifecycle.metrics.registry" in loaded  # the catalogue was computed in this process
    assert not {name for name in loaded if name.split(".")[0] in ("sqlglot", "scipy", "matplotlib", "mcp", "openai", "duckdb",
                                                                    "rich")}
    assert "pyarrow.dataset" not in loaded
    assert not {name for name in loaded if name.startswith(("lifecycle.clv", "lifecycle.export", "server.commands.metrics_series"))}
    assert "filelock" not in loaded  # a reader never takes the write lock: its package loads with the first write


ENGINE_ONLY = ("pandas", "numpy", "scipy", "sqlglot", "duckdb", "pyarrow", "matplotlib", "openai")
LISTINGS = ("tools/list", "prompts/list", "resources/list", "resources/templates/list")


def test_serve_answers_every_listing_before_importing_the_engines_libraries(tiny_db: Path, tmp_path: Path) -> None:
    """`lifecycle serve` (the console script, stdio) answers initialize and the tool, prompt and resource listings
    with pandas, NumPy, SciPy, sqlglot and DuckDB still unimported: schemas need none of them, the tools load them
    on their first call. ``-X importtime`` logs every import as it completes; the server is killed as soon as the
    last listing arrives, so the log holds exactly what was imported before the answers."""
    from server.app import TOOL_MODULES

    log = tmp_path / "imports.log"
    script = str(Path(sys.executable).with_name("lifecycle"))
    messages = [{"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "0"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        *({"jsonrpc": "2.0", "id": i, "method": method} for i, method in enumerate(LISTINGS, 1))]
    with log.open("w") as stderr:
        server = subprocess.Popen([sys.executable, "-X", "importtime", script, "serve", "--db", str(tiny_db)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
                                  env={**server_env(tmp_path / "data"), "PYTHONDONTWRITEBYTECODE": "1"})
        try:
            assert server.stdin is not None and server.stdout is not None
            server.stdin.write("".join(json.dumps(m) + "\n" for m in messages).encode())
            server.stdin.flush()
            answers: dict[int, dict] = {}
            while len(answers) < len(LISTINGS) + 1:
                line = server.stdout.readline()
                assert line, "the server closed stdout before answering every listing"
                message = json.loads(line)
                if "id" in message:
                    answers[message["id"]] = message
        finally:
            server.kill()
            server.wait(timeout=60)
    assert all("result" in answer for answer in answers.values()), answers
    assert len(answers[1]["result"]["tools"]) == len(TOOL_MODULES)
    assert len(answers[2]["result"]["prompts"]) == 5
    imported = {line.rpartition("|")[2].strip() for line in log.read_text().splitlines() if line.startswith("import time:")}
    assert "mcp" in imported  # the log is the import log of the server
    assert not {name for name in imported if name.split(".")[0] in ENGINE_ONLY}
    assert "filelock" not in imported  # the server only reads: the write lock's package is for imports
