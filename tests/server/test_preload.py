"""``lifecycle serve --http`` loads at start what the tools would import on their first call (server/preload.py), so a
burst's memory growth is data the server can give back, not code; the preload changes no answer."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from server.preload import DEFERRED_MODULES, ENGINE_MODULES

ROOT = Path(__file__).resolve().parents[2]
OPTIONAL = {"matplotlib", "jieba", "pysbd", "PIL", "kiwisolver", "cycler", "pyparsing", "fontTools", "contourpy"}
"""Deferred on purpose (charts, Chinese segmentation, plan sentence splitting): only some calls need them."""

SCRIPT = textwrap.dedent("""
    import sys, anyio
    from mcp import Client
    from server.app import build_server
    from server.preload import preload
    from tests.server.transport_session import exercise

    server = build_server(sys.argv[1])
    preload()

    async def warm_client():  # the in-process client's own imports (schema validation, memory streams)
        async with Client(server) as client:
            await client.call_tool("describe_dataset", {})

    async def every_tool():
        async with Client(server) as client:
            await exercise(client)

    anyio.run(warm_client)
    packages = lambda: {name.split(".")[0] for name in sys.modules}
    before = packages()
    anyio.run(every_tool)
    print(" ".join(sorted(packages() - before)))
""")


def test_after_the_preload_calling_every_tool_imports_no_further_package(tiny_db: Path, tmp_path: Path) -> None:
    """In a fresh interpreter: build the server, preload, then call every tool, prompt and resource (valid and invalid
    arguments): no third-party package is imported that the preload had not loaded (the project's own modules and
    the deliberately deferred ones aside)."""
    run = subprocess.run([sys.executable, "-c", SCRIPT, str(tiny_db)], cwd=ROOT, capture_output=True, text=True,
                         timeout=600, env={**__import__("os").environ, "LIFECYCLE_DATA_DIR": str(tmp_path)})
    assert run.returncode == 0, run.stderr[-2000:]
    imported = (set(run.stdout.split()) - {"lifecycle", "tools", "prompts", "server", "charts", "tests"} - OPTIONAL
                - set(sys.stdlib_module_names))
    assert imported == set(), f"imported on a tool's first call, not preloaded: {sorted(imported)}"


def test_every_preloaded_module_is_installed() -> None:
    """The list names real modules (a typo would silently preload nothing)."""
    import importlib.util

    missing = [name for name in DEFERRED_MODULES + ENGINE_MODULES if importlib.util.find_spec(name) is None]
    assert missing == []
