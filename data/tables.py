"""Turn the simulated population into the canonical tables of ``lifecycle.schema``: ids, text dates, row order.

Ids are assigned in a fixed order so the same population always yields the same rows: customers by
(signup day, account key) as ``C00001…``; every per-customer table by (customer, time) so its rows sit in the
order of the store's ``(customer_id, time)`` index; leads by created day; referrals by (day, key).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from data import names
from data import params as P
from data.accounts import STREAM_TOUCHES, Account, stream
from data.calendar import instants_iso, to_date
from data.engagement import CAMPAIGN_KEYS, TouchColumns, generate_touches
from data.funnel import LeadRow, generate_leads
from data.lifecycle_sim import nps_category
from data.population import Population
from data.usage import EVENT_NAMES, EventColumns, generate_events
from lifecycle.schema import TABLES

ADVERSARIAL_COMPANY_KEYS = (7, 101, 333, 512, 777, 1024)  # base account keys given ADVERSARIAL_COMPANIES
ADVERSARIAL_NAME_KEYS = (12, 250, 901)  # … and ADVERSARIAL_NAMES (the second one is also a champion)
ADVERSARIAL_NPS_ROW = 100  # 0-based row of nps_responses whose comment is ADVERSARIAL_NPS_COMMENT
NO_RENEWAL_TERMS = (None, None, None, None)
"""term_months, current_period_end, cancel_at_period_end, trial_end: the demo's subscriptions carry no renewal terms
(its churn does not depend on them), so these stay empty and health excludes their signals."""
ADVERSARIAL_TICKET_ROW = 50  # 0-based row of tickets whose subject is ADVERSARIAL_TICKET_SUBJECT


@dataclass(frozen=True)
class Table:
    """One canonical table's rows, as tuples in the order of ``columns`` (the schema's column order).

    ``rows`` of the events table is a one-shot iterator (it is produced lazily); the others are lists.
    """

    name: str
    columns: tuple[str, ...]
    rows: Sequence[tuple[Any, ...]] | Iterable[tuple[Any, ...]]
    count: int


def plant_adversarial_text(accounts: list[Account]) -> None:
    """Put the documented adversarial names and companies on their fixed accounts (in place)."""
    for key, text in zip(ADVERSARIAL_COMPANY_KEYS, names.ADVERSARIAL_COMPANIES, strict=True):
        accounts[key].company = text
    for key, text in zip(ADVERSARIAL_NAME_KEYS, names.ADVERSARIAL_NAMES, strict=True):
        accounts[key].name = text
    accounts[ADVERSARIAL_NAME_KEYS[1]].champion = names.ADVERSARIAL_NAMES[1]


def build_tables(population: Population) -> list[Table]:
    """All canonical tables of the demo, in the order they are written."""
    accounts = sorted(population.accounts, key=lambda a: (a.signup, a.key))
    position = {a.key: i for i, a in enumerate(accounts)}
    ids = [f"C{i + 1:05d}" for i in range(len(accounts))]
    leads = generate_leads(population)
    lead_ids = [f"L{i + 1:05d}" for i in range(len(leads))]
    text_rng = stream(STREAM_TOUCHES, 1)
    return [
        _customers(accounts, population, ids),
        _leads(leads, lead_ids, position, ids),
        _subscriptions(accounts, population, ids),
        _events(generate_events(population.accounts, population.histories, position), ids),
        _nps(accounts, population, ids, text_rng),
        _tickets(accounts, population, ids, text_rng),
        _referrals(population, leads, lead_ids, position, ids),
        _invoices(accounts, population, ids),
        _touches(generate_touches(population.accounts, population.histories, position), ids),
    ]


def _table(name: str, rows: list[tuple[Any, ...]]) -> Table:
    return Table(name, tuple(c.name for c in TABLES[name].columns), rows, len(rows))


def _day(day: int | None) -> str | None:
    return None if day is None else to_date(day).isoformat()


def _instant(day: int | None, second: int | None) -> str | None:
    if day is None or second is None:
        return None
    return f"{to_date(day).isoformat()}T{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}"


def _customers(accounts: list[Account], population: Population, ids: list[str]) -> Table:
    rows = []
    for cid, a in zip(ids, accounts, strict=True):
        plan = population.histories[a.key].subscriptions[-1].plan
        rows.append((cid, _day(a.signup), a.name, a.company, a.channel, a.segment, plan, a.industry, a.company_size,
                     a.country, a.acquisition_cost, int(a.executive_sponsor), a.champion))
    return _table("customers", rows)


def _leads(leads: list[LeadRow], lead_ids: list[str], position: dict[int, int], ids: list[str]) -> Table:
    rows = []
    for lid, lead in zip(lead_ids, leads, strict=True):
        mql, sql, opp = lead.stage_days
        customer = None if lead.account is None else ids[position[lead.account]]
        rows.append((lid, _day(lead.created), lead.source, lead.status, _day(mql), _day(sql), _day(opp),
                     _day(lead.won), _day(lead.lost), customer, lead.company, lead.segment))
    return _table("leads", rows)


def _subscriptions(accounts: list[Account], population: Population, ids: list[str]) -> Table:
    rows = []
    for cid, a in zip(ids, accounts, strict=True):
        for sub in population.histories[a.key].subscriptions:
            rows.append((f"S{len(rows) + 1:05d}", cid, _day(sub.start), _day(sub.end), sub.mrr, sub.plan, sub.seats,
                         sub.status, *NO_RENEWAL_TERMS))
    return _table("subscriptions", rows)


def _invoices(accounts: list[Account], population: Population, ids: list[str]) -> Table:
    rows = []
    for cid, a in zip(ids, accounts, strict=True):
        for inv in population.histories[a.key].invoices:
            rows.append((f"INV-{len(rows) + 1:06d}", cid, _day(inv.issued), _day(inv.due), inv.amount, _day(inv.paid),
                         inv.status, None))  # attempt_count: the demo does not simulate payment attempts
    return _table("invoices", rows)


def _nps(accounts: list[Account], population: Population, ids: list[str], rng: np.random.Generator) -> Table:
    rows = []
    for cid, a in zip(ids, accounts, strict=True):
        for day, score in population.histories[a.key].nps:
            comment = None
            if rng.random() < P.NPS_COMMENT_P:
                options = names.NPS_COMMENTS[nps_category(score)]
                comment = options[int(rng.integers(len(options)))]
            if len(rows) == ADVERSARIAL_NPS_ROW:
                comment = names.ADVERSARIAL_NPS_COMMENT
            rows.append((f"N{len(rows) + 1:05d}", cid, _day(day), score, comment))
    return _table("nps_responses", rows)


def _tickets(accounts: list[Account], population: Population, ids: list[str], rng: np.random.Generator) -> Table:
    rows = []
    for cid, a in zip(ids, accounts, strict=True):
        for t in sorted(population.histories[a.key].tickets, key=lambda t: (t.opened_day, t.opened_second)):
            subject = names.TICKET_SUBJECTS[int(rng.integers(len(names.TICKET_SUBJECTS)))]
            if len(rows) == ADVERSARIAL_TICKET_ROW:
                subject = names.ADVERSARIAL_TICKET_SUBJECT
            rows.append((f"T{len(rows) + 1:05d}", cid, _instant(t.opened_day, t.opened_second),
                         _instant(t.closed_day, t.closed_second), t.priority, t.csat, subject))
    return _table("tickets", rows)


def _referrals(population: Population, leads: list[LeadRow], lead_ids: list[str], position: dict[int, int],
               ids: list[str]) -> Table:
    lead_of = {lead.referral: lid for lid, lead in zip(lead_ids, leads, strict=True) if lead.referral is not None}
    rows = []
    for r in sorted(population.referrals, key=lambda r: (r.day, r.key)):
        referred = None if r.customer is None else ids[position[r.customer]]
        rows.append((f"R{len(rows) + 1:05d}", ids[position[r.referrer]], _day(r.day), lead_of[r.key], referred))
    return _table("referrals", rows)


def _events(ev: EventColumns, ids: list[str], chunk: int = 100_000) -> Table:
    """Event rows, produced lazily in chunks: text for 1.2M rows at once would cost ~0.5 GB of memory."""
    customer_text = np.array(ids, dtype=object)
    user_text = np.array([f"u{j:02d}" for j in range(int(ev.user.max()) + 1)], dtype=object)
    event_text = np.array(EVENT_NAMES, dtype=object)

    def rows() -> Iterator[tuple[Any, ...]]:
        for start in range(0, len(ev), chunk):
            part = slice(start, start + chunk)
            customer = customer_text[ev.customer[part]]
            yield from zip(
                [f"E{i + 1:08d}" for i in range(start, min(start + chunk, len(ev)))],
                customer.tolist(),
                instants_iso(ev.day[part], ev.second[part]).tolist(),
                event_text[ev.event[part]].tolist(),
                ev.quantity[part].astype(float).tolist(),
                (customer + "-" + user_text[ev.user[part]]).tolist(),
                strict=True,
            )

    return Table("events", tuple(c.name for c in TABLES["events"].columns), rows(), len(ev))


def _touches(tc: TouchColumns, ids: list[str]) -> Table:
    n = len(tc)
    day, second = np.divmod(tc.sent, 86_400)
    opened = np.where(tc.opened < 0, -86_400, tc.opened)
    clicked = np.where(tc.clicked < 0, -86_400, tc.clicked)
    columns = (
        [f"M{i + 1:06d}" for i in range(n)],
        np.array(ids, dtype=object)[tc.customer].tolist(),
        instants_iso(day, second).tolist(),
        np.array(["email", "in_app"], dtype=object)[tc.channel].tolist(),
        np.array([names.CAMPAIGNS[k] for k in CAMPAIGN_KEYS], dtype=object)[tc.campaign].tolist(),
        instants_iso(*np.divmod(opened, 86_400)).tolist(),
        instants_iso(*np.divmod(clicked, 86_400)).tolist(),
    )
    return Table("touches", tuple(c.name for c in TABLES["touches"].columns), list(zip(*columns, strict=True)), n)


def check_columns(tables: list[Table]) -> None:
    """Every table names exactly the schema's columns (guards against a schema change going unnoticed)."""
    for table in tables:
        expected = tuple(c.name for c in TABLES[table.name].columns)
        if table.columns != expected:
            raise RuntimeError(f"demo table {table.name} has columns {table.columns}, schema has {expected}")

