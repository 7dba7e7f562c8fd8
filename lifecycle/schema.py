"""The canonical data model: one pydantic model per table, documented in one place.

Every table but ``customers`` is optional, so a B2B SaaS business (leads, subscriptions, events, NPS,
tickets, invoices), a subscription app (subscriptions, events) and an e-commerce shop (orders) all fit.
The models are the single source of truth for column names, types and meanings: the store creates its
SQLite tables from them, the importer types each column by them, and ``docs/data-model.md`` is generated
from them (``lifecycle schema --markdown``).

Column kinds (the ``ColumnKind`` marker in each annotation) tell the importer how to parse text:

- ``id``: kept as text exactly as given (leading zeros and 2^53+ values survive).
- ``text`` / ``category``: free text; a category has an allowed set of values (case-insensitive).
- ``date``: a calendar day, stored ``YYYY-MM-DD``.
- ``datetime``: an instant, stored in UTC as ``YYYY-MM-DDTHH:MM:SS``.
- ``money`` / ``number`` / ``integer`` / ``boolean``: numbers and flags.

Columns a user brings that are not canonical are kept, typed by inference, under the name ``x_<name>``
and are usable later as signals (see ``lifecycle.store.ExtraColumn``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 3
"""1: the canonical tables. 2: every canonical table has a ``_source`` column (the import that wrote each row, for
``lifecycle import --replace --source``); the dataset currency is recorded in ``_meta`` (see ``lifecycle.store``).
3: renewal-aware subscriptions (``term_months``, ``current_period_end``, ``cancel_at_period_end``, ``trial_end``) and
payment attempts on invoices (``attempt_count``)."""


class ColumnKind(StrEnum):
    """How a column's text is parsed and how it is stored in SQLite."""

    ID = "id"
    TEXT = "text"
    CATEGORY = "category"
    DATE = "date"
    DATETIME = "datetime"
    MONEY = "money"
    NUMBER = "number"
    INTEGER = "integer"
    BOOLEAN = "boolean"

    @property
    def sqlite_type(self) -> str:
        """The SQLite column affinity used to store values of this kind."""
        return {
            ColumnKind.MONEY: "REAL",
            ColumnKind.NUMBER: "REAL",
            ColumnKind.INTEGER: "INTEGER",
            ColumnKind.BOOLEAN: "INTEGER",
        }.get(self, "TEXT")


Id = Annotated[str, ColumnKind.ID]
Text = Annotated[str, ColumnKind.TEXT]
Day = Annotated[date, ColumnKind.DATE]
Instant = Annotated[datetime, ColumnKind.DATETIME]
Money = Annotated[float, ColumnKind.MONEY]
Number = Annotated[float, ColumnKind.NUMBER]
Integer = Annotated[int, ColumnKind.INTEGER]
Flag = Annotated[bool, ColumnKind.BOOLEAN]
Category = Annotated[str, ColumnKind.CATEGORY]

