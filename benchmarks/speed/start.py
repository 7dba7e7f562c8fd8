"""Start-up cases: `lifecycle --help` against a bare typer program, and a stdio server's spawn → tools/list
against a one-tool server on the same MCP SDK."""

from __future__ import annotations

import compileall
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from speed.measure import Pair, Sample, interleaved, read_peak_mib, run_process, with_peak_report

BENCHMARKS = Path(__file__).resolve().parents[1]
PEERS = BENCHMARKS / "peers"
LIFECYCLE = str(Path(sys.executable).with_name("lifecycle"))

INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}}}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}
TOOLS_LIST = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}


PACKAGES = ("lifecycle", "server", "tools", "prompts", "charts")


def compile_project() -> None:
    """Byte-compile the project's packages, as installing a wheel does (pip compiles every module): the timed runs set
    ``PYTHONDONTWRITEBYTECODE``, so without this an editable checkout would compile its sources on every start while
    the peers' libraries, installed by pip, start from bytecode."""
    for package in PACKAGES:
        compileall.compile_dir(str(BENCHMARKS.parent / package), quiet=1)


def help_pair(repeats: int, env: dict[str, str]) -> Pair:
    """`lifecycle --help` (the console script) against `python peers/bare_typer.py --help`."""
    compile_project()
    return interleaved(lambda: run_process([LIFECYCLE, "--help"], env)[0],
                       lambda: run_process([sys.executable, str(PEERS / "bare_typer.py"), "--help"], env)[0],
                       repeats, ("lifecycle --help", "bare typer --help"))


def spawn_to_tools_list(argv: list[str], env: dict[str, str]) -> tuple[Sample, int]:
    """Spawn a stdio MCP server, initialize, list its tools: wall seconds until the tools/list answer arrives,
    the server process's CPU and peak memory (``wait4`` after stdin closes), and how many tools it listed."""
    report = Path(tempfile.mkdtemp(prefix="speed-spawn-")) / "peak"
    started = time.perf_counter()
    child = subprocess.Popen(with_peak_report(argv, report), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    assert child.stdin is not None and child.stdout is not None

    def send(message: dict[str, Any]) -> None:
        child.stdin.write((json.dumps(message) + "\n").encode())  # type: ignore[union-attr]
        child.stdin.flush()  # type: ignore[union-attr]

    def answer(request_id: int) -> dict[str, Any]:
        while True:
            line = child.stdout.readline()  # type: ignore[union-attr]
            if not line:
                raise RuntimeError(f"{' '.join(argv[:3])} … closed stdout before answering request {request_id}")
            message = json.loads(line)
            if message.get("id") == request_id:
                return message

    try:
        send(INITIALIZE)
        answer(1)
        send(INITIALIZED)
        send(TOOLS_LIST)
        tools = len(answer(2)["result"]["tools"])
        wall = time.perf_counter() - started
    finally:
        child.stdin.close()
    _, _, usage = os.wait4(child.pid, 0)
    child.returncode = 0
    peak = read_peak_mib(report)
    shutil.rmtree(report.parent, ignore_errors=True)
    return Sample(wall, usage.ru_utime + usage.ru_stime, peak), tools


def spawn_pair(db: Path, repeats: int, env: dict[str, str]) -> tuple[Pair, dict[str, int]]:
    """`lifecycle serve --db DB` (stdio) against the one-tool server: spawn → initialize → tools/list."""
    compile_project()
    counts: dict[str, int] = {}

    def ours() -> Sample:
        sample, counts["product_tools"] = spawn_to_tools_list([LIFECYCLE, "serve", "--db", str(db)], env)
        return sample

    def minimal() -> Sample:
        sample, counts["peer_tools"] = spawn_to_tools_list([sys.executable, str(PEERS / "minimal_mcp_server.py")], env)
        return sample

    return interleaved(ours, minimal, repeats, ("lifecycle serve", "one-tool MCPServer")), counts
