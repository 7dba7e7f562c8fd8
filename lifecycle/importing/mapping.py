"""Column mappings: which column of a user's export feeds which canonical column (TOML files and built-in presets).

A mapping file (``--map mapping.toml``) looks like::

    [columns]                       # canonical column = the export's column
    customer_id = "Account ID"
    signup_date = ["Became a Customer Date", "Create Date"]   # the first of these the file has
    name = { function = "join", columns = ["First Name", "Last Name"], sep = " " }

    [values.status]                 # value maps, applied before typing (exact, then case-insensitive match)
    "Closed Won" = "won"

    [options]
    dayfirst = true                 # or false (= month first); CLI --dayfirst/--monthfirst win
    date_format = "%d.%m.%Y"        # strptime format for every date/datetime column ...
    date_formats = { signup_date = "%d.%m.%Y" }   # ... or per canonical column
    decimal = ","                   # decimal separator of money/number columns; CLI --decimal wins
    delimiter = ";"                 # CSV delimiter (default: sniffed from the header line)
    encoding = "cp1252"             # CLI --encoding wins
    timezone = "Europe/Berlin"      # zone of timestamps written without one (default UTC)
    null_values = ["N/A", "-"]      # texts that mean "missing" (besides the empty string)
    ignore = ["properties.$*"]      # export columns to leave out (shell-style patterns), not kept as x_ columns

Columns a mapping does not name are matched by name: an export column whose snake_case form equals a canonical
name (``Customer ID`` → ``customer_id``) feeds it. Every other export column is kept as an extra ``x_`` column.

Presets are the same format plus a ``[preset]`` table (``table``, ``description``); they live in
``lifecycle/importing/presets/*.toml``. In a preset a column given as a plain string is optional (exports vary by
account); in a user's mapping it must exist. ``--map`` on top of ``--preset`` overrides the preset entry by entry.
Derived values (``function = ...``) are listed in ``lifecycle.importing.derive``.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from dataclasses import dataclass, field, replace
from importlib import resources
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lifecycle.errors import MappingError
from lifecycle.schema import TableSpec

_OPTION_KEYS = {"dayfirst", "date_format", "date_formats", "decimal", "delimiter", "encoding", "timezone", "null_values", "ignore"}
_TOP_KEYS = {"columns", "values", "options", "preset"}


@dataclass(frozen=True)
class Derivation:
    """A canonical value computed from one or more export columns by a named function (see ``derive``)."""

    function: str
    args: dict[str, Any]

    def sources(self) -> list[str]:
        """Every export column the derivation reads."""
        found: list[str] = []
        for key, value in self.args.items():
            if key in ("sep", "value", "in", "unit"):
                continue
            found += value if isinstance(value, list) else [value]
        return [str(v) for v in found]


Source = str | list[str] | Derivation


@dataclass(frozen=True)
class MappingOptions:
    """Reading and parsing options a mapping may set (see the module docstring)."""

    dayfirst: bool | None = None
    date_format: str | None = None
    date_formats: dict[str, str] = field(default_factory=dict)
    decimal: str | None = None
    delimiter: str | None = None
    encoding: str | None = None
    timezone: str | None = None
    null_values: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()

    def date_format_for(self, column: str) -> str | None:
        """The strptime format for canonical ``column``: the per-column one, else the global one."""
        return self.date_formats.get(column, self.date_format)


@dataclass(frozen=True)
class Mapping:
    """A parsed mapping: canonical column → source, value maps, options; ``optional_sources`` for presets."""

    name: str
    columns: dict[str, Source] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    options: MappingOptions = field(default_factory=MappingOptions)
    table: str | None = None
    description: str = ""
    optional_sources: bool = False


@dataclass(frozen=True)
class Resolved:
    """A mapping applied to one file: canonical column → export column (or derivation), and the extra columns."""

    columns: dict[str, str | Derivation]
    extras: list[str]
    auto_matched: list[str]


def snake_case(name: str) -> str:
    """``Customer ID`` → ``customer_id``; ``createdAt`` → ``created_at``; ``Amount ($)`` → ``amount``."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name.strip())
    text = re.sub(r"[^0-9A-Za-z]+", "_", text).strip("_").lower()
    return text or "column"