LEAD_STATUSES = ("lead", "mql", "sql", "opportunity", "won", "lost")
FAILED_PAYMENT_STATUSES = ("failed", "past_due", "unpaid", "uncollectible", "payment_due", "not_paid", "payment_failed")
"""Invoice statuses (case-insensitive, spaces and hyphens read as ``_``) that record a failed payment: Stripe's
``uncollectible``, Recurly's ``past_due``/``failed``, Chargebee's ``payment_due``/``not_paid``, a generic
``unpaid``/``payment_failed``."""
SCHEDULED: dict[str, Any] = {"scheduled": True}
"""Marks a date planned ahead (a renewal, a trial's end): it may lie after as_of, the as-of view keeps it and
``lifecycle doctor`` does not call it a future date."""
TICKET_PRIORITIES = ("low", "normal", "high", "urgent")
TOUCH_CHANNELS = ("email", "in_app", "sms", "push", "call", "webinar", "other")


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Customer(_Row):
    """A paying (or once-paying) account: the unit every lifecycle metric counts."""

    customer_id: Id = Field(description="Stable account id from the CRM or billing system.")
    signup_date: Day = Field(description="Day the account signed up / became a customer.")
    name: Text | None = Field(None, description="Contact or account display name (untrusted free text).")
    company: Text | None = Field(None, description="Company name (untrusted free text).")
    acquisition_channel: Text | None = Field(None, description="Channel that brought the account (organic, paid_search, partner, referral, ...).")
    segment: Text | None = Field(None, description="Business segment label (SMB, Mid-Market, Enterprise, ...).")
    plan: Text | None = Field(None, description="Current plan / tier name.")
    industry: Text | None = Field(None, description="Industry label.")
    company_size: Text | None = Field(None, description="Company size band (e.g. 1-10, 11-50, 51-200, 201-1000, 1000+).")
    country: Text | None = Field(None, description="Country (ISO code or name).")
    acquisition_cost: Money | None = Field(None, description="Cost to acquire this account (CAC contribution), in the dataset currency.")
    executive_sponsor: Flag | None = Field(None, description="Whether an executive sponsor is known on the customer side.")
    champion: Text | None = Field(None, description="Name of the internal champion, empty when none is known.")


class Lead(_Row):
    """A pre-customer record in the acquisition funnel (lead → MQL → SQL → opportunity → won/lost)."""

    lead_id: Id = Field(description="Lead / contact / deal id.")
    created_at: Day = Field(description="Day the lead was created (entered awareness).")
    source: Text | None = Field(None, description="Lead source / acquisition channel.")
    status: Category | None = Field(None, description="Current funnel status.", json_schema_extra={"allowed": list(LEAD_STATUSES)})
    mql_at: Day | None = Field(None, description="Day the lead became marketing-qualified.")
    sql_at: Day | None = Field(None, description="Day the lead became sales-qualified.")
    opportunity_at: Day | None = Field(None, description="Day an opportunity was opened.")
    won_at: Day | None = Field(None, description="Day the deal was won.")
    lost_at: Day | None = Field(None, description="Day the deal was lost.")
    customer_id: Id | None = Field(None, description="Customer the lead converted into, if any.")
    company: Text | None = Field(None, description="Company name (untrusted free text).")
    segment: Text | None = Field(None, description="Segment label of the lead.")


class Subscription(_Row):
    """A period of recurring revenue; a monthly-revenue export maps to one row per customer-month."""

    subscription_id: Id = Field(description="Subscription (or subscription-item) id.")
    customer_id: Id = Field(description="Owning customer.")
    start_date: Day = Field(description="First day the subscription is active.")
    end_date: Day | None = Field(None, description="First day it is no longer active (exclusive); empty while active.")
    mrr: Money = Field(description="Monthly recurring revenue while active, normalised to a month (>= 0).")
    plan: Text | None = Field(None, description="Plan name.")
    seats: Integer | None = Field(None, description="Licensed seats.")
    status: Text | None = Field(None, description="Source-system status (active, canceled, trialing, ...).")
    term_months: Number | None = Field(
        None, ge=0, description="Renewal term in months: how long one billing period or contract commits the customer before "
        "it renews or may end — 1 month-to-month, 12 annual, 24 a two-year contract (Stripe: Interval × Interval Count; "
        "a CRM's contract type). Empty or 0: no known term.")
    current_period_end: Day | None = Field(
        None, description="End of the current term, the next renewal day (Stripe Current Period End; a contract's end "
        "date). Kept when it lies after as_of; rolled by whole terms to the first renewal after as_of.",
        json_schema_extra=SCHEDULED)
    cancel_at_period_end: Flag | None = Field(
        None, description="Auto-renew is off: the subscription ends at the end of its current term instead of renewing "
        "(Stripe Cancel At Period End; an export's auto_renew = false). Read as exported.")
    trial_end: Day | None = Field(
        None, description="Last day of a free trial (Stripe Trial End): the customer has not paid yet before it.",
        json_schema_extra=SCHEDULED)


