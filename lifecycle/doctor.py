"""`lifecycle doctor`: what a dataset holds, what it can compute, and what looks wrong in it.

``diagnose(connection)`` reads a lifecycle dataset through a ``lifecycle.sources.Connection`` (any source:
``DataSource.diagnose`` opens one) and returns a ``DatasetReport``:

- per canonical table: row count and date coverage (min/max of its time column);
- which metric groups are computable from the tables that hold rows (``CAPABILITIES``: a group made of
  registry metrics needs what their definitions require; the few groups that are no metric declare their needs);
- data-quality warnings (``WARNING_CODES``): orphan references, dates after the as-of date, badly
  formatted dates, negative amounts, values outside a column's range, duplicate rows, dates that go
  backwards, and (as information) duplicate company names.

Every identifier in the SQL comes from the schema allowlist (``lifecycle.schema.TABLES``) and every
value is bound, so nothing a user imported can change a query. Queries run under the source's time limit, so
a slow check raises ``QueryTimeoutError`` instead of running forever.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from itertools import combinations
from typing import TYPE_CHECKING, Any, Literal

from lifecycle.schema import TABLES, ColumnKind, TableSpec

if TYPE_CHECKING:  # the sources import this module (DataSource.diagnose)
    from lifecycle.sources.base import Connection

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
    ``table.column`` (met when that column has at least one non-empty value). A group of registry metrics
    (``metrics``) needs what their definitions require (``MetricDefinition.requirements``, read from the registry
    when asked); a group that is no metric (payment health, cohort retention over orders) declares its ``declared``
    alternatives.
    """

    label: str
    declared: tuple[tuple[str, ...], ...] = ()
    metrics: tuple[str, ...] = ()

    @property
    def needs(self) -> tuple[tuple[str, ...], ...]:
        """The alternatives: the declared ones, else one alternative — every requirement of the group's metrics."""
        if self.declared:
            return self.declared
        # Read when asked, not at import: the registry's metric modules sit above lifecycle.sources, which imports this
        # module for DataSource.diagnose.
        from lifecycle.metrics.registry import definition

        return (tuple(dict.fromkeys(need for metric_id in self.metrics for need in definition(metric_id).requirements)),)

    def describe_needs(self) -> str:
        """The requirements as a phrase: ``"subscriptions or orders"``, ``"customers.acquisition_cost"``."""
        return " or ".join(" and ".join(alternative) for alternative in self.needs)


def _metrics(label: str, *metric_ids: str) -> CapabilityRule:
    """A group of registry metrics: it needs what their definitions require."""
    return CapabilityRule(label, metrics=metric_ids)


def _either(label: str, *alternatives: str) -> CapabilityRule:
    """A group that is no single metric, computable from any one of ``alternatives``."""
    return CapabilityRule(label, declared=tuple((alternative,) for alternative in alternatives))


