"""One account's life, billing period by billing period: invoices, tickets, NPS, churn, expansion, return.

``simulate(account)`` walks the account's monthly billing periods from signup to the data end. In each period
it issues an invoice (paid on time or late), opens support tickets, sends any NPS survey that falls due,
and at the period's end decides — with the hazards in ``data.params`` — whether the customer cancels,
expands, contracts or renews unchanged. A cancelled customer may come back after a gap (reactivation).

Subscription rows follow the convention of ``lifecycle.schema.Subscription``: every plan or seat change
closes the current row (``end_date`` = first day of the new terms) and opens a new one on the same day;
a cancellation closes the row with no follow-on; the row active at the data end has no ``end_date``.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from data import params as P
from data.accounts import STREAM_LIFE, Account, sigmoid, stream
from data.calendar import LAST_DAY, billing_day


@dataclass(frozen=True)
class SubscriptionRow:
    start: int
    end: int | None
    plan: str
    seats: int
    status: str

    @property
    def mrr(self) -> float:
        """Monthly recurring revenue: seat price of the plan × seats."""
        return round(P.PLAN_SEAT_PRICE[self.plan] * self.seats, 2)


@dataclass(frozen=True)
class InvoiceRow:
    issued: int
    due: int
    amount: float
    paid: int | None
    status: str

    @property
    def late(self) -> bool:
        """Paid after the due day, or not paid at all."""
        return self.paid is None or self.paid > self.due


@dataclass(frozen=True)
class TicketRow:
    opened_day: int
    opened_second: int
    closed_day: int | None
    closed_second: int | None
    priority: str
    csat: int | None


@dataclass
class History:
    """What happened to one account, in time order within each list."""

    subscriptions: list[SubscriptionRow] = field(default_factory=list)
    invoices: list[InvoiceRow] = field(default_factory=list)
    tickets: list[TicketRow] = field(default_factory=list)
    survey_days: list[int] = field(default_factory=list)  # every NPS survey sent
    nps: list[tuple[int, int]] = field(default_factory=list)  # (day, score) of each answer
    referral_days: list[int] = field(default_factory=list)
    churn_days: list[int] = field(default_factory=list)  # end_date of each cancellation
    seat_additions: list[tuple[int, int]] = field(default_factory=list)  # (day, seats added)

    def active_ranges(self) -> list[tuple[int, int]]:
        """Merged [start, end) day ranges with an active subscription, clipped to the window."""
        ranges: list[tuple[int, int]] = []
        for sub in self.subscriptions:
            end = LAST_DAY + 1 if sub.end is None else sub.end
            if ranges and ranges[-1][1] == sub.start:
                ranges[-1] = (ranges[-1][0], end)
            else:
                ranges.append((sub.start, end))
        return ranges


def nps_category(score: int) -> str:
    """Promoter 9–10, passive 7–8, detractor 0–6 (Reichheld 2003, the seed's NPS definition)."""
    return "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"


class _Life:
    """The mutable state of one account while it is simulated."""

    def __init__(self, account: Account) -> None:
        self.a = account
        self.rng = stream(STREAM_LIFE, account.key)
        self.h = History()
        self.plan, self.seats = account.plan, account.seats
        self.term_start = account.signup  # start of the current subscription row
        self.late = deque(maxlen=3)
        self.bad_ticket_days: list[int] = []
        self.next_survey = account.signup + P.NPS_FIRST_SURVEY_DAY + int(self.rng.integers(-7, 8))

    # --- one billing period ------------------------------------------------------------------------------
    def invoice(self, issued: int) -> None:
        rng = self.rng
        due = issued + P.DUE_DAYS
        if rng.random() < self.a.late_propensity:
            paid = due + int(rng.integers(P.LATE_DAYS[0], P.LATE_DAYS[1] + 1))
        else:
            paid = issued + int(rng.integers(0, P.DUE_DAYS - 1))
        amount = round(P.PLAN_SEAT_PRICE[self.plan] * self.seats, 2)
        row = InvoiceRow(issued, due, amount, paid if paid <= LAST_DAY else None, "paid" if paid <= LAST_DAY else "open")
        self.h.invoices.append(row)
        self.late.append(paid > due)

    def tickets(self, start: int, stop: int) -> None:
        rng, a = self.rng, self.a
        rate = P.TICKET_RATE[a.segment] * math.exp(-0.3 * a.z) * (stop - start) / 30.0
        labels = [p for p, _ in P.TICKET_PRIORITIES]
        weights = np.array([w for _, w in P.TICKET_PRIORITIES])
        for _ in range(int(rng.poisson(rate))):
            day = int(rng.integers(start, stop))
            second = int(rng.integers(8 * 3600, 18 * 3600))
            priority = labels[int(rng.choice(4, p=weights))]
            hours = P.TICKET_HOURS_TO_CLOSE[priority] * float(rng.lognormal(0.0, 0.9))
            closed_at = day * 86_400 + second + int(hours * 3600)
            closed_day, closed_second = divmod(closed_at, 86_400)
            csat = None
            if closed_day > LAST_DAY:
                closed_day = closed_second = None
            elif rng.random() < P.TICKET_CSAT_P:
                urgent = priority in ("high", "urgent")
                csat = int(np.clip(round(P.TICKET_CSAT_MEAN + 0.6 * a.z - 0.5 * urgent + 0.9 * rng.normal()), 1, 5))
                if csat <= 2:
                    self.bad_ticket_days.append(closed_day)
            self.h.tickets.append(TicketRow(day, second, closed_day, closed_second, priority, csat))

    def surveys(self, stop: int) -> None:
        rng, a = self.rng, self.a
        while self.next_survey < stop:
            day = self.next_survey
            self.next_survey += P.NPS_INTERVAL_DAYS + int(rng.integers(-14, 15))
            if day < self.term_start:
                continue
            self.h.survey_days.append(day)
            if rng.random() >= P.NPS_RESPONSE_P:
                continue
            bad = any(day - 90 <= d <= day for d in self.bad_ticket_days)
            raw = (P.NPS_MEAN + P.NPS_Z * a.z + P.NPS_FAST * a.fast + P.NPS_HEAVY * a.heavy
                   - P.NPS_BAD_TICKET * bad + P.NPS_NOISE * rng.normal())
            score = int(np.clip(round(raw), 0, 10))
            self.h.nps.append((day, score))
            self.refer(day, nps_category(score))

    def refer(self, day: int, category: str) -> None:
        rng = self.rng
        if rng.random() >= P.REFERRAL_P[category]:
            return
        count = 1 + int(rng.random() < P.REFERRAL_SECOND_P)
        for _ in range(count):
            referred = day + int(rng.integers(1, 61))
            if referred <= LAST_DAY:
                self.h.referral_days.append(referred)

    # --- decisions at a period's end -----------------------------------------------------------------------
    def churn_rate(self, boundary: int, months: int) -> float:
        """Monthly cancellation rate: base(segment) × tenure factor × exp(Σ coefficient × signal)."""
        a = self.a
        log_rate = (P.CHURN_Z * a.z + P.CHURN_FAST_ACTIVATION * a.fast
                    + P.CHURN_SPONSOR * a.executive_sponsor + P.CHURN_CHAMPION * (a.champion is not None))
        recent = [score for day, score in self.h.nps if boundary - P.NPS_MEMORY_DAYS <= day <= boundary]
        if recent:
            category = nps_category(recent[-1])
            log_rate += P.CHURN_DETRACTOR * (category == "detractor") + P.CHURN_PROMOTER * (category == "promoter")
        log_rate += P.CHURN_LATE_PAYMENT * any(self.late)
        log_rate += P.CHURN_BAD_TICKET * any(boundary - 90 <= d <= boundary for d in self.bad_ticket_days)
        tenure = next((m for limit, m in P.CHURN_TENURE if months <= limit), 1.0)
        return P.CHURN_BASE[a.segment] * tenure * math.exp(log_rate)

    def close(self, end: int, status: str) -> None:
        self.h.subscriptions.append(SubscriptionRow(self.term_start, end, self.plan, self.seats, status))
        self.term_start = end

    def change_terms(self, boundary: int) -> None:
        """Expand (heavy users more likely), contract (light users more likely) or keep the terms."""
        rng, a = self.rng, self.a
        log_usage = math.log(a.usage)
        p_expand = sigmoid(P.EXPAND_INTERCEPT + P.EXPAND_USAGE * log_usage + P.EXPAND_Z * a.z)
        p_contract = sigmoid(P.CONTRACT_INTERCEPT + P.CONTRACT_USAGE * log_usage)
        draw = rng.random()
        plan_index = P.PLANS.index(self.plan)
        if draw < p_expand:
            if rng.random() < P.EXPAND_PLAN_SHARE and plan_index < len(P.PLANS) - 1:
                plan, seats = P.PLANS[plan_index + 1], self.seats
            else:
                plan, seats = self.plan, self.seats + max(1, round(self.seats * rng.uniform(0.1, 0.5)))
        elif draw < p_expand + p_contract:
            if rng.random() < 0.4 and plan_index > 0:
                plan, seats = P.PLANS[plan_index - 1], self.seats
            else:
                plan, seats = self.plan, max(1, self.seats - max(1, round(self.seats * rng.uniform(0.1, 0.3))))
        else:
            return
        if (plan, seats) == (self.plan, self.seats):
            return
        if seats > self.seats:
            self.h.seat_additions.append((boundary, seats - self.seats))
        self.close(boundary, "superseded")
        self.plan, self.seats = plan, seats

    def reactivation_day(self, churned: int) -> int | None:
        rng, a = self.rng, self.a
        if rng.random() >= sigmoid(P.REACTIVATE_INTERCEPT + P.REACTIVATE_Z * a.z):
            return None
        day = churned + int(rng.integers(P.REACTIVATE_GAP_DAYS[0], P.REACTIVATE_GAP_DAYS[1] + 1))
        return day if day <= LAST_DAY else None

    def uncollect_last_invoice(self) -> None:
        last = self.h.invoices[-1]
        if last.late and self.rng.random() < P.UNCOLLECTIBLE_P:
            self.h.invoices[-1] = InvoiceRow(last.issued, last.due, last.amount, None, "uncollectible")

    # --- the walk ----------------------------------------------------------------------------------------
    def run(self) -> History:
        anchor, k = self.a.signup, 0
        while True:
            start, end = billing_day(anchor, k), billing_day(anchor, k + 1)
            stop = min(end, LAST_DAY + 1)
            self.invoice(start)
            self.tickets(start, stop)
            self.surveys(stop)
            if end > LAST_DAY:  # still active at the data end: the current row stays open
                self.h.subscriptions.append(SubscriptionRow(self.term_start, None, self.plan, self.seats, "active"))
                return self.h
            rate = self.churn_rate(end, k + 1)
            if self.rng.random() < 1.0 - math.exp(-rate):
                self.close(end, "canceled")
                self.h.churn_days.append(end)
                self.uncollect_last_invoice()
                back = self.reactivation_day(end)
                if back is None:
                    return self.h
                self.seats = max(1, round(self.seats * self.rng.uniform(0.6, 1.0)))
                self.term_start, anchor, k = back, back, 0
                self.late.clear()
                self.next_survey = max(self.next_survey, back + P.NPS_FIRST_SURVEY_DAY)
                continue
            self.change_terms(end)
            k += 1


def simulate(account: Account) -> History:
    """The account's subscriptions, invoices, tickets, NPS answers, referrals and churns up to the data end."""
    return _Life(account).run()
