"""Reference docs are generated from the code, and a test fails when something is undocumented."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifecycle.schema import data_model_markdown
from server.commands.config_cmd import configuration_markdown
from server.commands.metrics_cmd import definitions_markdown
from server.commands.root import COMMANDS, load_command

ROOT = Path(__file__).resolve().parents[1]
REGENERATE = "regenerate with: .venv/bin/lifecycle {command} > docs/{file}"


@pytest.mark.parametrize(("file", "command", "render"), [
    ("metrics.md", "metrics --definitions", definitions_markdown),
    ("data-model.md", "schema", data_model_markdown),
    ("configuration.md", "config", configuration_markdown),
], ids=["metrics", "data-model", "configuration"])
def test_generated_reference_docs_are_current(file: str, command: str, render) -> None:  # type: ignore[no-untyped-def]
    on_disk = (ROOT / "docs" / file).read_text(encoding="utf-8").strip()
    assert on_disk == render().strip(), REGENERATE.format(command=command, file=file)


def test_every_cli_command_is_in_the_readme_with_help_text() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    names = sorted(entry.name for entry in COMMANDS)
    assert {"demo", "import", "doctor", "metrics", "plan", "serve", "schema", "config"} <= set(names)
    for name in names:
        command = load_command(name)
        assert f"`lifecycle {name}" in readme, f"README's command table lacks `lifecycle {name}`"
        assert (command.help or "").strip(), f"lifecycle {name} has no help text"


def test_ci_runs_exactly_the_readmes_test_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    command = next(line for line in ci.splitlines() if line.startswith("python3 -m venv"))
    assert command in readme
