"""Column mappings: which column of a user's export feeds which canonical column (TOML files and built-in presets).

A mapping file (``--map mapping.toml``) looks like::

    [columns]                       # canonical column = the export's column
    customer_id = "Account ID"
    signup_date = ["Became a Customer Date", "Create Date"]   # the first of these the file has
    name = { function = "join", columns = ["First Name", "Last Name"], sep = " " }

    [values.status]                 # value maps, applied before typing (exact, then case-insensitive match)
    "Closed Won" = "won"

    [where]                         # keep only the rows whose export column matches (all conditions must hold)
    event = "payment_done"          # equal to this text (trimmed, case-insensitive) ...
    "Financial Status" = ["paid", "partially_refunded"]   # ... or one of these
    InvoiceNo = { not_matches = "C.*" }                    # also: in, not_in, matches (a regex for the whole value)

    [line_items]                    # one row per line item: rows sharing the key are merged into one record
    sum = ["amount"]                # canonical columns added up; every other column takes its first non-empty value

    [options]
    dayfirst = true                 # or false (= month first); CLI --dayfirst/--monthfirst win
    date_format = "%d.%m.%Y"        # strptime format for every date/datetime column ...
    date_formats = { signup_date = "%d.%m.%Y" }   # ... or per canonical column
    decimal = ","                   # decimal separator of money/number columns; CLI --decimal wins
    delimiter = ";"                 # , ; | tab whitespace (default: sniffed from the first lines); CLI --delimiter wins
    column_names = ["id", "date"]   # the file has no header line: its columns, in file order
    encoding = "cp1252"             # CLI --encoding wins
    timezone = "Europe/Berlin"      # zone of timestamps written without one (default UTC)
    null_values = ["N/A", "-"]      # texts that mean "missing" (besides the empty string)
    ignore = ["properties.$*"]      # export columns to leave out (shell-style patterns), not kept as x_ columns
    currency = "EUR"                # ISO 4217 code of the money columns (CLI --currency wins) ...
    currency_column = "Currency"    # ... or the export column holding each row's code
    rates = "rates.toml"            # exchange rates to convert other currencies (relative to this file; CLI --rates)

Columns a mapping does not name are matched by name: an export column whose snake_case form equals a canonical
name (``Customer ID`` → ``customer_id``) feeds it — also when a derived value reads the same column (``name =
join(customer_id, …)`` leaves ``customer_id`` fed by the column of that name). Every other export column is kept as
an extra ``x_`` column, except those only read by derived values, the ``currency_column`` aside.

Presets are the same format plus a ``[preset]`` table (``table``, ``description``); they live in
``lifecycle/importing/presets/*.toml``. In a preset a column given as a plain string is optional (exports vary by
account); in a user's mapping it must exist. ``--map`` on top of ``--preset`` overrides the preset entry by entry.
Derived values (``function = ...``) are listed in ``lifecycle.importing.derive``.
"""

from __future__ import annotations

import fnmatch
import json
import re
import tomllib
from dataclasses import dataclass, field, replace
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lifecycle.errors import MappingError
from lifecycle.importing.readers import delimiter_from_name
from lifecycle.schema import TableSpec

_OPTION_KEYS = {"dayfirst", "date_format", "date_formats", "decimal", "delimiter", "encoding", "timezone", "null_values",
                "ignore", "column_names", "currency", "currency_column", "rates"}
_TOP_KEYS = {"columns", "values", "options", "preset", "where", "line_items"}
_CONDITION_KEYS = {"in", "not_in", "matches", "not_matches"}

COLUMN_ARGS: dict[str, tuple[str, ...]] = {
    "coalesce": ("columns",),
    "join": ("columns",),
    "when": ("value", "column"),
    "constant": (),
    "monthly_amount": ("amount", "quantity", "interval", "interval_count"),
    "term_months": ("interval", "interval_count"),
    "multiply": ("columns",),
    "shift_date": ("date", "days", "weeks", "months", "years"),
}
"""Per derivation function, the arguments that name export columns (text values; a number is a literal)."""


@dataclass(frozen=True)
class Derivation:
    """A canonical value computed from one or more export columns by a named function (see ``derive``)."""

    function: str
    args: dict[str, Any]

    def sources(self) -> list[str]:
        """Every export column the derivation reads (the arguments of ``COLUMN_ARGS`` given as text)."""
        found: list[str] = []
        for key in COLUMN_ARGS.get(self.function, ()):
            value = self.args.get(key)
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str):
                    found.append(item)
        return found


