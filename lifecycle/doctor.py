"""`lifecycle doctor`: what a dataset holds, what it can compute, and what looks wrong in it.

``diagnose(conn)`` reads a lifecycle database (any ``sqlite3`` connection, normally one from
``lifecycle.store.open_readonly``) and returns a ``DatasetReport``:

- per canonical table: row count and date coverage (min/max of its time column);
- which metric groups are computable from the tables that hold rows (``CAPABILITIES``, plain data the
  engine's metric registry can replace later);
- data-quality warnings (``WARNING_CODES``): orphan references, dates after the as-of date, badly
  formatted dates, negative amounts, values outside a column's range, duplicate rows, dates that go
  backwards, and (as information) duplicate company names.

Every identifier in the SQL comes from the schema allowlist (``lifecycle.schema.TABLES``) and every
value is bound, so nothing a user imported can change a query. Queries go through
``lifecycle.store.execute_limited``, so a connection opened with a time limit raises
``QueryTimeoutError`` instead of running forever.
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass
from datetime import date
from itertools import combinations
from typing import Any, Literal

from lifecycle.schema import TABLES, ColumnKind, TableSpec
from lifecycle.store import execute_limited

EXAMPLE_LIMIT = 3
DATE_KINDS = (ColumnKind.DATE, ColumnKind.DATETIME)
ISO_DATE_GLOB = "[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]*"

Severity = Literal["warning", "info"]


# --------------------------------------------------------------------------------------------------
# Capabilities: which metric groups the tables present can feed.
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CapabilityRule:
    """A metric group and what it needs.

    ``needs`` lists alternatives; the group is computable when every requirement of at least one
    alternative is met. A requirement is a table name (met when the table has rows) or
    ``table.column`` (met when that column has at least one non-empty value).
    """

    label: str
    needs: tuple[tuple[str, ...], ...]

    def describe_needs(self) -> str:
        """The requirements as a phrase: ``"subscriptions or orders"``, ``"customers.acquisition_cost"``."""
        return " or ".join(" and ".join(alternative) for alternative in self.needs)


def _needs(*requirements: str) -> tuple[tuple[str, ...], ...]:
    return (requirements,)


def _either(*alternatives: str) -> tuple[tuple[str, ...], ...]:
    return tuple((alternative,) for alternative in alternatives)


CAPABILITIES: dict[str, CapabilityRule] = {
    "funnel_conversion": CapabilityRule("Funnel conversion (lead → MQL → SQL → opportunity → won)", _needs("leads")),
    "activation": CapabilityRule("Activation rate", _needs("events")),
    "time_to_value": CapabilityRule("Time to value", _needs("events")),
    "stickiness": CapabilityRule("Stickiness (DAU/MAU)", _needs("events")),
    "feature_adoption": CapabilityRule("Feature adoption", _needs("events")),
    "mrr": CapabilityRule("MRR and ARR", _needs("subscriptions")),
    "nrr": CapabilityRule("Net revenue retention", _needs("subscriptions")),
    "grr": CapabilityRule("Gross revenue retention", _needs("subscriptions")),
    "revenue_movements": CapabilityRule("MRR movements (new, expansion, contraction, churn, reactivation)", _needs("subscriptions")),
    "logo_churn": CapabilityRule("Logo churn", _either("subscriptions", "orders")),
    "retention": CapabilityRule("Cohort retention", _either("subscriptions", "orders")),
    "repeat_purchase": CapabilityRule("Repeat purchase rate", _needs("orders")),
    "aov": CapabilityRule("Average order value", _needs("orders")),
    "nps": CapabilityRule("Net Promoter Score", _needs("nps_responses")),
    "referral_rate": CapabilityRule("Referral rate", _needs("referrals")),
    "payment_health": CapabilityRule("Payment health (late and failed payments)", _needs("invoices")),
    "support_load": CapabilityRule("Support load and CSAT", _needs("tickets")),
    "engagement": CapabilityRule("Engagement (open and click rates)", _needs("touches")),
    "cac": CapabilityRule("Customer acquisition cost", _needs("customers.acquisition_cost")),
}


# --------------------------------------------------------------------------------------------------
# Warning codes: one place for what each check means.
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WarningCode:
    """A data-quality check: its severity and the sentence shown with its count."""

    severity: Severity
    help: str


WARNING_CODES: dict[str, WarningCode] = {
    "orphan_reference": WarningCode("warning", "rows whose {column} matches no row in {target}"),
    "future_date": WarningCode("warning", "{column} values after the as-of date {as_of}"),
    "bad_date_format": WarningCode("warning", "{column} values that are not ISO dates (YYYY-MM-DD)"),
    "negative_amount": WarningCode("warning", "negative {column} values"),
    "out_of_range": WarningCode("warning", "{column} values outside {minimum}–{maximum}"),
    "duplicate_rows": WarningCode("warning", "{column} rows repeating another row's {key}"),
    "duplicate_company_name": WarningCode("info", "customers sharing a company name with another customer (may be fine)"),
    "end_before_start": WarningCode("warning", "subscriptions whose end_date is before their start_date"),
    "paid_before_issue": WarningCode("warning", "invoices paid before they were issued"),
    "closed_before_open": WarningCode("warning", "tickets closed before they were opened"),
    "touch_dates_backwards": WarningCode("warning", "touches opened or clicked before they were sent, or clicked before opened"),
    "lead_dates_backwards": WarningCode("warning", "leads whose stage dates go backwards (e.g. SQL before MQL)"),
}

# Columns that may legitimately lie after the as-of date: a scheduled cancellation, a due date.
FUTURE_ALLOWED: frozenset[tuple[str, str]] = frozenset({("subscriptions", "end_date"), ("invoices", "due_date")})

# Rows that repeat these columns are almost certainly the same record exported twice.
DUPLICATE_KEYS: dict[str, tuple[str, ...]] = {
    "events": ("customer_id", "event_name", "occurred_at"),
    "orders": ("customer_id", "ordered_at", "amount"),
    "nps_responses": ("customer_id", "responded_at", "score"),
    "touches": ("customer_id", "sent_at", "channel", "campaign"),
}

_LEAD_STAGES = ("created_at", "mql_at", "sql_at", "opportunity_at")
_LEAD_OUTCOMES = ("won_at", "lost_at")

# (code, table, (earlier, later) pairs): a row is flagged when any pair has both values and earlier > later.
ORDERING_RULES: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    ("end_before_start", "subscriptions", (("start_date", "end_date"),)),
    ("paid_before_issue", "invoices", (("issued_at", "paid_at"),)),
    ("closed_before_open", "tickets", (("opened_at", "closed_at"),)),
    ("touch_dates_backwards", "touches", (("sent_at", "opened_at"), ("sent_at", "clicked_at"), ("opened_at", "clicked_at"))),
    ("lead_dates_backwards", "leads",
     tuple(combinations(_LEAD_STAGES, 2)) + tuple((stage, outcome) for stage in _LEAD_STAGES for outcome in _LEAD_OUTCOMES)),
)


# --------------------------------------------------------------------------------------------------
# The report.
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableReport:
    """One canonical table: its rows and the span of its time column (``None`` when it has no dates)."""

    name: str
    rows: int
    time_column: str | None
    first: date | None
    last: date | None


@dataclass(frozen=True)
class Capability:
    """Whether a metric group is computable; ``needs`` says which data it takes (what to import when it is not)."""

    name: str
    label: str
    computable: bool
    needs: str


@dataclass(frozen=True)
class DataWarning:
    """A data-quality finding: ``count`` offending rows, ``examples`` = up to 3 of their primary keys.

    ``column`` is ``None`` for checks spanning several columns (duplicates, dates going backwards);
    ``message`` describes the offending rows without the count (shown beside it).
    """

    code: str
    severity: Severity
    table: str
    column: str | None
    count: int
    examples: tuple[str, ...]
    message: str


@dataclass(frozen=True)
class DatasetReport:
    """Everything ``lifecycle doctor`` and the ``describe_dataset`` tool show about a dataset."""

    as_of: date | None
    as_of_inferred: bool
    tables: tuple[TableReport, ...]
    capabilities: tuple[Capability, ...]
    warnings: tuple[DataWarning, ...]
    notes: tuple[str, ...]

    @property
    def first(self) -> date | None:
        """Earliest date over every table's time column."""
        return min((t.first for t in self.tables if t.first is not None), default=None)

    @property
    def last(self) -> date | None:
        """Latest date over every table's time column."""
        return max((t.last for t in self.tables if t.last is not None), default=None)

    @property
    def computable(self) -> tuple[str, ...]:
        """Names of the computable metric groups, in ``CAPABILITIES`` order."""
        return tuple(c.name for c in self.capabilities if c.computable)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (dates as ``YYYY-MM-DD``), as printed by ``lifecycle doctor --json``."""
        data = asdict(self)
        data["first"], data["last"], data["computable"] = self.first, self.last, list(self.computable)
        return _jsonable(data)

    def warning(self, code: str, table: str, column: str | None = None) -> DataWarning | None:
        """The finding with this code on this table (and column, when given), or ``None``."""
        for found in self.warnings:
            if found.code == code and found.table == table and (column is None or found.column == column):
                return found
        return None


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def diagnose(conn: sqlite3.Connection, as_of: date | None = None) -> DatasetReport:
    """Describe the dataset behind ``conn`` and check its quality.

    ``as_of`` is the day the data is meant to describe; dates after it are flagged (except
    ``FUTURE_ALLOWED`` columns). Today's date is never assumed: when ``as_of`` is ``None`` the latest
    date found in the data is used, the report says so (``as_of_inferred``), and the future-date
    check is skipped because nothing can lie after the latest date.
    """
    present = _present_tables(conn)
    tables = tuple(_table_report(conn, spec) for spec in TABLES.values() if spec.name in present)
    rows = {t.name: t.rows for t in tables}
    notes: list[str] = []
    inferred = as_of is None
    if inferred:
        as_of = _latest_date(conn, present)
        notes.append(
            "as-of date not given: using the latest date in the data"
            + (f" ({as_of.isoformat()})" if as_of else " (none found)")
            + "; the future-date check needs an explicit as-of date"
        )
    capabilities = tuple(_capability(conn, name, rule, rows) for name, rule in CAPABILITIES.items())
    warnings = _warnings(conn, present, None if inferred else as_of)
    return DatasetReport(as_of, inferred, tables, capabilities, warnings, tuple(notes))


# --------------------------------------------------------------------------------------------------
# Tables and dates.
# --------------------------------------------------------------------------------------------------

_IDENTIFIERS = frozenset(TABLES) | frozenset(col.name for spec in TABLES.values() for col in spec.columns)


def _ident(name: str) -> str:
    """Quote a table or column name after checking it is in the schema allowlist."""
    if name not in _IDENTIFIERS:
        raise ValueError(f"{name!r} is not a canonical table or column")
    return f'"{name}"'


def _present_tables(conn: sqlite3.Connection) -> frozenset[str]:
    rows = execute_limited(conn, "SELECT name FROM sqlite_master WHERE type = 'table'")
    return frozenset(name for (name,) in rows if name in TABLES)


def _table_report(conn: sqlite3.Connection, spec: TableSpec) -> TableReport:
    if spec.time_column is None:
        (count,) = execute_limited(conn, f"SELECT count(*) FROM {_ident(spec.name)}")[0]
        return TableReport(spec.name, count, None, None, None)
    count, first, last = _count_and_span(conn, spec.name, spec.time_column)
    return TableReport(spec.name, count, spec.time_column, first, last)


def _count_and_span(conn: sqlite3.Connection, table_name: str, column_name: str) -> tuple[int, date | None, date | None]:
    """Row count plus the earliest and latest well-formed date in ``column_name`` (malformed ones are ignored)."""
    table, column = _ident(table_name), _ident(column_name)
    count, first, last = execute_limited(
        conn,
        f"SELECT count(*), min(CASE WHEN {column} GLOB ? THEN substr({column}, 1, 10) END), "
        f"max(CASE WHEN {column} GLOB ? THEN substr({column}, 1, 10) END) FROM {table}",
        (ISO_DATE_GLOB, ISO_DATE_GLOB),
    )[0]
    return count, _to_date(first), _to_date(last)


def _to_date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _date_columns(spec: TableSpec) -> tuple[str, ...]:
    return tuple(col.name for col in spec.columns if col.kind in DATE_KINDS)


def _latest_date(conn: sqlite3.Connection, present: frozenset[str]) -> date | None:
    """The latest well-formed date in any date column that records something that already happened."""
    latest: date | None = None
    for spec in TABLES.values():
        if spec.name not in present:
            continue
        for column in _date_columns(spec):
            if (spec.name, column) in FUTURE_ALLOWED:
                continue
            _, _, last = _count_and_span(conn, spec.name, column)
            if last is not None and (latest is None or last > latest):
                latest = last
    return latest


# --------------------------------------------------------------------------------------------------
# Capabilities.
# --------------------------------------------------------------------------------------------------


def _capability(conn: sqlite3.Connection, name: str, rule: CapabilityRule, rows: dict[str, int]) -> Capability:
    computable = any(all(_requirement_met(conn, req, rows) for req in alternative) for alternative in rule.needs)
    return Capability(name, rule.label, computable, rule.describe_needs())


def _requirement_met(conn: sqlite3.Connection, requirement: str, rows: dict[str, int]) -> bool:
    table_name, _, column_name = requirement.partition(".")
    if rows.get(table_name, 0) == 0:
        return False
    if not column_name:
        return True
    table, column = _ident(table_name), _ident(column_name)
    return execute_limited(conn, f"SELECT 1 FROM {table} WHERE {column} IS NOT NULL AND {column} != '' LIMIT 1") != []


# --------------------------------------------------------------------------------------------------
# Warnings.
# --------------------------------------------------------------------------------------------------


def _warnings(conn: sqlite3.Connection, present: frozenset[str], as_of: date | None) -> tuple[DataWarning, ...]:
    found: list[DataWarning] = []
    for spec in TABLES.values():
        if spec.name not in present:
            continue
        found += _orphans(conn, spec, present)
        found += _bad_dates(conn, spec)
        if as_of is not None:
            found += _future_dates(conn, spec, as_of)
        found += _value_checks(conn, spec)
        if spec.name in DUPLICATE_KEYS:
            found += _duplicates(conn, spec, DUPLICATE_KEYS[spec.name])
    for code, table, pairs in ORDERING_RULES:
        if table in present:
            found += _ordering(conn, code, TABLES[table], pairs)
    if "customers" in present:
        found += _duplicate_company_names(conn)
    return tuple(found)


def _finding(conn: sqlite3.Connection, code: str, spec: TableSpec, column: str | None, where: str,
             params: tuple = (), **fields: object) -> list[DataWarning]:
    """Count the rows of ``spec`` matching ``where`` and list up to 3 of their primary keys."""
    table, pk = _ident(spec.name), _ident(spec.primary_key)
    (count,) = execute_limited(conn, f"SELECT count(*) FROM {table} WHERE {where}", params)[0]
    if count == 0:
        return []
    examples = execute_limited(conn, f"SELECT {pk} FROM {table} WHERE {where} ORDER BY {pk} LIMIT ?", (*params, EXAMPLE_LIMIT))
    return [_warning(code, spec.name, column, count, tuple(str(e) for (e,) in examples), **fields)]


def _warning(code: str, table: str, column: str | None, count: int, examples: tuple[str, ...], **fields: object) -> DataWarning:
    spec = WARNING_CODES[code]
    message = spec.help.format(column=f"{table}.{column}" if column else table, **fields)
    return DataWarning(code, spec.severity, table, column, count, examples, message)


def _orphans(conn: sqlite3.Connection, spec: TableSpec, present: frozenset[str]) -> list[DataWarning]:
    found: list[DataWarning] = []
    for column_name, target_name in spec.references:
        column = _ident(column_name)
        if target_name not in present:
            where = f"{column} IS NOT NULL"
        else:
            target, target_pk = _ident(target_name), _ident(TABLES[target_name].primary_key)
            where = f"{column} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {target} WHERE {target}.{target_pk} = {_ident(spec.name)}.{column})"
        found += _finding(conn, "orphan_reference", spec, column_name, where, target=target_name)
    return found


def _bad_dates(conn: sqlite3.Connection, spec: TableSpec) -> list[DataWarning]:
    found: list[DataWarning] = []
    for column_name in _date_columns(spec):
        column = _ident(column_name)
        found += _finding(conn, "bad_date_format", spec, column_name, f"{column} IS NOT NULL AND {column} NOT GLOB ?", (ISO_DATE_GLOB,))
    return found


def _future_dates(conn: sqlite3.Connection, spec: TableSpec, as_of: date) -> list[DataWarning]:
    found: list[DataWarning] = []
    for column_name in _date_columns(spec):
        if (spec.name, column_name) in FUTURE_ALLOWED:
            continue
        column = _ident(column_name)
        found += _finding(conn, "future_date", spec, column_name, f"{column} GLOB ? AND substr({column}, 1, 10) > ?",
                          (ISO_DATE_GLOB, as_of.isoformat()), as_of=as_of.isoformat())
    return found


def _value_checks(conn: sqlite3.Connection, spec: TableSpec) -> list[DataWarning]:
    found: list[DataWarning] = []
    for col in spec.columns:
        column = _ident(col.name)
        if col.kind is ColumnKind.MONEY:
            found += _finding(conn, "negative_amount", spec, col.name, f"{column} < 0")
        if col.minimum is not None and col.maximum is not None:
            found += _finding(conn, "out_of_range", spec, col.name, f"{column} < ? OR {column} > ?",
                              (col.minimum, col.maximum), minimum=_number(col.minimum), maximum=_number(col.maximum))
    return found


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _duplicates(conn: sqlite3.Connection, spec: TableSpec, key: tuple[str, ...]) -> list[DataWarning]:
    """Rows repeating an earlier row's ``key`` (the first row of each group, by primary key, is not counted)."""
    table, pk = _ident(spec.name), _ident(spec.primary_key)
    same = " AND ".join(f"earlier.{_ident(c)} IS {table}.{_ident(c)}" for c in key)
    where = f"EXISTS (SELECT 1 FROM {table} AS earlier WHERE {same} AND earlier.{pk} < {table}.{pk})"
    return _finding(conn, "duplicate_rows", spec, None, where, key=", ".join(key))


def _ordering(conn: sqlite3.Connection, code: str, spec: TableSpec, pairs: tuple[tuple[str, str], ...]) -> list[DataWarning]:
    backwards = " OR ".join(f"({_ident(a)} IS NOT NULL AND {_ident(b)} IS NOT NULL AND {_ident(a)} > {_ident(b)})" for a, b in pairs)
    column = pairs[0][1] if len(pairs) == 1 else None
    return _finding(conn, code, spec, column, f"({backwards})")


def _duplicate_company_names(conn: sqlite3.Connection) -> list[DataWarning]:
    spec = TABLES["customers"]
    where = ("company IS NOT NULL AND trim(company) != '' AND EXISTS (SELECT 1 FROM customers AS other "
             "WHERE lower(trim(other.company)) = lower(trim(customers.company)) AND other.customer_id != customers.customer_id)")
    return _finding(conn, "duplicate_company_name", spec, "company", where)
