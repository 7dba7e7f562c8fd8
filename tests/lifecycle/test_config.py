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


def test_a_configuration_holds_its_loaded_stage_model_and_health_profile() -> None:
    config = EngineConfig(models=ModelsConfig(stages="saas", health="ecommerce"))
    assert config.stage_model.id == "saas" and config.health_profile.name == "ecommerce"
    assert config.stage_model is config.stage_model and config.health_profile is config.health_profile
    assert EngineConfig().stage_model.id == "default"  # auto, with no data to look at, is the default model


def test_auto_is_resolved_once_per_choice_and_the_choice_holds_its_models() -> None:
    """choose_models: orders without subscriptions → ecommerce; events alone → activity."""
    config = EngineConfig()
    orders_only = config.resolved(lambda table: table == "orders")
    assert orders_only.models == ModelsConfig(stages="ecommerce", health="ecommerce")
    assert config.resolved(lambda table: table in ("orders", "events")) is orders_only
    assert orders_only.stage_model is orders_only.stage_model and orders_only.stage_model.id == "ecommerce"
    assert config.resolved(lambda table: table == "events").models.stages == "activity"
    assert orders_only.fingerprint() != config.fingerprint()
    assert config.resolved(lambda table: True) is config.resolved(lambda table: True)
    named = EngineConfig(models=ModelsConfig(stages="saas", health="default"))
    assert named.resolved(lambda table: False) is named  # nothing to resolve


def test_a_held_model_follows_an_edit_of_its_file(tmp_path: Path) -> None:
    model = tmp_path / "stages.toml"
    text = SAAS_MODEL.read_text(encoding="utf-8")
    model.write_text(text, encoding="utf-8")
    config = EngineConfig(models=ModelsConfig(stages=str(model)))
    first = config.stage_model
    assert config.stage_model is first
    model.write_text(text.replace('name = "', 'name = "Edited ', 1), encoding="utf-8")
    assert config.stage_model is not first and config.stage_model.name.startswith("Edited ")


def test_a_file_named_like_a_shipped_model_is_not_read_for_the_fingerprint(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The loaders read a shipped name ("saas", "ecommerce", "auto") as the shipped model whatever files exist, so a
    file of that name in the working directory, and its edits, must not change the fingerprint; a model named by a
    file that is not a shipped name still does ("our_stages": the file in the working directory is the model)."""
    monkeypatch.chdir(tmp_path)
    config = EngineConfig(models=ModelsConfig(stages="saas", health="ecommerce"))
    before = config.fingerprint()
    for name in ("saas", "ecommerce", "auto"):
        (tmp_path / name).write_text("# not a model\n", encoding="utf-8")
    assert config.fingerprint() == before == EngineConfig(models=ModelsConfig(stages="saas", health="ecommerce")).fingerprint()
    assert config.stage_model.id == "saas" and config.health_profile.name == "ecommerce"
    (tmp_path / "our_stages").write_text(SAAS_MODEL.read_text(encoding="utf-8"), encoding="utf-8")
    own = EngineConfig(models=ModelsConfig(stages="our_stages", health="ecommerce"))
    first = own.fingerprint()
    (tmp_path / "our_stages").write_text(SAAS_MODEL.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert own.fingerprint() != first
