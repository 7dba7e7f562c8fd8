"""Helpers for the MCP server tests: the tiny dataset's expected values and running `lifecycle serve`."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from tools.runtime import Work

TINY_ROWS = {"customers": 3, "subscriptions": 2, "events": 2, "leads": 0, "orders": 0, "nps_responses": 0,
             "tickets": 0, "referrals": 0, "invoices": 0, "touches": 0}
TINY_SPANS = {"customers": ("2024-01-05", "2024-03-15"), "subscriptions": ("2024-01-05", "2024-02-10"),
              "events": ("2024-01-06", "2024-04-30")}


def server_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment for a server subprocess: this one, with the test's data directory and no token."""
    env = {k: v for k, v in os.environ.items() if k not in ("LIFECYCLE_MCP_TOKEN", "LIFECYCLE_DB")}
    env["LIFECYCLE_DATA_DIR"] = str(data_dir)
    env.update(extra)
    return env


def serve_args(*args: str) -> list[str]:
    """The command line that runs `lifecycle serve` with this interpreter."""
    return [sys.executable, "-m", "server.cli", "serve", *args]


@dataclass
class RunningServer:
    """An HTTP server subprocess and the endpoint it printed on stderr."""

    process: subprocess.Popen[str]
    url: str
    host: str
    port: int


def start_http_server(db: Path, data_dir: Path, *extra_args: str, env: dict[str, str] | None = None) -> RunningServer:
    """Start `lifecycle serve --http --port 0` and wait for the URL line on stderr."""
    process = subprocess.Popen(serve_args("--db", str(db), "--http", "--port", "0", *extra_args),
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=env or server_env(data_dir))
    assert process.stderr is not None
    line = process.stderr.readline()  # blocks until the URL line (or EOF if it failed)
    if "serving streamable HTTP at " not in line:
        process.kill()
        raise AssertionError(f"server did not start: {line}{process.stderr.read()}")
    url = line.split(" at ", 1)[1].split()[0]
    hostport = url.split("//", 1)[1].split("/", 1)[0]
    host, _, port = hostport.rpartition(":")
    return RunningServer(process, url, host, int(port))


def stop(server: RunningServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()




@contextmanager
def http_in_thread(server: MCPServer, **settings: float) -> Iterator[str]:
    """Serve ``server`` over streamable HTTP (the product's own app: ``server.http.build_http_app`` with
    ``settings``) by uvicorn on a free loopback port, in a thread of this process; yields the MCP endpoint URL and
    stops the server on exit."""
    import uvicorn

    from server.http import HttpSettings, bind_socket, build_http_app

    sock = bind_socket("127.0.0.1", 0)
    app = build_http_app(server, HttpSettings(port=sock.getsockname()[1], **settings))  # type: ignore[arg-type]
    runner = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=lambda: runner.run(sockets=[sock]), daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not runner.started:
        assert time.monotonic() < deadline, "the in-process HTTP server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/mcp"
    finally:
        runner.should_exit = True
        thread.join(timeout=30)


class Hold:
    """A long tool computation that steps (``Work.step``, where the gate and time limits act) until the test lets it
    finish (``release``); ``running`` is set once it started. Tests assert an order of events, not a duration."""

    def __init__(self) -> None:
        self.running = threading.Event()
        self.released = threading.Event()

    def work(self, work: Work) -> str:
        self.running.set()
        while not self.released.wait(0.01):
            work.step()
        return "held"

    def release(self) -> None:
        self.released.set()


def quick(work: Work) -> str:
    """A short tool computation: one step."""
    work.step()
    return "quick"
