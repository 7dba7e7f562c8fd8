"""Engine configuration: every tunable definition is data, with its default and help text in one place.

Load a company's own settings with ``load_config(path)`` from TOML; anything not given keeps its default.
Example (``lifecycle.toml``)::

    [activation]
    value_event = "report_created"
    within_days = 7

    [revenue]
    gross_margin = 0.78

    [targets.activation_rate]        # override a seed target band
    low = 0.7
    high = 0.9

    [models]
    stages = "saas"                  # auto | default | saas | aarrr | ecommerce | activity | path/to/own.toml

    [serve]                          # how `lifecycle serve` runs calls (changes no number)
    time_limit_s = 600

    [source]                         # which engine reads the data (changes no number)
    engine = "duckdb"                # sqlite | duckdb | spark; --engine and $LIFECYCLE_ENGINE take precedence
    query_time_limit_s = 600         # seconds one statement may run (0: no limit; default: the engine's)

``fingerprint()`` identifies a configuration (used to key cached snapshots): same config ⇒ same id.

A configuration holds what its names stand for: ``config.stage_model`` and ``config.health_profile`` are the loaded
stage model and health profile (read on first use, kept by the configuration, read again only when a model's file
changes), and ``config.resolved(has_rows)`` is the configuration with ``auto`` chosen from the data — held too, one
per choice — so every caller of one configuration shares one loaded model instead of loading it again by name.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import tomllib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from lifecycle.errors import ConfigError
from lifecycle.health.profile import HealthProfile, bundled_profiles, load_health_profile
from lifecycle.importing.limits import ReadLimits
from lifecycle.stages.model import StageModel, load_model, preset_names


@dataclass(frozen=True)
class Setting:
    """Documentation of one setting: dotted name, default and help (rendered into docs/configuration.md)."""

    name: str
    default: Any
    help: str


@dataclass(frozen=True)
class ActivationConfig:
    value_event: str = "report_created"
    within_days: int = 7
    onboarding_event: str = "onboarding_step_completed"
    onboarding_steps: int = 4
    onboarding_within_days: int = 30
    early_window_days: int = 14
    core_features: tuple[str, ...] = ("report_created", "dashboard_viewed", "integration_connected", "teammate_invited", "export_csv", "api_call")
    active_events: tuple[str, ...] = ()  # empty: every event counts as activity


@dataclass(frozen=True)
class RevenueConfig:
    gross_margin: float = 0.8
    currency: str = "USD"


@dataclass(frozen=True)
class ActivityConfig:
    churn_after_days: int = 90  # event-only data: no activity for this many days = churned


@dataclass(frozen=True)
class ConversionConfig:
    from_event: str = ""
    to_event: str = ""
    within_days: int = 7


AUTO = "auto"


@dataclass(frozen=True)
class ModelsConfig:
    stages: str = AUTO
    health: str = AUTO


DEFAULT_CALL_TIME_LIMIT_S = 300.0
MAX_AUTO_CONCURRENT_CALLS = 4
DEFAULT_IDLE_RELEASE_S = 30.0
DEFAULT_IDLE_MEMO_MB = 0.0


@dataclass(frozen=True)
class ServeLimits:
    """How the MCP server runs calls (``[serve]``; ``lifecycle serve --time-limit`` / ``--max-concurrent-calls``).

    ``time_limit_s``: seconds one call (tool, prompt, ``customer://`` resource) may compute, counted from when it
    starts computing — time spent waiting for a free slot does not count; past it the call's queries are interrupted
    and it answers with an error naming the limit. 0 turns the limit off. The default (300 s) holds a cold snapshot
    build of a 1M-customer store (129 s in docs/benchmarks.md) with room to spare.
    ``max_concurrent_calls``: calls computing at once; the others wait their turn in arrival order (never an
    error). 0 means the number of CPUs, at most ``MAX_AUTO_CONCURRENT_CALLS`` (each computing call holds its tables
    in memory, so more than a few at once only adds memory, not throughput, on a few cores).
    ``idle_release_s``: once no call has computed or waited for this many seconds, the server drops its memoised
    results down to ``idle_memo_mb`` (default 0: all of them; given a budget, largest first — table reads and
    snapshots go, final answers stay) and hands the freed memory back to the system, so a burst's memory returns to about its pre-burst level (``tools.gate``).
    0 keeps everything memoised up to the memo's own budget (``LIFECYCLE_MEMO_MB``). The default (30 s) is longer
    than an assistant's pause between calls in one conversation and well inside a minute.
    """

    time_limit_s: float = DEFAULT_CALL_TIME_LIMIT_S
    max_concurrent_calls: int = 0
    idle_release_s: float = DEFAULT_IDLE_RELEASE_S
    idle_memo_mb: float = DEFAULT_IDLE_MEMO_MB

    def __post_init__(self) -> None:
        limit = self.time_limit_s
        if isinstance(limit, bool) or not isinstance(limit, (int, float)) or not math.isfinite(limit) or limit < 0:
            raise ConfigError(f"serve.time_limit_s must be a number of seconds >= 0 (0: no limit), got {limit!r}")
        calls = self.max_concurrent_calls
        if isinstance(calls, bool) or not isinstance(calls, int) or calls < 0:
            raise ConfigError(f"serve.max_concurrent_calls must be a whole number >= 0 (0: automatic), got {calls!r}")
        for name in ("idle_release_s", "idle_memo_mb"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ConfigError(f"serve.{name} must be a number >= 0, got {value!r}")

    @property
    def idle_release_after_s(self) -> float | None:
        """Seconds of idleness after which memoised results shrink to ``idle_memo_mb``; ``None`` when turned off."""
        return float(self.idle_release_s) if self.idle_release_s > 0 else None

    @property
    def call_time_limit_s(self) -> float | None:
        """The per-call limit in seconds, ``None`` when turned off."""
        return float(self.time_limit_s) if self.time_limit_s > 0 else None

    @property
    def concurrency(self) -> int:
        """How many calls compute at once (``max_concurrent_calls``, or the automatic choice for 0)."""
        return self.max_concurrent_calls or max(1, min(MAX_AUTO_CONCURRENT_CALLS, os.cpu_count() or 1))


ENGINE_NAMES = ("sqlite", "duckdb", "spark")
"""Engines a dataset can be read with (``lifecycle.sources.ENGINES`` is this tuple)."""


@dataclass(frozen=True)
class SourceSettings:
    """Which engine reads the data and how long one statement may run (``[source]``; changes no number).

    ``engine``: the engine when neither ``--engine`` nor ``$LIFECYCLE_ENGINE`` names one (precedence: command line >
    environment > this setting > ``sqlite``). ``query_time_limit_s``: seconds one statement may run before it is
    interrupted with an error naming the limit; 0 turns the limit off; unset (``None``) means the engine's default
    (``lifecycle.sources.DEFAULT_QUERY_TIME_LIMITS_S``: sized for the data each engine is chosen for, docs/scale.md).
    """

    engine: str = "sqlite"
    query_time_limit_s: float | None = None

    def __post_init__(self) -> None:
        if self.engine not in ENGINE_NAMES:
            raise ConfigError(f"source.engine must be one of {', '.join(ENGINE_NAMES)}, got {self.engine!r}")
        limit = self.query_time_limit_s
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, float))
                                  or not math.isfinite(limit) or limit < 0):
            raise ConfigError(f"source.query_time_limit_s must be a number of seconds >= 0 (0: no limit), got {limit!r}")


@dataclass(frozen=True)
class TargetOverride:
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class EngineConfig:
    activation: ActivationConfig = field(default_factory=ActivationConfig)
    revenue: RevenueConfig = field(default_factory=RevenueConfig)
    models: ModelsConfig = field(default_factory=ModelsConfig)
    activity: ActivityConfig = field(default_factory=ActivityConfig)
    conversion: ConversionConfig = field(default_factory=ConversionConfig)
    targets: tuple[tuple[str, TargetOverride], ...] = ()
    small_sample: int = 30
    small_events: int = 10
    import_limits: ReadLimits = field(default_factory=ReadLimits)  # [import]: read limits of `lifecycle import`
    serve: ServeLimits = field(default_factory=ServeLimits)  # [serve]: how `lifecycle serve` runs calls
    source: SourceSettings = field(default_factory=SourceSettings)  # [source]: which engine reads the data

    def target_override(self, metric_id: str) -> TargetOverride | None:
        """The company's own target band for ``metric_id``, if configured."""
        return dict(self.targets).get(metric_id)

    @property
    def stage_model(self) -> StageModel:
        """The stage model ``models.stages`` names (a preset or a TOML file; ``auto`` unresolved is ``default`` —
        ``resolved`` chooses from the data), loaded on first use and held by this configuration."""
        return self._held("stages", self.models.stages, load_model)

    @property
    def health_profile(self) -> HealthProfile:
        """The health profile ``models.health`` names (a shipped one or a TOML file; ``auto`` unresolved is
        ``default``), loaded on first use and held by this configuration."""
        return self._held("health", self.models.health, load_health_profile)

    def resolved(self, has_rows: Callable[[str], bool]) -> EngineConfig:
        """This configuration with an ``auto`` stage model / health profile replaced by what ``choose_models`` picks
        for data whose tables ``has_rows`` (others kept). Each choice's configuration is held, so the models it
        loads are loaded once for every dataset that makes the same choice."""
        if AUTO not in (self.models.stages, self.models.health):
            return self
        stages, health = choose_models(has_rows)
        models = ModelsConfig(stages=stages if self.models.stages == AUTO else self.models.stages,
                              health=health if self.models.health == AUTO else self.models.health)
        held: dict[ModelsConfig, EngineConfig] = self.__dict__.setdefault("_resolved_configs", {})
        if models not in held:
            held[models] = replace(self, models=models)
        return held[models]

    def _held(self, kind: str, name: str, load: Callable[[str], Any]) -> Any:
        """The model ``load(name)`` gives, kept in this (frozen) configuration's own ``__dict__`` beside the fields
        (so equality, hashing, ``replace`` and ``fingerprint`` ignore it); a model named by a file path is loaded
        again when the file changes (its modification time or size), as ``fingerprint`` follows its contents."""
        held: dict[str, tuple[object, Any]] = self.__dict__.setdefault("_loaded_models", {})
        version = _model_file_version(kind, name)
        found = held.get(kind)
        if found is None or found[0] != version:
            found = held[kind] = (version, load(name))
        return found[1]

    def fingerprint(self) -> str:
        """A short stable id of this configuration: sha256 of its canonical JSON and of the contents of any stage
        model or health profile it names by file path (editing such a file gives a new id, so no cache serves
        results computed with the old rules). Kept in the (frozen) configuration's ``__dict__`` per version (modification
        time, size) of those files: every memo key names it, so it is computed once, not per look-up."""
        versions = (_model_file_version("stages", self.models.stages), _model_file_version("health", self.models.health))
        held: dict[tuple[object, ...], str] = self.__dict__.setdefault("_fingerprints", {})
        if versions not in held:
            held[versions] = self._fingerprint()
        return held[versions]

    def _fingerprint(self) -> str:
        files = {value: None if _shipped(kind, value) else _file_digest(value)
                 for kind, value in (("stages", self.models.stages), ("health", self.models.health))}
        settings = asdict(self)
        settings.pop("import_limits")  # how imports read files changes no computed number
        settings.pop("serve")  # nor how the server schedules calls
        settings.pop("source")  # nor which engine reads the data (every engine gives the same answers)
        payload = json.dumps({"config": settings, "files": files}, sort_keys=True, default=list)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _model_file_version(kind: str, value: str) -> tuple[int, int] | None:
    """``_file_version`` of a stage model (``kind`` "stages") or health profile ("health") setting: None without
    asking the file system for a shipped name or ``auto``, which the loaders read as shipped whatever files exist
    (``load_model``, ``load_health_profile``). Every memo key names the fingerprint, which reads these: two failed
    ``stat`` calls per key were ~2.5 % of a fact bundle."""
    return None if _shipped(kind, value) else _file_version(value)


def _shipped(kind: str, value: str) -> bool:
    """Whether the ``kind`` loader reads ``value`` as a shipped model (``auto`` included), never as a file."""
    return value == AUTO or value in _shipped_names(kind)


@functools.cache
def _shipped_names(kind: str) -> frozenset[str]:
    return frozenset(preset_names() if kind == "stages" else bundled_profiles())


def _file_version(value: str) -> tuple[int, int] | None:
    """(modification time, size) of the file at ``value`` when it names one, else None (a preset name)."""
    try:
        found = os.stat(Path(value).expanduser())
    except (OSError, ValueError):
        return None
    return (found.st_mtime_ns, found.st_size)


def _file_digest(value: str) -> str | None:
    """sha256 of the file at ``value`` when it names one (a model given by path), else None (a preset name)."""
    path = Path(value).expanduser()
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
    except OSError:
        return None


SETTINGS: tuple[Setting, ...] = (
    Setting("activation.value_event", "report_created", "Event that marks first value (the 'aha' moment); time to value is measured to it."),
    Setting("activation.within_days", 7, "A customer is activated when the value event happens within this many days of signup (seed: 70% within 7 days)."),
    Setting("activation.onboarding_event", "onboarding_step_completed", "Event emitted per completed onboarding step."),
    Setting("activation.onboarding_steps", 4, "Steps that make onboarding complete."),
    Setting("activation.onboarding_within_days", 30, "Days after signup in which onboarding must complete to count."),
    Setting("activation.early_window_days", 14, "Onboarding window for early feature adoption (seed: days 1–14)."),
    Setting("activation.core_features", ["report_created", "dashboard_viewed", "integration_connected", "teammate_invited", "export_csv", "api_call"],
            "Events that count as using a core feature (feature adoption, early adoption)."),
    Setting("activation.active_events", [], "Events that count as activity for DAU/MAU and recency; empty means all events."),
    Setting("revenue.gross_margin", 0.8, "Gross margin used by LTV = ARPA × margin ÷ churn rate and CAC payback."),
    Setting("revenue.currency", "USD", "Currency label of money values."),
    Setting("models.stages", "auto", "Stage model: auto (chosen from the data: subscriptions → default, else orders → "
            "ecommerce, else events → activity), default (the six-stage framework), saas, aarrr, ecommerce, activity "
            "(growth accounting on activity alone), or a TOML path."),
    Setting("models.health", "auto", "Health-score profile: auto (subscriptions → default, else orders → ecommerce, else "
            "events → activity), default, ecommerce, activity, or a TOML path with weights and signals."),
    Setting("activity.churn_after_days", 90, "Event-only data (no subscriptions, no orders): a customer with no activity "
            "event for this many days is churned (the snapshot's churned flag; growth accounting's lost users)."),
    Setting("conversion.from_event", "", "Event conversion metric: the first event (A) of 'A then B within N days', "
            "e.g. add_to_cart. Empty: the metric is None and says what to set."),
    Setting("conversion.to_event", "", "Event conversion metric: the event (B) that completes the conversion, e.g. purchase."),
    Setting("conversion.within_days", 7, "Event conversion metric: B must follow the customer's first A in the period "
            "within this many days."),
    Setting("targets.<metric_id>", None, "Override a metric's target band: low/high in the metric's unit (ratios as fractions)."),
    Setting("small_sample", 30, "Results resting on fewer units than this are flagged as small samples (e.g. NRR from fewer accounts)."),
    Setting("small_events", 10, "Rates whose numerator counts fewer events than this are flagged as small samples (e.g. logo churn, and LTV through it, from fewer churn events)."),
    Setting("import.max_bytes", ReadLimits.max_bytes, "`lifecycle import`: largest file read, in bytes (1 GiB; `--max-bytes`)."),
    Setting("import.max_decompressed_bytes", ReadLimits.max_decompressed_bytes,
            "`lifecycle import`: largest decompressed size of a `.gz` file or of Parquet data, in bytes (1 GiB; `--max-decompressed`)."),
    Setting("import.max_columns", ReadLimits.max_columns, "`lifecycle import`: most columns in one file (`--max-columns`)."),
    Setting("import.max_depth", ReadLimits.max_depth, "`lifecycle import`: deepest nesting of JSON objects/arrays or Parquet columns (`--max-depth`)."),
    Setting("import.max_field_chars", ReadLimits.max_field_chars, "`lifecycle import`: longest value in one field, in characters (1 MiB; `--max-field`)."),
    Setting("serve.time_limit_s", DEFAULT_CALL_TIME_LIMIT_S, "`lifecycle serve`: seconds one MCP call (tool, prompt, "
            "customer resource) may compute, not counting time waiting for a free slot; past it the call answers with "
            "an error naming the limit (`--time-limit`; 0: no limit)."),
    Setting("serve.max_concurrent_calls", 0, "`lifecycle serve`: MCP calls computing at once; the others wait their "
            f"turn, never fail (`--max-concurrent-calls`; 0: the number of CPUs, at most {MAX_AUTO_CONCURRENT_CALLS})."),
    Setting("serve.idle_release_s", DEFAULT_IDLE_RELEASE_S, "`lifecycle serve`: after this many seconds with no call, "
            "memoised results shrink to `serve.idle_memo_mb` (largest first) and freed memory goes back to the system "
            "(`--idle-release`; 0: never)."),
    Setting("serve.idle_memo_mb", DEFAULT_IDLE_MEMO_MB, "`lifecycle serve`: MiB of memoised results kept while idle, "
            "the smallest first (`--idle-memo-mb`; 0: none — the Parquet caches on disk keep the next call fast)."),
    Setting("source.engine", "sqlite", "Engine that reads the data: sqlite, duckdb or spark (docs/scale.md) — used by "
            "`metrics`, `customers`, `clv`, `revenue`, `plan` and `serve` when neither `--engine` nor `$LIFECYCLE_ENGINE` "
            "names one. Changes no number."),
    Setting("source.query_time_limit_s", None, "Seconds one query may run before it is interrupted with an error naming "
            "the limit (0: no limit). Unset: the engine's default — sqlite 30, duckdb 600, spark 1800 (sized for the "
            "data each engine is chosen for; docs/scale.md)."),
)


def _build(cls: type, data: dict[str, Any], where: str) -> Any:
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(known)}")
    values = {}
    for key, value in data.items():
        default = getattr(cls(), key)
        if isinstance(default, tuple):
            if not isinstance(value, list):
                raise ConfigError(f"{where}.{key}: expected a list, got {value!r}")
            value = tuple(value)
        elif isinstance(default, bool) or default is None:
            pass
        elif isinstance(default, (int, float)) and not isinstance(value, (int, float)):
            raise ConfigError(f"{where}.{key}: expected a number, got {value!r}")
        elif isinstance(default, str) and not isinstance(value, str):
            raise ConfigError(f"{where}.{key}: expected text, got {value!r}")
        values[key] = value
    return cls(**values)