class Order(_Row):
    """A one-off purchase (non-contractual businesses)."""

    order_id: Id = Field(description="Order / invoice id.")
    customer_id: Id = Field(description="Buying customer.")
    ordered_at: Instant = Field(description="When the order was placed.")
    amount: Money = Field(description="Order value (>= 0; refunds are separate rows with status 'refunded').")
    status: Text | None = Field(None, description="Order status (completed, refunded, ...).")


class Event(_Row):
    """A product-usage event."""

    event_id: Id = Field(description="Event id; derived from the row's content when the export has none.")
    customer_id: Id = Field(description="Customer (account) the event belongs to.")
    occurred_at: Instant = Field(description="When the event happened.")
    event_name: Text = Field(description="Event name, e.g. login, report_created, integration_connected.")
    quantity: Number | None = Field(None, description="Units of usage carried by the event (default 1).")
    user_id: Id | None = Field(None, description="End user within the account, when known.")


class NpsResponse(_Row):
    """An answer to 'How likely are you to recommend us?' on a 0–10 scale."""

    response_id: Id = Field(description="Survey response id; derived from content when absent.")
    customer_id: Id = Field(description="Responding customer.")
    responded_at: Day = Field(description="Day of the response.")
    score: Integer = Field(description="Score 0–10 (promoter 9–10, passive 7–8, detractor 0–6).", ge=0, le=10)
    comment: Text | None = Field(None, description="Verbatim comment (untrusted free text).")


class Ticket(_Row):
    """A support ticket."""

    ticket_id: Id = Field(description="Ticket id.")
    customer_id: Id = Field(description="Customer who opened it.")
    opened_at: Instant = Field(description="When it was opened.")
    closed_at: Instant | None = Field(None, description="When it was closed; empty while open.")
    priority: Category | None = Field(None, description="Priority.", json_schema_extra={"allowed": list(TICKET_PRIORITIES)})
    csat: Integer | None = Field(None, description="Satisfaction rating 1–5 given at close.", ge=1, le=5)
    subject: Text | None = Field(None, description="Subject line (untrusted free text).")


class Referral(_Row):
    """A referral from an existing customer to a new lead or customer."""

    referral_id: Id = Field(description="Referral id.")
    referrer_customer_id: Id = Field(description="Customer who referred.")
    referred_at: Day = Field(description="Day of the referral.")
    referred_lead_id: Id | None = Field(None, description="Lead created by the referral.")
    referred_customer_id: Id | None = Field(None, description="Customer the referral converted into.")


class Invoice(_Row):
    """An invoice and its payment."""

    invoice_id: Id = Field(description="Invoice id.")
    customer_id: Id = Field(description="Billed customer.")
    issued_at: Day = Field(description="Issue day.")
    due_date: Day = Field(description="Payment due day.")
    amount: Money = Field(description="Invoice amount.")
    paid_at: Day | None = Field(None, description="Day paid; empty while unpaid.")
    status: Text | None = Field(None, description="Source-system status (paid, open, void, uncollectible). Statuses that "
                                "record a failed payment: " + ", ".join(FAILED_PAYMENT_STATUSES) + ".")
    attempt_count: Integer | None = Field(
        None, ge=0, description="Payment attempts made (Stripe Attempt Count): every attempt but the one that paid the "
        "invoice failed (a card declined, dunning retries).")


class Touch(_Row):
    """An engagement touch: a message sent, and whether it was opened and clicked."""

    touch_id: Id = Field(description="Message id.")
    customer_id: Id = Field(description="Recipient customer.")
    sent_at: Instant = Field(description="When it was sent.")
    channel: Category = Field(description="Channel.", json_schema_extra={"allowed": list(TOUCH_CHANNELS)})
    campaign: Text | None = Field(None, description="Campaign / sequence name.")
    opened_at: Instant | None = Field(None, description="First open, if any.")
    clicked_at: Instant | None = Field(None, description="First click, if any.")


