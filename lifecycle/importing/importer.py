"""Import one export file into one canonical table: read → filter → map → type → convert → key → write, all or nothing.

``import_file`` is what ``lifecycle import`` runs. The file is read as text, filtered by the mapping's ``[where]``
and mapped onto the canonical columns (``mapping``, ``rows``); line items are filled within their record; each column
is typed by its kind with vectorised parsers (``parsing``, ``dates``) and checked against the business rules
(``coerce``); money is checked for one currency and converted at the user's rates (``currency``); line items are
merged; keys are derived or checked for duplicates (``keys``); the rows are upserted inside
``lifecycle.store.atomic_write`` (``writer``) — with ``replace`` the rows the file no longer holds are deleted, with
``derive_customers`` missing customers are created — so the database either gains the whole file or is left
byte-identical. Without ``skip_invalid`` any invalid row aborts the import with ``ImportValidationError``
listing ``file:line: column 'x': why (value)``; with it, valid rows are imported and the rejected ones written to
a CSV (``rejects``). A column that cannot be typed without guessing (ambiguous dates or decimal separators) aborts
the import in both modes.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from lifecycle.errors import CellError, DatasetError, ImportFileError, ImportValidationError, MappingError
from lifecycle.importing.coerce import ParseSettings, canonical_text, parse_kind, sqlite_values, type_canonical, widen
from lifecycle.importing.currency import INVALID_CODE, CurrencyPlan, load_rates, plan_currency
from lifecycle.importing.derive import Problem, derive
from lifecycle.importing.keys import derived_keys, duplicates, number_repeats, row_signatures
from lifecycle.importing.limits import DEFAULT_LIMITS, ReadLimits
from lifecycle.importing.mapping import (
    Derivation,
    Mapping,
    Resolved,
    check_where_columns,
    currency_code,
    currency_column,
    extra_column_name,
    load_mapping,
    load_preset,
    merge,
    resolve,
)
from lifecycle.importing.parsing import AmbiguousColumn, Parsed, infer_kind
from lifecycle.importing.readers import RawTable, delimiter_from_name, read_table
from lifecycle.importing.rejects import default_rejects_path, write_rejects
from lifecycle.importing.rows import apply_where, fill_within_records, record_groups, record_sums, spread_to_records
from lifecycle.importing.writer import (
    WriteCounts,
    add_extra_columns,
    derive_customers,
    log_import,
    pause_for_tests,
    record_currency,
    recorded_extra_kinds,
    remove_missing,
    upsert_rows,
)
from lifecycle.schema import ColumnKind, TableSpec, table_spec
from lifecycle.store import (
    SOURCE_COLUMN,
    ExtraColumn,
    atomic_write,
    check_database_file,
    dataset_currency,
    default_db_path,
    open_readonly,
)
from lifecycle.write_lock import DEFAULT_WAIT_S, write_lock

MAX_ERRORS = 1000  # cell errors collected for the message (the count of invalid rows is always exact)


@dataclass(frozen=True)
class ImportOptions:
    """Everything ``lifecycle import`` can be told besides the table, the file and the database."""

    format: str | None = None
    encoding: str | None = None
    dayfirst: bool | None = None
    decimal: str | None = None
    mapping: Path | None = None
    preset: str | None = None
    skip_invalid: bool = False
    rejects: Path | None = None
    wait_s: float = DEFAULT_WAIT_S
    limits: ReadLimits = DEFAULT_LIMITS
    on_wait: Callable[[str], None] | None = field(default=None, compare=False)
    delimiter: str | None = None
    currency: str | None = None
    rates: Path | None = None
    replace: bool = False
    source: str | None = None
    derive_customers: bool = False


@dataclass(frozen=True)
class ImportReport:
    """What an import did. ``rows_read`` counts data records in the file (rejected and collapsed ones included)."""

    table: str
    source: str
    db_path: Path
    rows_read: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    collapsed: int
    derived_keys: bool
    sha256: str
    seconds: float
    extra_columns: tuple[ExtraColumn, ...] = ()
    auto_matched: tuple[str, ...] = ()
    rejects_path: Path | None = None
    filtered: int = 0  # rows the mapping's [where] left out
    merged: int = 0  # line-item rows merged into their record's first row
    removed: int = 0  # rows --replace deleted (no longer in the source)
    customers_created: int = 0  # --derive-customers
    customers_moved: int = 0  # derived customers whose signup day moved back
    currency: str | None = None  # the currency the file's money is stored in (the dataset currency)
    converted: tuple[str, ...] = ()  # currencies converted at the rate table's rates
    source_label: str = ""  # the _source label of the rows written (--source, default the file name)

    @property
    def imported(self) -> int:
        """Rows written (inserted + updated + unchanged)."""
        return self.inserted + self.updated + self.unchanged

    @property
    def rows_per_second(self) -> float:
        """Throughput: records read per second of wall time, end to end."""
        return self.rows_read / self.seconds if self.seconds > 0 else float("inf")


@dataclass
class _Typed:
    """A typed column ready to store: stored name, kind, values, the export label used in messages."""

    name: str
    kind: ColumnKind
    parsed: Parsed
    label: str


@dataclass
class _Batch:
    columns: list[_Typed] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def import_file(table: str, path: str | Path, db_path: str | Path | None = None,
                options: ImportOptions | None = None) -> ImportReport:
    """Import ``path`` into canonical ``table`` of the database at ``db_path`` (default: ``default_db_path()``).

    Raises ``UnknownTableError``, ``ImportFileError``, ``MappingError``, ``CurrencyError``, ``ImportValidationError``,
    ``DatabaseFileError`` (``db_path`` is not a Lifecycle MCP database) or ``DatabaseBusyError`` (another import
    kept the database's write lock longer than ``options.wait_s``); on any error the database is unchanged.
    The import holds the write lock from its first look at the database (the extra columns recorded there) to
    its rename, so concurrent imports into one database run one after the other and none loses another's rows.
    """
    started = time.perf_counter()
    options = options or ImportOptions()
    spec = table_spec(table)
    path, db = Path(path), Path(db_path) if db_path is not None else default_db_path()
    _check_options(spec, options, path)
    check_database_file(db)
    with write_lock(db, options.wait_s, options.on_wait):
        return _import(spec, path, db, options, started)


def _import(spec: TableSpec, path: Path, db: Path, options: ImportOptions, started: float) -> ImportReport:
    mapping = build_mapping(spec, options)
    delimiter = _delimiter(options.delimiter, path) or mapping.options.delimiter
    raw = read_table(path, options.format, options.encoding or mapping.options.encoding, delimiter, mapping.options.column_names,
                     options.limits)
    try:
        check_where_columns(mapping, raw.headers)
    except MappingError as exc:
        raise MappingError(f"{raw.path}: {exc}") from None
    raw, filtered = apply_where(raw, mapping.where)
    if raw.n_rows == 0 and not raw.bad_rows:
        raise ImportFileError(raw.path, f"the mapping's [where] left none of the {filtered:,} rows: check its columns and values")
    resolved = _resolve(mapping, spec, raw)
    settings = ParseSettings(
        dayfirst=options.dayfirst if options.dayfirst is not None else mapping.options.dayfirst,
        decimal=options.decimal,
        options=mapping.options,
    )
    texts = {h: _clean(raw.columns[h], mapping.options.null_values) for h in raw.headers}
    batch = _Batch()
    canonical = _canonical_texts(spec, resolved.columns, mapping, settings, texts, raw, batch)
    groups = _line_item_groups(spec, mapping, canonical, raw)
    if groups is not None:
        summed = set(mapping.line_items.sum) if mapping.line_items else set()
        canonical = {name: (fill_within_records(text, groups) if name not in summed else text, label, decimal)
                     for name, (text, label, decimal) in canonical.items()}
        texts = {h: fill_within_records(text, groups) for h, text in texts.items()}
    _type_canonical_columns(spec, canonical, settings, raw, batch)
    extras = _type_extra_columns(spec, resolved.extras, texts, settings, db, raw, batch)
    plan = _convert_currency(spec, mapping, options, texts, raw, db, batch)
    derived = spec.primary_key not in resolved.columns
    if derived:
        _add_derived_key(spec, batch)
    invalid = _invalid_rows(batch.problems, raw.n_rows)
    merged = np.zeros(raw.n_rows, dtype=bool)
    if groups is not None:
        invalid, merged = _merge_line_items(batch, groups, invalid, mapping)
    key = next(c for c in batch.columns if c.name == spec.primary_key)
    collapsed, conflicting = _check_duplicates(batch, key, invalid | merged, raw)
    rejected = invalid | conflicting
    if (rejected.any() or raw.bad_rows) and not options.skip_invalid:
        raise ImportValidationError(raw.path, _cell_errors(batch.problems, raw), int(rejected.sum()) + len(raw.bad_rows),
                                    advice=_line_item_advice(spec, mapping, conflicting))
    keep = ~rejected & ~collapsed & ~merged
    rejects_path = None
    digest = _sha256(path)
    source = options.source or path.name
    removed, created, moved = 0, 0, 0
    with atomic_write(db, options.wait_s) as store:
        add_extra_columns(store, extras)
        counts = _write(store, spec, batch, keep, source)
        if options.replace:
            removed = remove_missing(store, spec.name, spec.primary_key, _file_keys(key), options.source)
        if options.derive_customers:
            created, moved = derive_customers(store, spec)
        if plan.currency is not None:
            record_currency(store, plan.currency)
        n_rejected = int(rejected.sum()) + len(raw.bad_rows)
        log_import(store, spec.name, path.name, counts.inserted + counts.updated + counts.unchanged, n_rejected, digest)
        if n_rejected:
            rejects_path = options.rejects or default_rejects_path(path)
            write_rejects(rejects_path, raw.headers, _reject_rows(batch.problems, rejected, raw))
        pause_for_tests()
    return ImportReport(
        table=spec.name, source=path.name, db_path=db, rows_read=raw.n_rows + len(raw.bad_rows) + filtered,
        inserted=counts.inserted, updated=counts.updated, unchanged=counts.unchanged, rejected=n_rejected,
        collapsed=int(collapsed.sum()), derived_keys=derived, sha256=digest,
        seconds=time.perf_counter() - started, extra_columns=tuple(extras), auto_matched=tuple(resolved.auto_matched),
        rejects_path=rejects_path, filtered=filtered, merged=int((merged & ~rejected).sum()), removed=removed,
        customers_created=created, customers_moved=moved, currency=plan.currency, converted=plan.converted,
        source_label=source,
    )


def _check_options(spec: TableSpec, options: ImportOptions, path: Path) -> None:
    """Options that cannot apply to ``spec``'s table: one line naming the option and why."""
    if options.derive_customers and (spec.customer_column != "customer_id" or spec.time_column is None):
        raise ImportFileError(str(path), f"--derive-customers creates customers from a table's customer_id and time column; "
                                         f"table {spec.name!r} has none to derive them from")
    if (options.currency or options.rates) and not _money_columns(spec):
        raise ImportFileError(str(path), f"table {spec.name!r} has no money columns: --currency and --rates do not apply")
    if options.source is not None and not options.source.strip():
        raise ImportFileError(str(path), "--source needs a label (e.g. --source shopify)")


def _delimiter(value: str | None, path: Path) -> str | None:
    if value is None:
        return None
    try:
        return delimiter_from_name(value)
    except ValueError as exc:
        raise ImportFileError(str(path), f"--delimiter: {exc}") from None


def _resolve(mapping: Mapping, spec: TableSpec, raw: RawTable) -> Resolved:
    """``mapping.resolve`` with the data file named in its errors."""
    try:
        return resolve(mapping, spec, raw.headers)
    except MappingError as exc:
        raise MappingError(f"{raw.path}: {exc}") from None


def _money_columns(spec: TableSpec) -> list[str]:
    return [c.name for c in spec.columns if c.kind == ColumnKind.MONEY]


def _file_keys(key: _Typed) -> list[str]:
    """Every non-empty key of the file — rejected rows included, so ``--replace`` never deletes a record the source
    still holds only because this export of it is invalid."""
    values = key.parsed.values
    return [str(v) for v in values.dropna().unique() if str(v) != ""]


def build_mapping(spec: TableSpec, options: ImportOptions) -> Mapping:
    """The preset (checked to target ``spec``) with the user's mapping file on top; an empty mapping when neither."""
    mapping = Mapping("automatic matching")
    if options.preset:
        mapping = load_preset(options.preset)
        if mapping.table and mapping.table != spec.name:
            raise MappingError(f"preset {options.preset!r} imports into table {mapping.table!r}, not {spec.name!r}: run `lifecycle import {mapping.table} FILE --preset {options.preset}`")
    if options.mapping:
        user = load_mapping(options.mapping)
        mapping = merge(mapping, user) if options.preset else user
    return mapping


def _clean(text: pd.Series, null_values: tuple[str, ...]) -> pd.Series:
    """Whitespace-only values and the mapping's ``null_values`` become ``""`` (missing)."""
    stripped = text.str.strip()
    missing = stripped == ""
    if null_values:
        missing |= stripped.isin(null_values)
    return text.where(~missing, "") if missing.any() else text


def _apply_values(text: pd.Series, value_map: dict[str, str]) -> pd.Series:
    """Apply a ``[values.<column>]`` map: exact match first, then case-insensitive on the trimmed value."""
    if not value_map:
        return text
    exact = text.map(value_map)
    lower = {k.strip().lower(): v for k, v in value_map.items()}
    folded = text.str.strip().str.lower().map(lower)
    result = exact.where(exact.notna(), folded)
    return text.where(result.isna(), result).astype("str")


def _canonical_texts(spec: TableSpec, sources: dict, mapping: Mapping, settings: ParseSettings,
                     texts: dict[str, pd.Series], raw: RawTable, batch: _Batch) -> dict[str, tuple[pd.Series, str, str | None]]:
    """Each mapped canonical column as text (derived values computed, value maps applied), with its export label and
    the decimal separator a derivation fixed: name → (text, label, decimal)."""
    out: dict[str, tuple[pd.Series, str, str | None]] = {}
    for column in spec.columns:
        source = sources.get(column.name)
        if source is None:
            continue
        decimal = None
        if isinstance(source, Derivation):
            result = derive(source, texts, raw.n_rows, settings.decimal or settings.options.decimal, settings.dayfirst)
            text, label, decimal = result.text, column.name, result.decimal
            batch.problems += result.problems
        else:
            text, label = texts[source], source
        if column.kind == ColumnKind.ID:
            text = text.str.strip()
        out[column.name] = (_apply_values(text, mapping.values.get(column.name, {})), label, decimal)
    return out


def _type_canonical_columns(spec: TableSpec, canonical: dict[str, tuple[pd.Series, str, str | None]],
                            settings: ParseSettings, raw: RawTable, batch: _Batch) -> None:
    for column in spec.columns:
        if column.name not in canonical:
            continue
        text, label, decimal = canonical[column.name]
        try:
            parsed, problems = type_canonical(column, text, settings, label, decimal)
        except AmbiguousColumn as exc:
            raise _ambiguous(raw, label, text, exc) from None
        batch.columns.append(_Typed(column.name, column.kind, parsed, label))
        batch.problems += problems


def _line_item_groups(spec: TableSpec, mapping: Mapping, canonical: dict[str, tuple[pd.Series, str, str | None]],
                      raw: RawTable) -> np.ndarray | None:
    """For ``[line_items]``: each row's record (the position of its record's first row), by the key column's text."""
    if mapping.line_items is None:
        return None
    if spec.primary_key not in canonical:
        raise MappingError(f"{raw.path}: [line_items] merges the rows that share the record's key, but no column feeds "
                           f"{spec.primary_key}: map it ([columns] {spec.primary_key} = \"Order Number\")")
    for name in mapping.line_items.sum:
        column = next((c for c in spec.columns if c.name == name), None)
        if column is None or column.kind not in (ColumnKind.MONEY, ColumnKind.NUMBER, ColumnKind.INTEGER):
            raise MappingError(f"{mapping.name}: [line_items] sum names {name!r}, which is not a numeric column of table {spec.name!r}")
    return record_groups(canonical[spec.primary_key][0])


def _merge_line_items(batch: _Batch, groups: np.ndarray, invalid: np.ndarray, mapping: Mapping) -> tuple[np.ndarray, np.ndarray]:
    """Reject records with an invalid row; keep each record's first row with its ``sum`` columns added up. Returns
    (invalid rows, merged rows — every row but a record's first)."""
    spread = spread_to_records(invalid, groups)
    if (spread & ~invalid).any():
        batch.problems.append(Problem(spread & ~invalid, None, "another line item of the same record is invalid"))
    merged = groups != np.arange(len(groups))
    summed = set(mapping.line_items.sum) if mapping.line_items else set()
    for typed in batch.columns:
        if typed.name in summed:
            values = typed.parsed.values.astype("float64").to_numpy(dtype=np.float64, na_value=np.nan)
            totals = record_sums(values, groups)
            cast = pd.Series(totals, index=typed.parsed.values.index)
            if typed.kind == ColumnKind.INTEGER:
                cast = cast.round().astype("Int64")
            typed.parsed = Parsed(cast, typed.parsed.invalid, typed.parsed.why)
    return spread, merged


def _convert_currency(spec: TableSpec, mapping: Mapping, options: ImportOptions, texts: dict[str, pd.Series],
                      raw: RawTable, db: Path, batch: _Batch) -> CurrencyPlan:
    """Check the file's money is in the dataset currency, converting other currencies at the rate table's rates."""
    empty = CurrencyPlan(None, None, (), np.zeros(raw.n_rows, dtype=bool))
    money = [c for c in batch.columns if c.kind == ColumnKind.MONEY]
    column = currency_column(mapping, raw.headers)
    codes = texts.get(column) if column else None
    default = currency_code(options.currency, "--currency") if options.currency else mapping.options.currency
    rates_path = options.rates or mapping.options.rates
    if not _money_columns(spec):
        if (mapping.options.currency_column and not mapping.optional_sources) or mapping.options.currency or mapping.options.rates:
            raise MappingError(f"{mapping.name}: table {spec.name!r} has no money columns: the currency options do not apply")
        return empty
    if codes is None and default is None and rates_path is None:
        return empty
    rates = load_rates(rates_path) if rates_path is not None else None
    plan = plan_currency(raw.path, raw.n_rows, codes, default, _recorded_currency(db), rates)
    if plan.invalid.any() and codes is not None:
        batch.problems.append(Problem(plan.invalid, column, INVALID_CODE, codes))
    if plan.factors is not None:
        for typed in money:
            values = typed.parsed.values.astype("float64").to_numpy(dtype=np.float64, na_value=np.nan)
            converted = pd.Series(np.round(values * plan.factors, 6), index=typed.parsed.values.index)
            typed.parsed = Parsed(converted, typed.parsed.invalid, typed.parsed.why)
    return plan if money or plan.currency else empty


def _recorded_currency(db: Path) -> str | None:
    if not db.exists() or not db.stat().st_size:
        return None
    try:
        conn = open_readonly(db)
    except DatasetError:
        return None
    try:
        return dataset_currency(conn)
    finally:
        conn.close()


def _line_item_advice(spec: TableSpec, mapping: Mapping, conflicting: np.ndarray) -> str | None:
    """For rows sharing a key with different values: they are likely the line items of one record."""
    if not conflicting.any() or mapping.line_items is not None:
        return None
    preset = " (a Shopify orders export: --preset shopify-orders)" if spec.name == "orders" else ""
    return (f"Rows sharing a {spec.primary_key} with different values look like line items of one record: merge them with "
            f"[line_items] in a --map file{preset}; see docs/importing.md (Line items).")


def _ambiguous(raw: RawTable, label: str, text: pd.Series, exc: AmbiguousColumn) -> ImportValidationError:
    error = CellError(raw.path, int(raw.lines[exc.position]), label, exc.why, str(text.iloc[exc.position]))
    return ImportValidationError(raw.path, [error], total_invalid_rows=1)


def _add_derived_key(spec: TableSpec, batch: _Batch) -> None:
    """Key every row by the hash of its stored values: canonical columns in schema order, then extras by name."""
    by_name = {c.name: c for c in batch.columns}
    n = len(batch.columns[0].parsed.values) if batch.columns else 0
    texts = []
    for column in spec.columns:
        if column.name == spec.primary_key:
            continue
        typed = by_name.get(column.name)
        texts.append(canonical_text(typed.parsed, typed.kind) if typed else pd.Series([""] * n, dtype="str"))
    canonical = {c.name for c in spec.columns}
    for extra in sorted((c for c in batch.columns if c.name not in canonical), key=lambda c: c.name):
        texts.append(canonical_text(extra.parsed, extra.kind))
    keys = derived_keys(texts)
    if spec.repeats_are_distinct:
        keys = number_repeats(keys)
    batch.columns.insert(0, _Typed(spec.primary_key, ColumnKind.ID, Parsed(keys, np.zeros(n, dtype=bool)), spec.primary_key))


def _type_extra_columns(spec: TableSpec, headers: list[str], texts: dict[str, pd.Series], settings: ParseSettings,
                        db: Path, raw: RawTable, batch: _Batch) -> list[ExtraColumn]:
    recorded = recorded_extra_kinds(db, spec.name) if headers else {}
    extras = []
    for header in headers:
        name, text = extra_column_name(header), texts[header]
        has_values = bool((text != "").any())
        found = infer_kind(text) if has_values or name not in recorded else recorded[name]
        kind = widen(recorded[name], found) if name in recorded else found
        if name in recorded and kind.sqlite_type == "TEXT" and recorded[name].sqlite_type != "TEXT":
            raise MappingError(
                f"extra column {header!r} was imported into {spec.name}.{name} as {recorded[name].value} before, but this "
                f"file's values are {found.value}: rename the column in the file, or ignore it with a mapping ([options] ignore)"
            )
        parsed = parse_kind(kind, text, settings, name, decimal=".")
        batch.columns.append(_Typed(name, kind, parsed, header))
        extras.append(ExtraColumn(spec.name, name, kind, header))
    return extras


def _invalid_rows(problems: list[Problem], n: int) -> np.ndarray:
    invalid = np.zeros(n, dtype=bool)
    for problem in problems:
        invalid |= problem.mask
    return invalid


def _check_duplicates(batch: _Batch, key: _Typed, invalid: np.ndarray, raw: RawTable) -> tuple[np.ndarray, np.ndarray]:
    """Collapse identical rows sharing a key; mark rows sharing a key with different content as problems."""
    n = len(invalid)
    collapsed, conflicting = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    positions = np.flatnonzero(~invalid)
    keys = key.parsed.values.iloc[positions].reset_index(drop=True)
    if not keys.duplicated().any():
        return collapsed, conflicting
    signatures = row_signatures([canonical_text(_subset(c.parsed, positions), c.kind) for c in batch.columns])
    same, clash, first = duplicates(keys, signatures)
    collapsed[positions[same]] = True
    conflicting[positions[clash]] = True
    if clash.any():
        why = pd.Series([""] * n, dtype="str")
        clash_positions = positions[clash]
        partners = _partners(keys[clash].to_numpy(dtype=object), clash_positions)
        for position, partner in zip(clash_positions, partners):
            why.iloc[position] = f"duplicate key: line {int(raw.lines[partner])} has the same key with different values"
        batch.problems.append(Problem(conflicting.copy(), key.label, why, key.parsed.values))
    return collapsed, conflicting


def _partners(keys: np.ndarray, positions: np.ndarray) -> list[int]:
    """For each conflicting row, another row with the same key: the first one, or for the first the second one."""
    groups: dict[object, list[int]] = {}
    for k, p in zip(keys, positions):
        groups.setdefault(k, []).append(int(p))
    return [groups[k][1] if groups[k][0] == p else groups[k][0] for k, p in zip(keys, positions)]


def _subset(parsed: Parsed, positions: np.ndarray) -> Parsed:
    return Parsed(parsed.values.iloc[positions].reset_index(drop=True), parsed.invalid[positions], parsed.why)


def _cell_errors(problems: list[Problem], raw: RawTable) -> list[CellError]:
    errors = [CellError(raw.path, bad.line, None, bad.why) for bad in raw.bad_rows[:MAX_ERRORS]]
    for problem in problems:
        for position in np.flatnonzero(problem.mask)[:MAX_ERRORS]:
            errors.append(_cell_error(problem, int(position), raw))
    errors.sort(key=lambda e: e.line)
    return errors[:MAX_ERRORS]


def _cell_error(problem: Problem, position: int, raw: RawTable) -> CellError:
    why = problem.why if isinstance(problem.why, str) else str(problem.why.iloc[position])
    value = None if problem.values is None else str(problem.values.iloc[position])
    return CellError(raw.path, int(raw.lines[position]), problem.column, why, value)


def _reject_rows(problems: list[Problem], rejected: np.ndarray, raw: RawTable) -> list[tuple[int, str, list[str]]]:
    reasons: dict[int, list[str]] = {}
    for problem in problems:
        for position in np.flatnonzero(problem.mask & rejected):
            error = _cell_error(problem, int(position), raw)
            reasons.setdefault(int(position), []).append(_reason_text(error))
    rows = [(bad.line, bad.why, list(bad.fields)) for bad in raw.bad_rows]
    for row, why in reasons.items():
        fields = [str(raw.columns[h].iloc[row]) for h in raw.headers]
        rows.append((int(raw.lines[row]), "; ".join(why), fields))
    return rows


def _reason_text(error: CellError) -> str:
    """The error without its ``file:line:`` prefix (the rejects file has its own line column)."""
    return str(error)[len(f"{error.path}:{error.line}: "):]


def _write(store, spec: TableSpec, batch: _Batch, keep: np.ndarray, source: str) -> WriteCounts:
    """Write the kept rows in key order (sequential primary-key inserts are much cheaper for SQLite's B-tree), each
    tagged with ``source`` in ``_source``."""
    positions = np.flatnonzero(keep)
    key = next(c for c in batch.columns if c.name == spec.primary_key).parsed.values
    order = pc.sort_indices(pa.array(key.iloc[positions], pa.large_string())).to_numpy()
    positions = positions[order]
    names = [c.name for c in batch.columns] + [SOURCE_COLUMN]
    types = [c.kind.sqlite_type for c in batch.columns] + ["TEXT"]
    values = [sqlite_values(_subset(c.parsed, positions), c.kind) for c in batch.columns] + [[source] * len(positions)]
    return upsert_rows(store, spec.name, spec.primary_key, names, types, values)


def _sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
