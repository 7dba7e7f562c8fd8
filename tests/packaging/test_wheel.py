"""The package as users install it: a wheel built from the repository carries every file the code reads at run time,
and installed into a fresh virtual environment its `lifecycle serve` answers tools/list (and renders a prompt, which
reads the templates and framework.toml) through the real MCP client over stdio.

The wheel is built from a copy of the sources (pyproject.toml, README.md and the package folders) so the build never
writes into the checkout and parallel test runs do not share a ``build/`` folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters

PROJECT_ROOT = Path(__file__).resolve().parents[2]
NOT_SHIPPED = {"tests", "benchmarks", "scripts", "build", "docs"}
PACKAGES = tuple(sorted(p.name for p in PROJECT_ROOT.iterdir()
                        if (p / "__init__.py").is_file() and p.name not in NOT_SHIPPED and not p.name.startswith(".")))
"""Every top-level package of the checkout (a new one missing from pyproject's ``include`` fails the test)."""
BUILD_TIMEOUT_S = 300
INSTALL_TIMEOUT_S = 900


def _copy_sources(target: Path) -> Path:
    source = target / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(PROJECT_ROOT / name, source / name)
    for package in PACKAGES:
        shutil.copytree(PROJECT_ROOT / package, source / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
    return source


def build_wheel(target: Path) -> Path:
    """Build the project's wheel into ``target`` as pip, pipx and uv do (PEP 517, isolated build with the
    ``[build-system]`` requirements); returns the wheel's path."""
    source = _copy_sources(target)
    out = target / "dist"
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)]
    subprocess.run(command, check=True, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
    (wheel,) = out.glob("lifecycle_mcp-*.whl")
    return wheel


def _package_files() -> set[str]:
    """Every file of the packages in the checkout (what the installed code may read), as wheel member names."""
    found = set()
    for package in PACKAGES:
        for path in (PROJECT_ROOT / package).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                found.add(path.relative_to(PROJECT_ROOT).as_posix())
    return found


def test_wheel_carries_every_file_of_the_packages(tmp_path: Path) -> None:
    """Templates, framework.toml, stage models, health profiles, import presets and the demo generator: a file the
    checkout has but the wheel lacks works in development and breaks for every user who installs the package."""
    wheel = build_wheel(tmp_path)
    members = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(_package_files() - members)
    assert missing == [], f"files missing from the wheel: {missing}"
    assert "prompts/framework.toml" in members and "data/generator.py" in members
    entry_points = zipfile.ZipFile(wheel).read(next(m for m in members if m.endswith("entry_points.txt"))).decode()
    assert "lifecycle = server.cli:main" in entry_points


@pytest.mark.slow
def test_wheel_installed_in_a_fresh_venv_serves_tools_list_over_stdio(tmp_path: Path) -> None:
    """pip installs the wheel (and its dependencies) into a new venv; run from an unrelated folder so nothing is
    imported from the checkout, `lifecycle serve` builds the demo on first start and answers the real client."""
    wheel = build_wheel(tmp_path)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LIFECYCLE_DB", "VIRTUAL_ENV")}
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--no-compile", str(wheel)], check=True, capture_output=True,
                   text=True, timeout=INSTALL_TIMEOUT_S, env=env)
    script = venv / "bin" / "lifecycle"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    data_dir = tmp_path / "data"
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import server, lifecycle; print(server.__file__, lifecycle.__file__)"],
                           check=True, capture_output=True, text=True, cwd=elsewhere, env=env).stdout
    assert str(PROJECT_ROOT) not in where and str(venv) in where
    params = StdioServerParameters(command=str(script), args=["serve"], cwd=str(elsewhere),
                                   env={**env, "LIFECYCLE_DATA_DIR": str(data_dir)})

    async def session() -> tuple[set[str], str]:
        with anyio.fail_after(300):
            async with Client(params) as client:
                tools = {tool.name for tool in (await client.list_tools()).tools}
                prompt = await client.get_prompt("lifecycle_map", {})
        text = " ".join(getattr(m.content, "text", "") for m in prompt.messages)
        return tools, text

    tools, prompt_text = anyio.run(session)
    assert {"describe_dataset", "compute_metrics", "list_at_risk", "predict_clv"} <= tools
    assert "Helloword" in prompt_text or "customers" in prompt_text
    assert (data_dir / "demo.db").exists()
