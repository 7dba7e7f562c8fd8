"""The README's one-line install for MCP clients: ``uvx --from /path/to/lifecycle-mcp lifecycle serve`` builds the
package from the source folder, installs it with its dependencies into an environment of uv's own and serves MCP
over stdio — checked with the real MCP client, as Claude Desktop would start it (the README's snippet).

uv comes with the test extra (PyPI package ``uv``, next to this interpreter). The source folder is a copy of the
repository's (``test_wheel._copy_sources``), so the build never writes into the checkout.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters

from tests.packaging.test_wheel import _copy_sources

UVX = Path(sys.executable).parent / "uvx"
SESSION_TIMEOUT_S = 600  # the first run downloads the dependencies


@pytest.mark.slow
def test_uvx_from_the_source_folder_serves_tools_list_over_stdio(tmp_path: Path) -> None:
    if not UVX.exists():
        pytest.fail(f"{UVX} is missing: install the test extra (pip install -e '.[test]')")
    source = _copy_sources(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    data_dir = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LIFECYCLE_DB", "VIRTUAL_ENV")}
    env |= {"LIFECYCLE_DATA_DIR": str(data_dir), "UV_TOOL_DIR": str(tmp_path / "uv-tools"),
            "UV_PYTHON": f"{sys.version_info.major}.{sys.version_info.minor}"}
    params = StdioServerParameters(command=str(UVX), args=["--from", str(source), "lifecycle", "serve"],
                                   cwd=str(elsewhere), env=env)

    async def session() -> set[str]:
        with anyio.fail_after(SESSION_TIMEOUT_S):
            async with Client(params) as client:
                return {tool.name for tool in (await client.list_tools()).tools}

    tools = anyio.run(session)
    assert {"describe_dataset", "compute_metrics", "list_at_risk", "predict_clv"} <= tools
    assert (data_dir / "demo.db").exists()
