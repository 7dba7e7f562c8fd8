"""``[source]`` in the configuration: which engine reads the data and how long one statement may run.

Precedence of the engine (docs/scale.md): the command line's ``--engine`` / ``$LIFECYCLE_ENGINE`` (handed to
``open_configured``) > ``[source] engine`` > sqlite. The per-statement limit: ``[source] query_time_limit_s``
(0: none) > the engine's default, which for the engines chosen for large data is longer than SQLite's.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lifecycle.config import EngineConfig, SourceSettings, load_config
from lifecycle.errors import ConfigError
from lifecycle.sources import DEFAULT_QUERY_TIME_LIMITS_S, DuckDBSource, SparkSource, SqliteSource, open_configured


def _config(tmp_path: Path, text: str) -> EngineConfig:
    path = tmp_path / "lifecycle.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def test_the_configured_engine_and_limit_open_that_engine_with_that_limit(tmp_path: Path) -> None:
    config = _config(tmp_path, '[source]\nengine = "duckdb"\nquery_time_limit_s = 120\n')
    source = open_configured(tmp_path / "x.db", None, config.source)
    assert isinstance(source, DuckDBSource) and source.time_limit_s == 120.0


def test_an_engine_named_on_the_command_line_beats_the_configured_one(tmp_path: Path) -> None:
    config = _config(tmp_path, '[source]\nengine = "duckdb"\n')
    assert isinstance(open_configured(tmp_path / "x.db", "sqlite", config.source), SqliteSource)
    assert isinstance(open_configured(tmp_path / "x.db", "spark", config.source), SparkSource)


def test_without_configuration_the_engine_is_sqlite_with_its_own_default_limit(tmp_path: Path) -> None:
    source = open_configured(tmp_path / "x.db", None, EngineConfig().source)
    assert isinstance(source, SqliteSource) and source.time_limit_s == DEFAULT_QUERY_TIME_LIMITS_S["sqlite"]


@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_engines_for_large_data_default_to_a_longer_statement_limit_than_sqlite(tmp_path: Path, engine: str) -> None:
    """At 1M customers / 50M events single statements take minutes on these engines (docs/benchmarks.md): SQLite's
    300 s limit would stop them, so their unconfigured limit is longer (and still finite)."""
    limit = open_configured(tmp_path / "x.db", engine, SourceSettings()).time_limit_s
    assert limit is not None and DEFAULT_QUERY_TIME_LIMITS_S["sqlite"] < limit == DEFAULT_QUERY_TIME_LIMITS_S[engine]


def test_a_zero_limit_means_no_limit(tmp_path: Path) -> None:
    config = _config(tmp_path, "[source]\nquery_time_limit_s = 0\n")
    assert open_configured(tmp_path / "x.db", "duckdb", config.source).time_limit_s is None


@pytest.mark.parametrize(("text", "message"), [
    ('[source]\nengine = "oracle"\n', "source.engine must be one of sqlite, duckdb, spark, got 'oracle'"),
    ("[source]\nquery_time_limit_s = -1\n", "source.query_time_limit_s must be a number of seconds >= 0"),
    ('[source]\nquery_time_limit_s = "long"\n', "source.query_time_limit_s must be a number of seconds >= 0"),
    ('[source]\nengines = "duckdb"\n', "unknown setting(s) engines; known: engine, query_time_limit_s"),
])
def test_a_bad_source_setting_is_a_config_error_naming_it(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=None) as caught:
        _config(tmp_path, text)
    assert message in str(caught.value)


def test_the_engine_changes_no_number_so_not_the_fingerprint(tmp_path: Path) -> None:
    """Cached snapshots are keyed by the fingerprint; every engine gives the same answers, so they share them."""
    assert _config(tmp_path, '[source]\nengine = "duckdb"\nquery_time_limit_s = 5\n').fingerprint() == EngineConfig().fingerprint()