def load_mapping(path: Path) -> Mapping:
    """Read and validate a mapping TOML file; ``MappingError`` names the file and the problem."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MappingError(f"mapping file {path} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError(f"mapping file {path} cannot be read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"mapping file {path} is not valid TOML: {exc}") from None
    return mapping_from_dict(data, path.name)


def preset_names() -> dict[str, str]:
    """Built-in presets: name → one-line description."""
    found = {}
    for entry in sorted(resources.files("lifecycle.importing").joinpath("presets").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            preset = _preset_from_text(entry.name[:-5], entry.read_text(encoding="utf-8"))
            found[preset.name] = f"{preset.description} (table {preset.table})"
    return found


def load_preset(name: str) -> Mapping:
    """The built-in preset ``name``; ``MappingError`` lists the available ones when it does not exist."""
    entry = resources.files("lifecycle.importing").joinpath("presets", f"{name}.toml")
    if not entry.is_file():
        raise MappingError(f"unknown preset {name!r}; available presets: {', '.join(preset_names())}")
    return _preset_from_text(name, entry.read_text(encoding="utf-8"))


def _preset_from_text(name: str, text: str) -> Mapping:
    mapping = mapping_from_dict(tomllib.loads(text), f"preset {name}")
    return replace(mapping, name=name, optional_sources=True)


def mapping_from_dict(data: dict[str, Any], name: str) -> Mapping:
    """Validate the structure of a parsed TOML mapping (column names are checked against a table later)."""
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise MappingError(f"{name}: unknown section(s) {', '.join(sorted(unknown))}; expected [columns], [values.<column>], [options]")
    columns = {str(k): _source(name, str(k), v) for k, v in data.get("columns", {}).items()}
    values = {}
    for column, table in data.get("values", {}).items():
        if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
            raise MappingError(f"{name}: [values.{column}] must map export values to canonical values, as strings")
        values[str(column)] = {str(k): v for k, v in table.items()}
    preset = data.get("preset", {})
    return Mapping(name, columns, values, _options(name, data.get("options", {})), preset.get("table"), preset.get("description", ""))


def _source(name: str, column: str, value: Any) -> Source:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return list(value)
    if isinstance(value, dict) and isinstance(value.get("function"), str):
        args = {k: v for k, v in value.items() if k != "function"}
        return Derivation(value["function"], args)
    raise MappingError(
        f"{name}: [columns] {column} must be an export column name, a list of alternatives, "
        "or a table with function = \"...\" (see docs/importing.md)"
    )


def _options(name: str, raw: dict[str, Any]) -> MappingOptions:
    unknown = set(raw) - _OPTION_KEYS
    if unknown:
        raise MappingError(f"{name}: unknown option(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(_OPTION_KEYS))}")
    decimal = raw.get("decimal")
    if decimal not in (None, ".", ","):
        raise MappingError(f"{name}: option decimal must be \".\" or \",\", not {decimal!r}")
    dayfirst = raw.get("dayfirst")
    if dayfirst is not None and not isinstance(dayfirst, bool):
        raise MappingError(f"{name}: option dayfirst must be true or false")
    _check_timezone(name, raw.get("timezone"))
    for fmt in [raw.get("date_format"), *dict(raw.get("date_formats", {})).values()]:
        _check_date_format(name, fmt)
    return MappingOptions(
        dayfirst=dayfirst,
        date_format=raw.get("date_format"),
        date_formats=dict(raw.get("date_formats", {})),
        decimal=decimal,
        delimiter=raw.get("delimiter"),
        encoding=raw.get("encoding"),
        timezone=raw.get("timezone"),
        null_values=tuple(raw.get("null_values", ())),
        ignore=tuple(raw.get("ignore", ())),
    )


def _check_timezone(name: str, zone: object) -> None:
    if zone is None:
        return
    try:
        ZoneInfo(str(zone))
    except (ZoneInfoNotFoundError, ValueError):
        raise MappingError(f"{name}: unknown timezone {zone!r}; use an IANA name such as Europe/Berlin or America/New_York") from None


def _check_date_format(name: str, fmt: object) -> None:
    if fmt is None:
        return
    if not isinstance(fmt, str) or "%" not in fmt:
        raise MappingError(f"{name}: date_format must be a strptime format such as \"%d.%m.%Y\", not {fmt!r}")
    try:
        datetime.strptime(datetime(2024, 1, 31, 10, 0).strftime(fmt), fmt)
    except ValueError as exc:
        raise MappingError(f"{name}: date_format {fmt!r} is not a valid strptime format ({exc})") from None


def merge(base: Mapping, override: Mapping) -> Mapping:
    """``override`` on top of ``base`` (a user's --map over a preset): entry by entry, options by option."""
    values = {k: {**base.values.get(k, {}), **v} for k, v in override.values.items()}
    options = {f: getattr(override.options, f) for f in MappingOptions.__dataclass_fields__ if getattr(override.options, f) not in (None, (), {})}
    return replace(
        base,
        name=f"{base.name} + {override.name}",
        columns={**base.columns, **override.columns},
        values={**base.values, **values},
        options=replace(base.options, **options),
    )


def resolve(mapping: Mapping, spec: TableSpec, headers: list[str]) -> Resolved:
    """Apply ``mapping`` to a file's ``headers`` for table ``spec``.

    Raises ``MappingError`` for a canonical name the table does not have, a mapped export column the file lacks
    (user mappings), two extra columns with the same ``x_`` name, or missing required columns — naming the missing
    columns, the columns found and the way out (--map / --preset).
    """
    canonical = [c.name for c in spec.columns]
    unknown = [c for c in list(mapping.columns) + list(mapping.values) if c not in canonical]
    if unknown:
        raise MappingError(f"{mapping.name}: {', '.join(sorted(set(unknown)))} not column(s) of table {spec.name!r}; its columns: {', '.join(canonical)}")
    present = set(headers)
    ignored = {h for h in headers if any(fnmatch.fnmatchcase(h, p) for p in mapping.options.ignore)}
    columns: dict[str, str | Derivation] = {}
    for column, source in mapping.columns.items():
        chosen = _choose(mapping, column, source, present, headers)
        if chosen is not None:
            columns[column] = chosen
    used = {s for src in columns.values() for s in ([src] if isinstance(src, str) else src.sources())}
    auto = []
    by_snake = {snake_case(h): h for h in reversed(headers) if h not in used and h not in ignored}
    for column in canonical:
        if column not in columns and column in by_snake and by_snake[column] not in used:
            columns[column] = by_snake[column]
            used.add(by_snake[column])
            auto.append(column)
    _require(mapping, spec, columns, headers)
    extras = [h for h in headers if h not in used and h not in ignored]
    _check_extra_names(extras)
    return Resolved(columns, extras, auto)


def _choose(mapping: Mapping, column: str, source: Source, present: set[str], headers: list[str]) -> str | Derivation | None:
    if isinstance(source, Derivation):
        source = _drop_missing_optional_args(source, present)
        missing = [s for s in source.sources() if s not in present]
        if missing and source.function != "coalesce":
            if mapping.optional_sources:
                return None
            raise MappingError(f"{mapping.name}: {column} is computed from column(s) {', '.join(missing)} which the file does not have; found: {', '.join(headers)}")
        if source.function == "coalesce":
            kept = [s for s in source.args.get("columns", []) if s in present]
            return Derivation("coalesce", {"columns": kept}) if kept else None
        return source
    if isinstance(source, str) and not mapping.optional_sources:
        if source not in present:
            raise MappingError(f"{mapping.name}: {column} = {source!r}, but the file has no column {source!r}; found: {', '.join(headers)}")
        return source
    candidates = [source] if isinstance(source, str) else source
    return next((c for c in candidates if c in present), None)


OPTIONAL_ARGS = {"quantity", "interval_count"}  # derivation arguments that may be absent from a file


def _drop_missing_optional_args(source: Derivation, present: set[str]) -> Derivation:
    args = {k: v for k, v in source.args.items() if not (k in OPTIONAL_ARGS and v not in present)}
    return Derivation(source.function, args)


def _require(mapping: Mapping, spec: TableSpec, columns: dict[str, str | Derivation], headers: list[str]) -> None:
    required = [c.name for c in spec.columns if c.required and not (spec.derived_key and c.name == spec.primary_key)]
    missing = [c for c in required if c not in columns]
    if missing:
        raise MappingError(
            f"the file lacks required column(s) for table {spec.name!r}: {', '.join(missing)}; "
            f"columns found: {', '.join(headers)}. Map them with --map mapping.toml ([columns] {missing[0]} = \"Your Column\") "
            "or use --preset NAME for a known export (see docs/importing.md)"
        )


def _check_extra_names(extras: list[str]) -> None:
    seen: dict[str, str] = {}
    for header in extras:
        name = extra_column_name(header)
        if name in seen:
            raise MappingError(f"export columns {seen[name]!r} and {header!r} would both be stored as {name!r}: rename one, or ignore one in a mapping ([options] ignore = [...])")
        seen[name] = header


def extra_column_name(header: str) -> str:
    """The stored name of a non-canonical column: ``x_`` + its snake_case form (an ``x_`` prefix is not doubled)."""
    name = snake_case(header)
    return name if name.startswith("x_") else "x_" + name