CAPABILITIES: dict[str, CapabilityRule] = {
    "funnel_conversion": _metrics("Funnel conversion (lead → MQL → SQL → opportunity → won)",
                                  "lead_to_mql_rate", "mql_to_sql_rate", "sql_to_customer_rate", "lead_to_customer_rate"),
    "activation": _metrics("Activation rate", "activation_rate"),
    "time_to_value": _metrics("Time to value", "time_to_value_days"),
    "stickiness": _metrics("Stickiness (DAU/MAU)", "stickiness"),
    "feature_adoption": _metrics("Feature adoption", "feature_adoption_rate"),
    "mrr": _metrics("MRR and ARR", "mrr", "arr"),
    "nrr": _metrics("Net revenue retention", "nrr"),
    "grr": _metrics("Gross revenue retention", "grr"),
    "revenue_movements": _metrics("MRR movements (new, expansion, contraction, churn, reactivation)",
                                  "new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr", "reactivation_mrr"),
    # Churn and cohort retention as the snapshot, the stages and the cohort_retention tool read them (paid spells
    # from subscriptions, or purchase gaps from orders) — wider than the subscription metric logo_churn_rate.
    "logo_churn": _either("Logo churn", "subscriptions", "orders"),
    "retention": _either("Cohort retention", "subscriptions", "orders"),
    "repeat_purchase": _metrics("Repeat purchase rate", "repeat_purchase_rate"),
    "aov": _metrics("Average order value", "average_order_value"),
    "nps": _metrics("Net Promoter Score", "nps"),
    "referral_rate": _metrics("Referral rate", "referral_rate"),
    # Health-score components, not registry metrics.
    "payment_health": _either("Payment health (late and failed payments)", "invoices"),
    "support_load": _either("Support load and CSAT", "tickets"),
    "engagement": _metrics("Engagement (open and click rates)", "email_open_rate", "email_click_rate"),
    "cac": _metrics("Customer acquisition cost", "cac"),
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
    "orphan_reference": WarningCode("warning", "rows whose {column} matches no row in {target} (examples: the missing ids)"),
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
    "events": ("customer_id", "occurred_at", "event_name", "user_id"),
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


@dataclass(frozen=True)
class Survey:
    """What ``diagnose`` finds that does not depend on as_of: the tables present, every date column's earliest and
    latest digit-leading text, the tables' reports, the capabilities, and the findings before and after the
    future-date check of each table (``table_findings``: (table, before, after)) and those over several tables
    (``closing_findings``), in the order the report lists them."""

    present: frozenset[str]
    span_texts: tuple[tuple[tuple[str, str], tuple[str | None, str | None]], ...]
    tables: tuple[TableReport, ...]
    capabilities: tuple[Capability, ...]
    table_findings: tuple[tuple[str, tuple[DataWarning, ...], tuple[DataWarning, ...]], ...]
    closing_findings: tuple[DataWarning, ...]
    day_counts: tuple[tuple[tuple[str, str], DayCounts], ...] = ()  # per date column, where known (``_date_profile``)

    @property
    def spans(self) -> dict[tuple[str, str], Span]:
        return {key: (_to_date(first), _to_date(last)) for key, (first, last) in self.span_texts}


def survey(conn: Connection) -> Survey:
    """The as_of-independent part of ``diagnose`` (``Survey``): one pass of every check but the future dates."""
    present = _present_tables(conn)
    profiles = tuple(((spec.name, column), _date_profile(conn, spec.name, column))
                     for spec in TABLES.values() if spec.name in present for column in _date_columns(spec))
    texts = tuple((key, span) for key, (span, _) in profiles)
    day_counts = tuple((key, counts) for key, (_, counts) in profiles if counts is not None)
    spans = {key: (_to_date(first), _to_date(last)) for key, (first, last) in texts}
    tables = tuple(_table_report(conn, spec, spans) for spec in TABLES.values() if spec.name in present)
    rows = {t.name: t.rows for t in tables}
    capabilities = tuple(_capability(conn, name, rule, rows) for name, rule in CAPABILITIES.items())
    per_table: list[tuple[str, tuple[DataWarning, ...], tuple[DataWarning, ...]]] = []
    for spec in TABLES.values():
        if spec.name not in present:
            continue
        before = _orphans(conn, spec, present) + _bad_dates(conn, spec)
        after = _value_checks(conn, spec)
        if spec.name in DUPLICATE_KEYS:
            after += _duplicates(conn, spec, DUPLICATE_KEYS[spec.name])
        per_table.append((spec.name, tuple(before), tuple(after)))
    closing: list[DataWarning] = []
    for code, table, pairs in ORDERING_RULES:
        if table in present:
            closing += _ordering(conn, code, TABLES[table], pairs)
    if "customers" in present:
        closing += _duplicate_company_names(conn)
    return Survey(present, texts, tables, capabilities, tuple(per_table), tuple(closing), day_counts)


def diagnose(conn: Connection, as_of: date | None = None, surveyed: Survey | None = None, *,
             examples: bool = True) -> DatasetReport:
    """Describe the dataset behind ``conn`` and check its quality.

    ``as_of`` is the day the data is meant to describe; dates after it are flagged (except
    ``FUTURE_ALLOWED`` columns). Today's date is never assumed: when ``as_of`` is ``None`` the latest
    date found in the data is used, the report says so (``as_of_inferred``), and the future-date
    check is skipped because nothing can lie after the latest date.

    ``surveyed``: the data's ``survey`` when already known (a memo keyed on the data's identity) — only the
    future-date check then reads the data, and only in columns whose latest text lies after as_of (a value after as_of
    exists exactly when the column's largest digit-leading text is at least the next day's ISO text).

    ``examples=False``: the future-date findings carry counts only, no example keys (for a caller that drops them,
    e.g. the ``describe_dataset`` tool: listing the smallest keys among the later rows is most of the check's time).
    """
    found = surveyed if surveyed is not None else survey(conn)
    spans = found.spans
    notes: list[str] = []
    inferred = as_of is None
    if inferred:
        as_of = _latest_date(spans)
        notes.append(
            "as-of date not given: using the latest date in the data"
            + (f" ({as_of.isoformat()})" if as_of else " (none found)")
            + "; the future-date check needs an explicit as-of date"
        )
    latest = {key: last for key, (_, last) in found.span_texts}
    counted = {} if examples else dict(found.day_counts)  # the findings' examples need the rows themselves
    warnings: list[DataWarning] = []
    for table, before, after in found.table_findings:
        warnings += before
        if not inferred and as_of is not None:
            warnings += _future_dates(conn, TABLES[table], as_of, latest, examples, counted)
        warnings += after
    warnings += found.closing_findings
    return DatasetReport(as_of, inferred, found.tables, found.capabilities, tuple(warnings), tuple(notes))


# --------------------------------------------------------------------------------------------------
# Tables and dates.
# --------------------------------------------------------------------------------------------------

_IDENTIFIERS = frozenset(TABLES) | frozenset(col.name for spec in TABLES.values() for col in spec.columns)


def _ident(name: str) -> str:
    """Quote a table or column name after checking it is in the schema allowlist."""
    if name not in _IDENTIFIERS:
        raise ValueError(f"{name!r} is not a canonical table or column")
    return f'"{name}"'


def _present_tables(conn: Connection) -> frozenset[str]:
    return frozenset(name for name in conn.tables() if name in TABLES)


Span = tuple[date | None, date | None]
DayCounts = tuple[tuple[str, int], ...]
"""A date column's digit-leading values counted by their first 10 characters (the day of ISO text), in text order."""


def _span_texts(conn: Connection, table_name: str, column_name: str) -> tuple[str | None, str | None]:
    """min/max of the column's digit-leading text (ISO dates sort as text); ``_to_date`` turns a well-formed end into a
    day (a malformed one into ``None``). Malformed values themselves are counted by the ``bad_date_format`` check.
    """
    table, column = _ident(table_name), _ident(column_name)
    first, last = conn.rows(f"SELECT min({column}), max({column}) FROM {table} "
                            f"WHERE {column} >= '0' AND {column} < ':'")[0]
    return (None if first is None else str(first)), (None if last is None else str(last))


def _date_profile(conn: Connection, table_name: str, column_name: str) -> tuple[tuple[str | None, str | None], DayCounts | None]:
    """``_span_texts`` of the column and, on SQLite, its ``DayCounts`` — both from one ``GROUP BY`` of the same rows
    (digit-leading text) by their first 10 characters: the span is the least of the groups' minima and the greatest of
    their maxima (text order, as SQLite compares text). The counts answer every later as_of's future-date check
    (``_future_dates``) without another pass over the column. Other engines: ``_span_texts`` only (None)."""
    if conn.dialect != "sqlite":
        return _span_texts(conn, table_name, column_name), None
    table, column = _ident(table_name), _ident(column_name)
    groups = conn.rows(f"SELECT substr({column}, 1, 10) AS day, count(*), min({column}), max({column}) FROM {table} "
                       f"WHERE {column} >= '0' AND {column} < ':' GROUP BY day")
    if not groups:
        return (None, None), ()
    first = min(str(low) for _, _, low, _ in groups)
    last = max(str(high) for _, _, _, high in groups)
    return (first, last), tuple(sorted((str(day), int(count)) for day, count, _, _ in groups))


def _table_report(conn: Connection, spec: TableSpec, spans: dict[tuple[str, str], Span]) -> TableReport:
    (count,) = conn.rows(f"SELECT count(*) FROM {_ident(spec.name)}")[0]
    first, last = spans.get((spec.name, spec.time_column), (None, None)) if spec.time_column else (None, None)
    return TableReport(spec.name, count, spec.time_column, first, last)


def _to_date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _date_columns(spec: TableSpec) -> tuple[str, ...]:
    return tuple(col.name for col in spec.columns if col.kind in DATE_KINDS)


def _latest_date(spans: dict[tuple[str, str], Span]) -> date | None:
    """The latest day in any date column that records something that already happened (not ``FUTURE_ALLOWED``)."""
    return max((last for key, (_, last) in spans.items() if key not in FUTURE_ALLOWED and last is not None), default=None)


# --------------------------------------------------------------------------------------------------
# Capabilities.
# --------------------------------------------------------------------------------------------------


def _capability(conn: Connection, name: str, rule: CapabilityRule, rows: dict[str, int]) -> Capability:
    computable = any(all(_requirement_met(conn, req, rows) for req in alternative) for alternative in rule.needs)
    return Capability(name, rule.label, computable, rule.describe_needs())


def _requirement_met(conn: Connection, requirement: str, rows: dict[str, int]) -> bool:
    table_name, _, column_name = requirement.partition(".")
    if rows.get(table_name, 0) == 0:
        return False
    if not column_name:
        return True
    table, column = _ident(table_name), _ident(column_name)
    # only text is compared with '': other engines refuse (DuckDB) or null out (Spark) '' cast to a number
    blank = f" AND {column} != ''" if _stored_as_text(table_name, column_name) else ""
    return conn.rows(f"SELECT 1 FROM {table} WHERE {column} IS NOT NULL{blank} LIMIT 1") != []


def _stored_as_text(table: str, column: str) -> bool:
    """Whether canonical ``table.column`` is stored as TEXT (unknown columns count as text)."""
    try:
        return TABLES[table].column(column).kind.sqlite_type == "TEXT"
    except KeyError:
        return True


# --------------------------------------------------------------------------------------------------
# Warnings.
# --------------------------------------------------------------------------------------------------


def _finding(conn: Connection, code: str, spec: TableSpec, column: str | None, where: str,
             params: tuple = (), *, common: bool = False, examples_of: str | None = None, list_examples: bool = True,
             **fields: object) -> list[DataWarning]:
    """Count the rows of ``spec`` matching ``where`` and list up to 3 of their primary keys (smallest first) — or,
    with ``examples_of``, up to 3 distinct values of that column (an orphan's example is the missing id itself).

    Problems are usually rare, so one pass returns the first keys with the total alongside (a window
    count over the matches). For checks that may match much of a table (``common``), a plain count and
    a separate ``LIMIT 3`` query avoid sorting every match; ``list_examples=False`` (with ``common``) skips that query.
    """
    table, pk = _ident(spec.name), _ident(spec.primary_key)
    if examples_of is not None:
        (count,) = conn.rows(f"SELECT count(*) FROM {table} WHERE {where}", params)[0]
        shown = _ident(examples_of)
        rows = conn.rows(f"SELECT DISTINCT {shown} FROM {table} WHERE {where} ORDER BY {shown} LIMIT ?",
                         (*params, EXAMPLE_LIMIT)) if count else []
        examples = tuple(str(value) for (value,) in rows)
    elif common:
        (count,) = conn.rows(f"SELECT count(*) FROM {table} WHERE {where}", params)[0]
        rows = conn.rows(f"SELECT {pk} FROM {table} WHERE {where} ORDER BY {pk} LIMIT ?",
                               (*params, EXAMPLE_LIMIT)) if count and list_examples else []
        examples = tuple(str(key) for (key,) in rows)
    else:
        rows = conn.rows(f"SELECT {pk}, count(*) OVER () FROM {table} WHERE {where} ORDER BY {pk} LIMIT ?",
                               (*params, EXAMPLE_LIMIT))
        count = rows[0][1] if rows else 0
        examples = tuple(str(key) for key, _ in rows)
    if count == 0:
        return []
    return [_warning(code, spec.name, column, count, examples, **fields)]


def _warning(code: str, table: str, column: str | None, count: int, examples: tuple[str, ...], **fields: object) -> DataWarning:
    spec = WARNING_CODES[code]
    message = spec.help.format(column=f"{table}.{column}" if column else table, **fields)
    return DataWarning(code, spec.severity, table, column, count, examples, message)


def _orphans(conn: Connection, spec: TableSpec, present: frozenset[str]) -> list[DataWarning]:
    found: list[DataWarning] = []
    for column_name, target_name in spec.references:
        column = _ident(column_name)
        if target_name not in present:
            where = f"{column} IS NOT NULL"
        else:
            target, target_pk = _ident(target_name), _ident(TABLES[target_name].primary_key)
            where = f"{column} IS NOT NULL AND {column} NOT IN (SELECT {target_pk} FROM {target} WHERE {target_pk} IS NOT NULL)"
        found += _finding(conn, "orphan_reference", spec, column_name, where, examples_of=column_name, target=target_name)
    return found


def _bad_dates(conn: Connection, spec: TableSpec) -> list[DataWarning]:
    found: list[DataWarning] = []
    for column_name in _date_columns(spec):
        column = _ident(column_name)
        found += _finding(conn, "bad_date_format", spec, column_name, f"{column} IS NOT NULL AND {column} NOT GLOB ?", (ISO_DATE_GLOB,))
    return found


def _future_dates(conn: Connection, spec: TableSpec, as_of: date,
                  latest: dict[tuple[str, str], str | None], examples: bool = True,
                  counted: dict[tuple[str, str], DayCounts] | None = None) -> list[DataWarning]:
    """Digit-leading values after ``as_of`` per date column (``future_date``). Without examples, a column whose
    ``DayCounts`` are given is counted from them: a text is at least the next day's ISO text exactly when its first 10
    characters are (ISO text sorts by time), so the days from the next one on hold every later value."""
    found: list[DataWarning] = []
    after = (as_of + timedelta(days=1)).isoformat()
    for column_name in _date_columns(spec):
        if (spec.name, column_name) in FUTURE_ALLOWED or spec.column(column_name).scheduled:
            continue
        last = latest.get((spec.name, column_name), after)
        if last is None or last < after:  # no digit-leading text at all, or none on/after the next day
            continue
        days = (counted or {}).get((spec.name, column_name))
        if days is not None and not examples:
            count = sum(n for day, n in days if day >= after)
            found += [_warning("future_date", spec.name, column_name, count, (), as_of=as_of.isoformat())] if count else []
            continue
        column = _ident(column_name)
        # ISO text sorts by time: a value is after the as-of day when it is >= the next day; `< ':'` keeps
        # digit-leading text only (malformed values are reported by bad_date_format).
        found += _finding(conn, "future_date", spec, column_name, f"{column} >= ? AND {column} < ':'",
                          ((as_of + timedelta(days=1)).isoformat(),), common=True, list_examples=examples,
                          as_of=as_of.isoformat())
    return found


def _value_checks(conn: Connection, spec: TableSpec) -> list[DataWarning]:
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


def _duplicates(conn: Connection, spec: TableSpec, key: tuple[str, ...]) -> list[DataWarning]:
    """Rows repeating an earlier row's ``key`` (the first row of each group, by primary key, is not counted).

    Candidates are first narrowed to groups sharing the key's (customer, time) columns — the pair every
    table indexes — so the per-row check only runs where a duplicate is possible.
    """
    table, pk = _ident(spec.name), _ident(spec.primary_key)
    lead = ", ".join(_ident(c) for c in (spec.customer_column, spec.time_column) if c in key)
    # null-safe equality: SQLite's ``IS`` (uses the index, any SQLite version); the SQL standard's spelling elsewhere
    equal = "IS" if conn.dialect == "sqlite" else "IS NOT DISTINCT FROM"
    same = " AND ".join(f"earlier.{_ident(c)} {equal} {table}.{_ident(c)}" for c in key)
    where = (f"({lead}) IN (SELECT {lead} FROM {table} GROUP BY {lead} HAVING count(*) > 1) "
             f"AND EXISTS (SELECT 1 FROM {table} AS earlier WHERE {same} AND earlier.{pk} < {table}.{pk})")
    return _finding(conn, "duplicate_rows", spec, None, where, key=", ".join(key))


def _ordering(conn: Connection, code: str, spec: TableSpec, pairs: tuple[tuple[str, str], ...]) -> list[DataWarning]:
    backwards = " OR ".join(f"({_ident(a)} IS NOT NULL AND {_ident(b)} IS NOT NULL AND {_ident(a)} > {_ident(b)})" for a, b in pairs)
    column = pairs[0][1] if len(pairs) == 1 else None
    return _finding(conn, code, spec, column, f"({backwards})")


def _duplicate_company_names(conn: Connection) -> list[DataWarning]:
    """Customers whose company name (trimmed, case-insensitive) is shared with another customer."""
    spec = TABLES["customers"]
    name = "lower(trim(company))"
    where = (f"{name} IN (SELECT {name} FROM customers WHERE company IS NOT NULL AND trim(company) != '' "
             f"GROUP BY {name} HAVING count(*) > 1)")
    return _finding(conn, "duplicate_company_name", spec, "company", where)