def config_from_dict(data: dict[str, Any], where: str = "config") -> EngineConfig:
    """Build an ``EngineConfig`` from parsed TOML, validating names and types."""
    sections = {"activation": ActivationConfig, "revenue": RevenueConfig, "models": ModelsConfig,
                "activity": ActivityConfig, "conversion": ConversionConfig}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key == "import":
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: [import] must be a table")
            kwargs["import_limits"] = _build(ReadLimits, value, f"{where}.import")
        elif key == "serve":
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: [serve] must be a table")
            kwargs["serve"] = _build(ServeLimits, value, f"{where}.serve")
        elif key == "source":
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: [source] must be a table")
            kwargs["source"] = _build(SourceSettings, value, f"{where}.source")
        elif key in sections:
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: [{key}] must be a table")
            kwargs[key] = _build(sections[key], value, f"{where}.{key}")
        elif key == "targets":
            overrides = []
            for metric_id, band in sorted(value.items()):
                overrides.append((metric_id, _build(TargetOverride, band, f"{where}.targets.{metric_id}")))
            kwargs["targets"] = tuple(overrides)
        elif key in ("small_sample", "small_events"):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"{where}.{key}: expected a whole number >= 0, got {value!r}")
            kwargs[key] = value
        else:
            raise ConfigError(f"{where}: unknown section [{key}]; known: {', '.join(sections)}, targets, small_sample, small_events, import, serve, source")
    config = EngineConfig(**kwargs)
    if config.activity.churn_after_days < 1 or config.conversion.within_days < 0:
        raise ConfigError(f"{where}: activity.churn_after_days must be ≥ 1 and conversion.within_days ≥ 0")
    if not 0 < config.revenue.gross_margin <= 1:
        raise ConfigError(f"{where}.revenue.gross_margin must be in (0, 1], got {config.revenue.gross_margin}")
    return config