@dataclass(frozen=True)
class Column:
    """One canonical column, derived from a model field."""

    name: str
    kind: ColumnKind
    required: bool
    description: str
    allowed: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    scheduled: bool = False  # a date planned ahead (renewal, trial end): kept by the as-of view, never a "future date"


@dataclass(frozen=True)
class PartialIndex:
    """An index over the rows ``condition`` keeps (SQLite's partial index): a statement uses it only when its own WHERE
    clause carries that same term, so no other statement changes plan (or the order of rows it returns unordered)."""

    columns: tuple[str, ...]
    condition: str  # SQL over the table's own columns, identifiers from the schema only
    tag: str  # names the index: idx_<table>_<columns>_<tag>

    def name(self, table: str) -> str:
        """The index's name in ``table``."""
        return f"idx_{table}_{'_'.join(self.columns)}_{self.tag}"

    def create_sql(self, table: str) -> str:
        """``CREATE INDEX IF NOT EXISTS`` of this index on ``table``."""
        columns = ", ".join(f'"{column}"' for column in self.columns)
        return f'CREATE INDEX IF NOT EXISTS "{self.name(table)}" ON "{table}" ({columns}) WHERE {self.condition}'


@dataclass(frozen=True)
class TableSpec:
    """A canonical table: its model, key, time column and the columns indexed with the customer."""

    name: str
    model: type[_Row]
    primary_key: str
    description: str
    time_column: str | None = None
    customer_column: str | None = "customer_id"
    derived_key: bool = True  # key may be computed from the row's content when the export lacks it (all but customers)
    repeats_are_distinct: bool = False  # identical rows in one file are separate records (two equal purchases), not copies
    references: tuple[tuple[str, str], ...] = ()  # (column, table) links checked by `lifecycle doctor`
    covering_indexes: tuple[tuple[str, ...], ...] = ()  # extra indexes that let a per-customer aggregate read no table row
    partial_indexes: tuple[PartialIndex, ...] = ()  # extra indexes over the rows one condition keeps (``PartialIndex``)

    def index_names(self) -> tuple[str, ...]:
        """Names of the extra indexes every write creates (``covering_indexes`` named as sqlite-utils names them,
        then ``partial_indexes``)."""
        return (*(f"idx_{self.name}_{'_'.join(columns)}" for columns in self.covering_indexes),
                *(index.name(self.name) for index in self.partial_indexes))

    @property
    def columns(self) -> tuple[Column, ...]:
        """The canonical columns in declaration order."""
        return tuple(_column(name, info) for name, info in self.model.model_fields.items())

    def column(self, name: str) -> Column:
        """The canonical column called ``name`` (KeyError when there is none)."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)


def _column(name: str, info: Any) -> Column:
    annotation = info.annotation
    required = info.is_required()
    kind = _kind_of(annotation) or _kind_from_metadata(info.metadata)
    if kind is None:
        raise TypeError(f"field {name!r} has no ColumnKind marker")
    extra = info.json_schema_extra or {}
    minimum = maximum = None
    for meta in info.metadata:
        minimum = getattr(meta, "ge", minimum)
        maximum = getattr(meta, "le", maximum)
    return Column(
        name=name,
        kind=kind,
        required=required,
        description=info.description or "",
        allowed=tuple(extra.get("allowed", ())),
        minimum=minimum,
        maximum=maximum,
        scheduled=bool(extra.get("scheduled", False)),
    )


def _kind_of(annotation: Any) -> ColumnKind | None:
    if get_origin(annotation) is Annotated:
        for meta in get_args(annotation)[1:]:
            if isinstance(meta, ColumnKind):
                return meta
    for arg in get_args(annotation):
        found = _kind_of(arg)
        if found is not None:
            return found
    return None


def _kind_from_metadata(metadata: list[Any]) -> ColumnKind | None:
    for meta in metadata:
        if isinstance(meta, ColumnKind):
            return meta
    return None


TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec("customers", Customer, "customer_id", "Accounts.", time_column="signup_date", customer_column=None,
                  derived_key=False),
        TableSpec("leads", Lead, "lead_id", "Pre-customer funnel records.", time_column="created_at", customer_column="customer_id",
                  references=(("customer_id", "customers"),)),
        TableSpec("subscriptions", Subscription, "subscription_id", "Recurring revenue periods (MRR).", time_column="start_date",
                  repeats_are_distinct=True, references=(("customer_id", "customers"),),
                  # each customer's latest subscription naming a plan (lifecycle.filters.plan_sql): a seek in index order
                  partial_indexes=(PartialIndex(("customer_id", "start_date", "subscription_id", "plan"), "\"plan\" <> ''",
                                                "named"),)),
        TableSpec("orders", Order, "order_id", "One-off purchases.", time_column="ordered_at", repeats_are_distinct=True,
                  references=(("customer_id", "customers"),)),
        TableSpec("events", Event, "event_id", "Product-usage events.", time_column="occurred_at",
                  references=(("customer_id", "customers"),),
                  # per customer and event name: counts, first and last times (name_summary, milestones) in index order
                  covering_indexes=(("customer_id", "event_name", "occurred_at"),)),
        TableSpec("nps_responses", NpsResponse, "response_id", "NPS survey answers.", time_column="responded_at",
                  references=(("customer_id", "customers"),)),
        TableSpec("tickets", Ticket, "ticket_id", "Support tickets.", time_column="opened_at",
                  references=(("customer_id", "customers"),)),
        TableSpec("referrals", Referral, "referral_id", "Customer referrals.", time_column="referred_at",
                  customer_column="referrer_customer_id",
                  references=(("referrer_customer_id", "customers"), ("referred_customer_id", "customers"), ("referred_lead_id", "leads"))),
        TableSpec("invoices", Invoice, "invoice_id", "Invoices and payments.", time_column="due_date", repeats_are_distinct=True,
                  references=(("customer_id", "customers"),)),
        TableSpec("touches", Touch, "touch_id", "Engagement touches (email sent/open/click, in-app, ...).", time_column="sent_at",
                  references=(("customer_id", "customers"),)),
    )
}


def table_spec(name: str) -> TableSpec:
    """The spec of canonical table ``name``; raises ``UnknownTableError`` listing the valid names."""
    from lifecycle.errors import UnknownTableError

    try:
        return TABLES[name]
    except KeyError:
        raise UnknownTableError(name, tuple(TABLES)) from None


def data_model_markdown() -> str:
    """The data-model reference (``docs/data-model.md``), generated from the models."""
    lines = ["# Data model", "", f"Schema version {SCHEMA_VERSION}. Generated by `lifecycle schema --markdown`; do not edit by hand.", ""]
    lines.append("No table is required: each one unlocks the metrics that need it (`lifecycle doctor` says which). Most metrics "
                 "count customers, so bring `customers` — or create them from an order or event log with `lifecycle import "
                 "--derive-customers`. Columns you bring that are not listed are kept as `x_<name>` and typed by inference. "
                 "Every table also has the bookkeeping column `_source` (the import that last wrote the row); the dataset "
                 "currency of the money columns is recorded in `_meta` (see docs/importing.md).")
    lines.append("")
    for spec in TABLES.values():
        lines += [f"## `{spec.name}`", "", spec.description + " " + (spec.model.__doc__ or "").strip(), ""]
        derived = (" (derived from the row's content when absent; identical rows are separate records)" if spec.repeats_are_distinct
                   else " (derived from the row's content when absent)")
        lines.append(f"Primary key: `{spec.primary_key}`" + (derived if spec.derived_key else "")
                     + (f"; time column: `{spec.time_column}`" if spec.time_column else ""))
        lines += ["", "| column | kind | required | meaning |", "|---|---|---|---|"]
        for col in spec.columns:
            meaning = col.description + (f" Allowed: {', '.join(col.allowed)}." if col.allowed else "")
            lines.append(f"| `{col.name}` | {col.kind.value} | {'yes' if col.required else ''} | {meaning} |")
        lines.append("")
    return "\n".join(lines)
