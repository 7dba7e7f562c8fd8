"""docs/importing.md documents every option of `lifecycle import`, every preset and every derivation function."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifecycle.importing import preset_names
from lifecycle.importing.derive import _FUNCTIONS
from lifecycle.importing.mapping import _OPTION_KEYS

DOC = (Path(__file__).resolve().parents[2] / "docs" / "importing.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("flag", ["--map", "--preset", "--db", "--encoding", "--dayfirst", "--monthfirst", "--decimal",
                                  "--skip-invalid", "--rejects", "--format", "--delimiter", "--currency", "--rates",
                                  "--replace", "--source", "--derive-customers", "--wait", "--config", "--max-bytes",
                                  "--max-decompressed", "--max-columns", "--max-depth", "--max-field"])
def test_every_cli_option_is_documented(flag: str) -> None:
    from server.commands.root import load_command

    command = load_command("import")
    assert flag in {opt for p in command.params for opt in getattr(p, "opts", [])}
    assert flag in DOC


def test_every_preset_is_documented() -> None:
    for name in preset_names():
        assert f"`{name}`" in DOC


def test_every_mapping_option_and_derivation_is_documented() -> None:
    for option in _OPTION_KEYS:
        assert f"{option} =" in DOC
    for function in _FUNCTIONS:
        assert f"`{function}`" in DOC
