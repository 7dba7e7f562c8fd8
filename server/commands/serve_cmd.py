"""`lifecycle serve`: run the MCP server over stdio (default) or streamable HTTP (``--http``).

In stdio mode stdout carries protocol messages only: logging goes to stderr, anything printed while the
dataset is prepared is redirected to stderr, and while serving the SDK points fd 1 at stderr so stray
writes from handlers cannot corrupt the stream.

``--config`` gives the server the engine configuration ``lifecycle plan --config`` takes, so both compute the same
numbers; a bad file, stage model or health profile stops the server at start with one ``Error:`` line.

``--time-limit`` and ``--max-concurrent-calls`` (or ``[serve]`` in the config file) set how calls run: a few compute
at once and the others wait their turn; each computes for at most the time limit (``tools.gate``). ``--idle-release``
and ``--idle-memo-mb`` set how memory returns after a burst: once idle that long, the memo shrinks and freed memory
goes back to the system. ``--preload`` (the default with ``--http``) loads the code the tools would import on their
first call before serving (``server.preload``); ``--warm`` (off by default) then computes the default scope's
tables in the background, pausing whenever clients' calls are running (``server.warm``).
"""

from __future__ import annotations

import contextlib
import gc
import logging
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from lifecycle.config import EngineConfig, ServeLimits, load_config
from lifecycle.health.profile import load_health_profile
from lifecycle.sources import open_configured
from lifecycle.stages import load_model
from server.app import build_server
from server.commands.root import app, err_console
from server.dataset import DEFAULT_ENGINE, EngineOption, SourceOption, engine_name, resolve_db
from server.http import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    MAX_BODY_BYTES,
    HttpSettings,
    check_exposure,
    serve_http,
    token_from_env,
)
from server.startup import collector_paused
from tools.gate import CallGate, tune_collector_for_serving, tune_memory_for_serving

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