def load_config(path: str | Path | None) -> EngineConfig:
    """The configuration in the TOML file at ``path``, or the defaults when ``path`` is None."""
    if path is None:
        return EngineConfig()
    source = Path(path)
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {source}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: invalid TOML: {exc}") from None
    config = config_from_dict(data, where=source.name)
    return replace(config, models=ModelsConfig(stages=_beside(config.models.stages, source),
                                               health=_beside(config.models.health, source)))


def choose_models(has_rows: Callable[[str], bool]) -> tuple[str, str]:
    """The (stage model, health profile) that ``auto`` means for a dataset, from which tables hold rows.

    Subscriptions → ``default``/``default`` (the contractual SaaS lifecycle); else orders → ``ecommerce``/``ecommerce``
    (a purchase lifecycle read from orders); else events → ``activity``/``activity`` (growth accounting on activity
    alone: product-analytics data without revenue); else ``default``/``default``.
    """
    for table, name in (("subscriptions", "default"), ("orders", "ecommerce"), ("events", "activity")):
        if has_rows(table):
            return name, name
    return "default", "default"


def resolve_models(config: EngineConfig, has_rows: Callable[[str], bool]) -> EngineConfig:
    """``config`` with ``auto`` stage model / health profile replaced by :func:`choose_models`' choice (others kept):
    ``config.resolved(has_rows)``."""
    return config.resolved(has_rows)


def _beside(value: str, config_file: Path) -> str:
    """A model named by a relative file path, resolved against the config file's folder (not the working directory,
    which is arbitrary under an MCP client); preset names and absolute paths are kept."""
    looks_like_path = value.endswith(".toml") or "/" in value or "\\" in value
    path = Path(value).expanduser()
    if not looks_like_path or path.is_absolute():
        return value
    return str((config_file.parent / path).resolve())


DEFAULT_CONFIG = EngineConfig()

__all__ = ["AUTO", "ActivationConfig", "ActivityConfig", "ConversionConfig", "DEFAULT_CONFIG", "choose_models", "resolve_models", "EngineConfig", "ModelsConfig", "RevenueConfig", "SETTINGS", "ServeLimits",
           "ENGINE_NAMES", "SourceSettings",
           "Setting", "TargetOverride", "config_from_dict", "load_config", "replace"]
