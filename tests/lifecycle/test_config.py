"""Loading an engine configuration: model files named relative to the config file, and a fingerprint that follows
the contents of those files."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifecycle.config import EngineConfig, ModelsConfig, load_config
from lifecycle.stages import load_model

SAAS_MODEL = Path(__file__).resolve().parents[2] / "lifecycle" / "stages" / "models" / "saas.toml"


def test_a_model_file_named_relative_to_the_config_is_found_from_any_working_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "company"
    (folder / "models").mkdir(parents=True)
    (folder / "models" / "our_stages.toml").write_text(SAAS_MODEL.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "lifecycle.toml").write_text('[models]\nstages = "models/our_stages.toml"\nhealth = "ecommerce"\n', encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config = load_config(folder / "lifecycle.toml")
    assert config.models.stages == str(folder / "models" / "our_stages.toml")
    assert config.models.health == "ecommerce"  # a preset name stays a name
    assert load_model(config.models.stages).to_dict() == load_model("saas").to_dict()


def test_editing_a_model_file_changes_the_fingerprint(tmp_path: Path) -> None:
    model = tmp_path / "stages.toml"
    model.write_text(SAAS_MODEL.read_text(encoding="utf-8"), encoding="utf-8")
    config = EngineConfig(models=ModelsConfig(stages=str(model)))
    before = config.fingerprint()
    assert config.fingerprint() == before  # stable while nothing changes
    model.write_text(SAAS_MODEL.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert config.fingerprint() != before
    assert EngineConfig().fingerprint() == EngineConfig().fingerprint()