@app.command("serve")
def serve_command(
    db: SourceOption = None,
    engine: EngineOption = DEFAULT_ENGINE,
    config_file: Annotated[Path | None, typer.Option("--config", help="Engine configuration TOML (as for `lifecycle plan`).")] = None,
    http: Annotated[bool, typer.Option("--http", help="Serve streamable HTTP at http://HOST:PORT/mcp instead of stdio.")] = False,
    host: Annotated[str, typer.Option(help="HTTP: interface to bind. Anything but loopback requires $LIFECYCLE_MCP_TOKEN.")] = DEFAULT_HOST,
    port: Annotated[int, typer.Option(help="HTTP: port to bind (0 picks a free one).", min=0, max=65535)] = DEFAULT_PORT,
    allow_origin: Annotated[list[str] | None, typer.Option("--allow-origin", help="HTTP: extra allowed Origin (e.g. https://app.example.com); repeatable.")] = None,
    allow_host: Annotated[list[str] | None, typer.Option("--allow-host", help="HTTP: extra allowed Host header (e.g. myhost.lan:8765); repeatable.")] = None,
    max_body: Annotated[int, typer.Option("--max-body", help="HTTP: largest request body in bytes (larger → 413).", min=1024)] = MAX_BODY_BYTES,
    time_limit: Annotated[float | None, typer.Option("--time-limit", min=0.0, help="Seconds one call may compute, not "
                          "counting its wait for a free slot; past it the call answers with an error naming the limit "
                          "(0: no limit; default 300, or time_limit_s under \\[serve] in --config).")] = None,
    max_concurrent_calls: Annotated[int | None, typer.Option("--max-concurrent-calls", min=0, help="Calls computing at "
                                    "once; the others wait their turn (0: the number of CPUs, at most 4; default: "
                                    "max_concurrent_calls under \\[serve] in --config, else 0).")] = None,
    idle_release: Annotated[float | None, typer.Option("--idle-release", min=0.0, help="Seconds without calls after "
                            "which memoised results shrink to --idle-memo-mb (largest first) and freed memory goes "
                            "back to the system (0: never; default 30, or idle_release_s under \\[serve]).")] = None,
    idle_memo_mb: Annotated[float | None, typer.Option("--idle-memo-mb", min=0.0, help="MiB of memoised results kept "
                            "while idle, the smallest first (default 0, or idle_memo_mb under \\[serve]); while "
                            "busy the memo holds up to $LIFECYCLE_MEMO_MB (default: a quarter of memory, at least 512).")] = None,
    preload: Annotated[bool | None, typer.Option("--preload/--no-preload", help="Load at start the code the tools "
                       "otherwise import on their first call (pandas, SciPy, scikit-learn, …): slower start, no import "
                       "pause on the first calls, and memory after start is the working level (default: on with "
                       "--http, off for stdio).")] = None,
    warm: Annotated[bool, typer.Option("--warm/--no-warm", help="Compute the default scope's tables in the "
                    "background as the server starts, pausing while clients' calls run (default: off — in the load "
                    "benchmark it kept ~120 MB after the burst and did not lower p95).")] = False,
    log_level: Annotated[str, typer.Option("--log-level", help="Log level on stderr: DEBUG, INFO, WARNING, ERROR.")] = "WARNING",
) -> None:
    """Run the Lifecycle MCP server (read-only tools over the dataset) for an MCP client."""
    level = _log_level(log_level)
    logging.basicConfig(level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    # the tool schemas built here live as long as the process: no garbage for the collector to find meanwhile
    with contextlib.redirect_stdout(sys.stderr), collector_paused():
        settings = HttpSettings(host=host, port=port, allow_origins=tuple(allow_origin or ()),
                                allow_hosts=tuple(allow_host or ()), token=token_from_env(), max_body_bytes=max_body)
        if http:
            check_exposure(settings)  # fail before any work when the listener would be unsafe
        config = engine_config(config_file)
        limits = serve_limits(config.serve, time_limit, max_concurrent_calls, idle_release, idle_memo_mb)
        path = resolve_db(db, must_exist=False)
        if not path.exists():
            err_console.print(f"Warning: no dataset at {path} yet; tools will say so until you run "
                              "`lifecycle demo` or `lifecycle import`.", highlight=False)
        tune_memory_for_serving()  # so the memory of a burst goes back to the system (tools.gate)
        server = build_server(open_configured(path, engine_name(engine), config.source), config=config, limits=limits, log_level=level)
        if (http if preload is None else preload):
            from server.preload import preload as load_deferred_code

            load_deferred_code()
        freeze_start_objects()
    if http:
        serve_http(server, settings, on_listening=_warm_up(server) if warm else None)
    else:
        if warm:
            _warm_up(server)()
        server.run("stdio")


def _warm_up(server: MCPServer) -> Callable[[], object]:
    """What starts the background warm-up of ``server``'s caches (``server.warm``)."""
    def start() -> object:
        from server.warm import warm_in_background

        return warm_in_background(server, getattr(server, "gate", None) or CallGate())
    return start


def freeze_start_objects() -> None:
    """Move every object alive once the server is built — modules, classes, tool schemas, the libraries' tables: what
    lives as long as the process — out of the cyclic garbage collector's reach (``gc.freeze``). The release after each
    burst (``tools.gate.release_memory``) runs a full collection while holding the interpreter lock; over all that it
    took about 0.1 s of CPU on the demo — added to the answer of the call just finished, every time — and about a
    quarter of it without. Frozen objects are still freed by reference counting; only cycles among them would stay.
    Then the serving collector policy (``tools.gate.tune_collector_for_serving``): full collections wait for the
    release after a burst, which freezes what survives it."""
    gc.freeze()
    tune_collector_for_serving()


def engine_config(path: Path | None) -> EngineConfig:
    """The configuration at ``path`` (the defaults without one), with its stage model and health profile loaded now
    so that a bad name fails at start rather than on every tool call (``ConfigError``)."""
    config = load_config(path)
    load_model(config.models.stages)
    load_health_profile(config.models.health)
    return config


def serve_limits(configured: ServeLimits, time_limit: float | None, max_concurrent_calls: int | None,
                 idle_release: float | None = None, idle_memo_mb: float | None = None) -> ServeLimits:
    """The ``[serve]`` limits of the configuration with the command line's ``--time-limit`` /
    ``--max-concurrent-calls`` / ``--idle-release`` / ``--idle-memo-mb`` taking precedence (``ConfigError`` for a
    value out of range)."""
    given: dict[str, float | int | None] = {"time_limit_s": time_limit, "max_concurrent_calls": max_concurrent_calls,
             "idle_release_s": idle_release, "idle_memo_mb": idle_memo_mb}
    return replace(configured, **{name: value for name, value in given.items() if value is not None})  # type: ignore[arg-type]


def _log_level(name: str) -> LogLevel:
    level = name.upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise typer.BadParameter("choose DEBUG, INFO, WARNING, ERROR or CRITICAL", param_hint="--log-level")
    return level  # type: ignore[return-value]