@dataclass(frozen=True)
class Condition:
    """A ``[where]`` condition on one export column: the trimmed value is (not) one of ``values``
    (case-insensitive), or (does not) fully match the regular expression ``pattern``."""

    column: str
    values: tuple[str, ...] = ()
    pattern: str | None = None
    negate: bool = False


@dataclass(frozen=True)
class LineItems:
    """``[line_items]``: rows sharing the key are one record; ``sum`` names the canonical columns added up."""

    sum: tuple[str, ...] = ()


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
    column_names: tuple[str, ...] = ()
    currency: str | None = None
    currency_column: str | None = None
    rates: Path | None = None

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
    where: tuple[Condition, ...] = ()
    line_items: LineItems | None = None


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
    return mapping_from_dict(data, path.name, base=path.parent)


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


def mapping_from_dict(data: dict[str, Any], name: str, base: Path | None = None) -> Mapping:
    """Validate the structure of a parsed TOML mapping (column names are checked against a table later); a
    ``rates`` file named relative to the mapping resolves from ``base`` (the mapping file's folder)."""
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise MappingError(f"{name}: unknown section(s) {', '.join(sorted(unknown))}; expected [columns], [values.<column>], "
                           "[where], [line_items], [options]")
    columns = {str(k): _source(name, str(k), v) for k, v in _section(name, data, "columns").items()}
    values = {}
    for column, table in _section(name, data, "values").items():
        if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
            raise MappingError(f"{name}: [values.{column}] must map export values to canonical values, as strings")
        values[str(column)] = {str(k): v for k, v in table.items()}
    preset = _section(name, data, "preset")
    if not all(isinstance(preset.get(k, ""), str) for k in ("table", "description")):
        raise MappingError(f"{name}: [preset] table and description must be text")
    return Mapping(name, columns, values, _options(name, _section(name, data, "options"), base), preset.get("table"),
                   preset.get("description", ""), where=_where(name, data.get("where", {})),
                   line_items=_line_items(name, data.get("line_items")))


def _section(name: str, data: dict[str, Any], key: str) -> dict[str, Any]:
    """``data[key]`` when it is a TOML table (``{}`` when absent); ``MappingError`` for anything else."""
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise MappingError(f"{name}: [{key}] must be a table of settings, not {type(value).__name__} {value!r}")
    return value


