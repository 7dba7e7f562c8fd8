"""Engagement touches: the messages Helloword sends, and whether each was opened and clicked.

Campaigns (``data.names.CAMPAIGNS``): a three-email welcome series (days 0, 3, 10), in-app onboarding nudges
for accounts without a first report by days 2, 5 and 9, a monthly newsletter on the 5th to every active
account, two feature launches (email + in-app), an email per NPS survey, one expansion offer to heavy users
around day 120, and win-back emails 30 and 90 days after a cancellation (while not back).

Opens: logit P(open) = OPEN_INTERCEPT[channel] + 0.5 z + 0.3 log(usage) − 1 (while disengaging or gone).
Clicks: P(click | open) = CLICK_P. An NPS survey email that was answered is opened and clicked by definition.
Open and click times after the data end are left empty (not yet seen).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import numpy as np

from data import params as P
from data.accounts import STREAM_TOUCHES, Account, stream
from data.calendar import LAST_DAY, MONTH_START_DAYS
from data.lifecycle_sim import History
from data.names import CAMPAIGNS

LAUNCHES = (("launch_alerts", (date(2024, 6, 12) - P.DATA_START).days),
            ("launch_summaries", (date(2025, 4, 15) - P.DATA_START).days))
CAMPAIGN_KEYS = tuple(CAMPAIGNS)


@dataclass(frozen=True)
class TouchColumns:
    """Touch rows as parallel arrays, sorted by (customer, sent instant, campaign, channel)."""

    customer: np.ndarray
    sent: np.ndarray  # seconds since the window start
    channel: np.ndarray  # 0 = email, 1 = in_app
    campaign: np.ndarray  # index into CAMPAIGN_KEYS
    opened: np.ndarray  # seconds, -1 = not opened
    clicked: np.ndarray  # seconds, -1 = not clicked

    def __len__(self) -> int:
        return len(self.customer)


def generate_touches(accounts: list[Account], histories: list[History], position: dict[int, int]) -> TouchColumns:
    """Every touch of every account; ``position`` maps an account key to its customer position."""
    rows: list[tuple[int, int, int, int, float, bool]] = []  # customer, day, channel, campaign, open logit, forced
    for account in accounts:
        rows += _account_touches(account, histories[account.key], position[account.key])
    rng = stream(STREAM_TOUCHES)
    cust, day, channel, campaign, logit, forced = (np.array(col) for col in zip(*rows, strict=True))
    sent = day * 86_400 + 8 * 3600 + rng.integers(0, 10 * 3600, len(day))
    opens = forced | (rng.random(len(day)) < 1 / (1 + np.exp(-logit)))
    open_delay = np.where(channel == 0, rng.exponential(5 * 3600, len(day)), rng.exponential(600, len(day)))
    opened = np.where(opens, sent + 1 + open_delay.astype(np.int64), -1)
    clicks = opens & (forced | (rng.random(len(day)) < P.CLICK_P))
    clicked = np.where(clicks, opened + 5 + rng.exponential(120, len(day)).astype(np.int64), -1)
    horizon = (LAST_DAY + 1) * 86_400
    opened = np.where(opened >= horizon, -1, opened)
    clicked = np.where((clicked >= horizon) | (opened < 0), -1, clicked)
    order = np.lexsort((channel, campaign, sent, cust))
    return TouchColumns(cust[order], sent[order], channel[order], campaign[order], opened[order], clicked[order])


def _account_touches(account: Account, history: History, cust: int) -> list[tuple[int, int, int, int, float, bool]]:
    ranges = history.active_ranges()

    def active(day: int) -> bool:
        return any(s <= day < e for s, e in ranges)

    def disengaged(day: int) -> bool:
        return any(0 < c - day <= P.DECAY_DAYS for c in history.churn_days)

    base = 0.5 * account.z + 0.3 * math.log(account.usage)
    out: list[tuple[int, int, int, int, float, bool]] = []

    def send(day: int, channel: int, key: str, forced: bool = False, gone: bool = False) -> None:
        if day <= LAST_DAY:
            logit = P.OPEN_INTERCEPT["email" if channel == 0 else "in_app"] + base - (gone or disengaged(day))
            out.append((cust, day, channel, CAMPAIGN_KEYS.index(key), logit, forced))

    for offset in (0, 3, 10):
        send(account.signup + offset, 0, "welcome")
    first_value = account.first_value_day if account.first_value_day is not None else LAST_DAY + 1
    for offset in (2, 5, 9):
        if account.signup + offset < first_value and active(account.signup + offset):
            send(account.signup + offset, 1, "nudge")
    for start in MONTH_START_DAYS:
        if active(int(start) + 4):
            send(int(start) + 4, 0, "newsletter")
    for key, day in LAUNCHES:
        if active(day):
            send(day, 0, key)
            send(day, 1, key)
    answered = {day for day, _ in history.nps}
    for day in history.survey_days:
        send(day, 0, "nps", forced=day in answered)
    if account.heavy and active(account.signup + 120):
        send(account.signup + 120, 0, "expansion")
    for churned in history.churn_days:
        for offset in (30, 90):
            if not active(churned + offset):
                send(churned + offset, 0, "winback", gone=True)
    return out

