"""The acquisition funnel: leads moving lead → mql → sql → opportunity → won / lost, with increasing dates.

Three kinds of lead make up exactly ``TOTAL_LEADS`` rows:

- the won lead of each non-referral customer, laid out backwards from its signup day (gaps squeezed
  proportionally when the funnel would start before the window);
- one lead per referral, created on the referral day; won on the referred customer's signup day when the
  referral converted, otherwise progressing and dropping out like any other lead (referral leads progress
  further);
- the remaining non-converting leads, created on a rising density across the window.

A non-converting lead reaches each next stage with the probabilities below; an opportunity that does not
convert is lost, and half the leads that stall earlier are closed as lost (disqualified). Any stage that
would fall after the data end has not happened yet: its date is empty and the status is the last stage
reached. Every status date is at least one day after the previous one, except for squeezed early funnels
(same-day stages are allowed there).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from data import names
from data import params as P
from data.accounts import STREAM_LEADS, Account, growing_days, stream
from data.calendar import LAST_DAY
from data.population import Population

STAGES = ("lead", "mql", "sql", "opportunity")
STAGE_GAP_MEAN = (6.0, 10.0, 8.0, 20.0)  # days: created→mql, mql→sql, sql→opportunity, opportunity→close
SEGMENT_CYCLE = {"SMB": 1.0, "Mid-Market": 1.4, "Enterprise": 2.0}  # sales-cycle length multiplier
PROGRESS_P = {"open": (0.60, 0.50, 0.50), "referral": (0.85, 0.70, 0.60)}  # P(mql), P(sql | mql), P(opp | sql)
OPEN_LEAD_CHANNELS = (("paid_search", 0.30), ("paid_social", 0.25), ("organic", 0.20), ("outbound", 0.15),
                      ("partner", 0.10))


@dataclass(frozen=True)
class LeadRow:
    created: int
    source: str
    status: str
    stage_days: tuple[int | None, int | None, int | None]  # mql, sql, opportunity
    won: int | None
    lost: int | None
    account: int | None  # key of the account it became
    referral: int | None  # key of the referral that created it
    company: str
    segment: str


def generate_leads(population: Population) -> list[LeadRow]:
    """Every lead, sorted by (created day, account key or referral key), ready to be numbered."""
    rng = stream(STREAM_LEADS)
    accounts = population.accounts
    leads = [_won_backwards(a, rng) for a in accounts if a.channel != "referral"]
    for referral in population.referrals:
        if referral.customer is not None:
            leads.append(_won_referral(accounts[referral.customer], referral.key, referral.day, rng))
        else:
            segment = P.SEGMENTS[int(rng.choice(3, p=P.SEGMENT_WEIGHTS["referral"]))]
            leads.append(_open_lead(referral.day, "referral", names.company(rng), segment, "referral", rng,
                                    referral=referral.key))
    remaining = P.TOTAL_LEADS - len(leads)
    for created in np.sort(growing_days(rng, remaining)):
        source = names.weighted(rng, OPEN_LEAD_CHANNELS)
        segment = P.SEGMENTS[int(rng.choice(3, p=P.SEGMENT_WEIGHTS[source]))]
        leads.append(_open_lead(int(created), source, names.company(rng), segment, "open", rng))
    return sorted(leads, key=_lead_order)


def _lead_order(lead: LeadRow) -> tuple[int, int, int, int]:
    """Created day, then customers' leads (by account), then referral leads, then the rest in draw order."""
    if lead.account is not None:
        return (lead.created, 0, lead.account, 0)
    return (lead.created, 1 if lead.referral is not None else 2, lead.referral if lead.referral is not None else 0, 0)


def _gaps(rng: np.random.Generator, segment: str) -> np.ndarray:
    return 1.0 + rng.exponential(np.array(STAGE_GAP_MEAN) * SEGMENT_CYCLE[segment])


def _won_backwards(account: Account, rng: np.random.Generator) -> LeadRow:
    gaps = _gaps(rng, account.segment)
    total = gaps.sum()
    if total > account.signup:  # the funnel would start before the window: squeeze it in
        gaps *= account.signup / total
    after = np.concatenate([np.cumsum(gaps[::-1])[::-1], [0.0]])  # days from each stage to the win
    created, mql, sql, opp, won = (account.signup - int(np.floor(x)) for x in after)
    return LeadRow(created, account.channel, "won", (mql, sql, opp), won, None, account.key, None,
                   account.company, account.segment)


def _won_referral(account: Account, referral: int, day: int, rng: np.random.Generator) -> LeadRow:
    mql, sql, opp = sorted(int(d) for d in rng.choice(np.arange(day + 1, account.signup), size=3, replace=False))
    return LeadRow(day, "referral", "won", (mql, sql, opp), account.signup, None, account.key, referral,
                   account.company, account.segment)


def _open_lead(created: int, source: str, company: str, segment: str, kind: str, rng: np.random.Generator,
               referral: int | None = None) -> LeadRow:
    gaps = _gaps(rng, segment)
    reached = 0
    for p in PROGRESS_P[kind]:
        if rng.random() >= p:
            break
        reached += 1
    days = created + np.floor(np.cumsum(gaps)).astype(int)  # mql, sql, opportunity, close
    stage_days: list[int | None] = [int(d) if i < reached else None for i, d in enumerate(days[:3])]
    last = created if reached == 0 else int(days[reached - 1])
    lost: int | None = None
    if reached == 3 or rng.random() < 0.5:
        lost = last + 1 + int(rng.exponential(25.0 if reached == 3 else 30.0))
    stage_days = [d if d is not None and d <= LAST_DAY else None for d in stage_days]
    lost = lost if lost is not None and lost <= LAST_DAY else None
    status = "lost" if lost is not None else STAGES[sum(d is not None for d in stage_days)]
    return LeadRow(created, source, status, tuple(stage_days), None, lost, None, referral, company, segment)