def _strings(name: str, option: str, value: Any) -> tuple[str, ...]:
    """A list-of-text option (``null_values``, ``ignore``) as a tuple; ``MappingError`` for anything else."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MappingError(f"{name}: option {option} must be a list of texts, such as [\"N/A\", \"-\"]")
    return tuple(value)


def _source(name: str, column: str, value: Any) -> Source:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return list(value)
    if isinstance(value, dict) and isinstance(value.get("function"), str):
        function = value["function"]
        if function not in COLUMN_ARGS:
            raise MappingError(f"{name}: [columns] {column} uses unknown function {function!r}; known: {', '.join(COLUMN_ARGS)}")
        args = {k: v for k, v in value.items() if k != "function"}
        return Derivation(function, args)
    raise MappingError(
        f"{name}: [columns] {column} must be an export column name, a list of alternatives, "
        "or a table with function = \"...\" (see docs/importing.md)"
    )


def _where(name: str, raw: Any) -> tuple[Condition, ...]:
    if not isinstance(raw, dict):
        raise MappingError(f"{name}: [where] must be a table of export column = value(s)")
    conditions = []
    for column, rule in raw.items():
        column = str(column)
        if isinstance(rule, str):
            conditions.append(Condition(column, (rule,)))
        elif isinstance(rule, list) and rule and all(isinstance(v, str) for v in rule):
            conditions.append(Condition(column, tuple(rule)))
        elif isinstance(rule, dict) and len(rule) == 1 and set(rule) <= _CONDITION_KEYS:
            (key, value), = rule.items()
            if key in ("in", "not_in"):
                if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                    raise MappingError(f"{name}: [where] {column} {key} must be a list of texts")
                conditions.append(Condition(column, tuple(value), negate=key == "not_in"))
            else:
                if not isinstance(value, str):
                    raise MappingError(f"{name}: [where] {column} {key} must be a regular expression (text)")
                try:
                    re.compile(value)
                except re.error as exc:
                    raise MappingError(f"{name}: [where] {column} {key} {value!r} is not a valid regular expression ({exc})") from None
                conditions.append(Condition(column, pattern=value, negate=key == "not_matches"))
        else:
            raise MappingError(f"{name}: [where] {column} must be a text, a list of texts, or one of "
                               "{ in = [...] }, { not_in = [...] }, { matches = \"regex\" }, { not_matches = \"regex\" }")
    return tuple(conditions)


def _line_items(name: str, raw: Any) -> LineItems | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) - {"sum"}:
        raise MappingError(f"{name}: [line_items] takes one key, sum = [canonical columns to add up]")
    total = raw.get("sum", [])
    if not (isinstance(total, list) and all(isinstance(v, str) for v in total)):
        raise MappingError(f"{name}: [line_items] sum must be a list of canonical column names")
    return LineItems(tuple(total))


def _options(name: str, raw: dict[str, Any], base: Path | None = None) -> MappingOptions:
    unknown = set(raw) - _OPTION_KEYS
    if unknown:
        raise MappingError(f"{name}: unknown option(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(_OPTION_KEYS))}")
    decimal = raw.get("decimal")
    if decimal not in (None, ".", ","):
        raise MappingError(f"{name}: option decimal must be \".\" or \",\", not {decimal!r}")
    dayfirst = raw.get("dayfirst")
    if dayfirst is not None and not isinstance(dayfirst, bool):
        raise MappingError(f"{name}: option dayfirst must be true or false")
    for option in ("delimiter", "encoding", "timezone"):
        if raw.get(option) is not None and not isinstance(raw[option], str):
            raise MappingError(f"{name}: option {option} must be text, not {raw[option]!r}")
    date_formats = raw.get("date_formats", {})
    if not isinstance(date_formats, dict):
        raise MappingError(f"{name}: option date_formats must be a table of column = \"format\"")
    _check_timezone(name, raw.get("timezone"))
    for fmt in [raw.get("date_format"), *date_formats.values()]:
        _check_date_format(name, fmt)
    delimiter = raw.get("delimiter")
    if delimiter is not None:
        try:
            delimiter = delimiter_from_name(str(delimiter))
        except ValueError as exc:
            raise MappingError(f"{name}: option {exc}") from None
    names = raw.get("column_names", ())
    if not (isinstance(names, list | tuple) and all(isinstance(n, str) and n.strip() for n in names)):
        raise MappingError(f"{name}: option column_names must be a list of column names, in file order")
    if len(set(names)) != len(names):
        raise MappingError(f"{name}: option column_names names a column twice")
    currency = raw.get("currency")
    if currency is not None:
        currency = currency_code(currency, name)
    rates = raw.get("rates")
    if rates is not None:
        rates = Path(str(rates)).expanduser()
        if not rates.is_absolute() and base is not None:
            rates = base / rates
    return MappingOptions(
        dayfirst=dayfirst,
        date_format=raw.get("date_format"),
        date_formats=dict(raw.get("date_formats", {})),
        decimal=decimal,
        delimiter=raw.get("delimiter"),
        encoding=raw.get("encoding"),
        timezone=raw.get("timezone"),
        null_values=_strings(name, "null_values", raw.get("null_values", [])),
        ignore=_strings(name, "ignore", raw.get("ignore", [])),
        column_names=tuple(names),
        currency=currency,
        currency_column=raw.get("currency_column"),
        rates=rates,
    )


def currency_code(value: object, where: str = "currency") -> str:
    """An ISO 4217 alphabetic code (three letters, any case → upper case); ``MappingError`` otherwise."""
    text = str(value).strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", text):
        raise MappingError(f"{where}: {value!r} is not an ISO 4217 currency code (three letters such as USD, EUR, GBP)")
    return text


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
        where=override.where or base.where,
        line_items=override.line_items or base.line_items,
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
    direct = {src for src in columns.values() if isinstance(src, str)}
    derived = {s for src in columns.values() if isinstance(src, Derivation) for s in src.sources()}
    auto = []
    by_snake = {snake_case(h): h for h in reversed(headers) if h not in direct and h not in ignored}
    for column in canonical:
        if column not in columns and column in by_snake and by_snake[column] not in direct:
            _check_unambiguous(column, spec, [h for h in headers if h not in direct and h not in ignored])
            columns[column] = by_snake[column]
            direct.add(by_snake[column])
            auto.append(column)
    _check_options_columns(mapping, present, headers)
    _require(mapping, spec, columns, headers)
    used = (direct | derived) - {mapping.options.currency_column}
    extras = [h for h in headers if h not in used and h not in ignored]
    _check_extra_names(extras)
    return Resolved(columns, extras, auto)


def check_where_columns(mapping: Mapping, headers: list[str]) -> None:
    """Every ``[where]`` column must exist in the file; ``MappingError`` names the first one missing."""
    for condition in mapping.where:
        if condition.column not in headers:
            raise MappingError(f"{mapping.name}: [where] reads column {condition.column!r}, which the file does not have; "
                               f"found: {_shown_headers(headers)}")


def currency_column(mapping: Mapping, headers: list[str]) -> str | None:
    """The export column holding each row's currency code: the mapping's ``currency_column`` when the file has it,
    else a column named ``currency`` (any case or spacing, as canonical columns match by name), else None."""
    if mapping.options.currency_column is not None:
        return mapping.options.currency_column if mapping.options.currency_column in headers else None
    return next((h for h in headers if snake_case(h) == "currency"), None)


def _check_options_columns(mapping: Mapping, present: set[str], headers: list[str]) -> None:
    """The ``currency_column`` must exist in the file (a preset's may not)."""
    column = mapping.options.currency_column
    if column is not None and column not in present and not mapping.optional_sources:
        raise MappingError(f"{mapping.name}: currency_column = {column!r}, but the file has no such column; found: {', '.join(headers)}")


def _check_unambiguous(column: str, spec: TableSpec, headers: list[str]) -> None:
    """Refuse two headers that both name canonical ``column`` by automatic matching (``customer_id`` and
    ``Customer ID``): keeping either one would silently drop the other's values."""
    matching = [h for h in headers if snake_case(h) == column]
    if len(matching) > 1:
        shown = " and ".join(repr(h) for h in matching)
        raise MappingError(
            f"columns {shown} both match {spec.name}.{column}: say which one to use with --map mapping.toml "
            f"([columns] {column} = {json.dumps(matching[0])}) and drop or ignore the other ([options] ignore)"
        )


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
        advice = likely_fix(spec.name, headers, mapping) or (
            f"Map them with --map mapping.toml ([columns] {missing[0]} = \"Your Column\") "
            "or use --preset NAME for a known export (see docs/importing.md)")
        raise MappingError(
            f"the file lacks required column(s) for table {spec.name!r}: {', '.join(missing)}; "
            f"columns found: {_shown_headers(headers)}. {advice}"
        )


def _shown_headers(headers: list[str], limit: int = 12) -> str:
    shown = ", ".join(headers[:limit])
    return shown + (f", … ({len(headers)} columns)" if len(headers) > limit else "")


def likely_fix(table: str, headers: list[str], mapping: Mapping | None = None) -> str | None:
    """The advice for a file whose columns do not fit ``table``: a wrong delimiter (one column whose name holds
    another delimiter), a built-in preset whose columns the file has (at least 3, or all of them), or None."""
    if len(headers) == 1:
        header = headers[0]
        for mark, name in ((";", ";"), ("\t", "tab"), ("|", "|"), (",", ",")):
            if mark in header:
                return f"The file was read as one column named {header[:60]!r}: its delimiter is probably {name!r}; pass --delimiter '{name}'."
        if len(header.split()) > 1:
            return (f"The file was read as one column named {header[:60]!r}: its columns are probably separated by spaces; "
                    "pass --delimiter whitespace.")
    if mapping is not None and mapping.optional_sources:
        return None  # a preset is already in use
    present, best = set(headers), None
    for name in preset_names():
        preset = load_preset(name)
        sources = {s for src in preset.columns.values() for s in _source_names(src)}
        hits = len(sources & present)
        if hits >= 3 and (best is None or hits > best[0]):
            best = (hits, name, preset)
    if best is None:
        return None
    _, name, preset = best
    return f"The columns look like a {preset.description}: re-run with --preset {name} (into table {preset.table!r})."


def _source_names(source: Source) -> list[str]:
    if isinstance(source, Derivation):
        return source.sources()
    return [source] if isinstance(source, str) else list(source)


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
