"""Product-usage events, aggregated per user-day (one row per user, day and event name; ``quantity`` = count).

For every day an account has an active subscription, each of its tracked users is active with probability

    q = DAILY_ACTIVE_P × usage × weekday × ramp × pre-activation × decay × dip      (capped at 0.95)

where ``usage`` is the account's latent intensity, ``ramp`` rises from 0.6 to 1 over the first 14 days,
``pre-activation`` is PRE_ACTIVATION_FACTOR until the first report, ``decay`` falls linearly from 1 to
DECAY_FLOOR over the DECAY_DAYS before each cancellation (the disengagement that precedes churn) and ``dip``
is an occasional 30-day slump of healthy accounts. An active user-day always has a ``login`` row and, with
the probabilities in ``EVENT_P``, ``dashboard_viewed``, ``report_created`` and ``export_csv`` rows; integrated
accounts add ``api_call`` rows (quantity ≥ 2, median
API_CALLS_MEDIAN × usage, shrinking with the same decay). One-off rows mark the first report (the activation event),
onboarding steps, teammate invitations and the integration.

The per-account part builds each account's daily arrays (cheap, ~2,000 accounts); everything per user-day is
vectorised over the whole population.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from data import params as P
from data.accounts import STREAM_USAGE, Account, stream
from data.calendar import LAST_DAY, weekday
from data.lifecycle_sim import History

EVENT_NAMES = ("login", "dashboard_viewed", "report_created", "export_csv", "api_call", "integration_connected",
               "teammate_invited", "onboarding_step_completed")
_CODE = {name: i for i, name in enumerate(EVENT_NAMES)}


@dataclass(frozen=True)
class EventColumns:
    """Event rows as parallel arrays, sorted by (customer, day, second, event, user)."""

    customer: np.ndarray  # customer position (index into the sorted customers)
    day: np.ndarray
    second: np.ndarray
    event: np.ndarray  # index into EVENT_NAMES
    quantity: np.ndarray
    user: np.ndarray  # user number within the account

    def __len__(self) -> int:
        return len(self.customer)


@dataclass
class _Parts:
    customer: list[np.ndarray]
    day: list[np.ndarray]
    second: list[np.ndarray]
    event: list[np.ndarray]
    quantity: list[np.ndarray]
    user: list[np.ndarray]

    def add(self, customer: np.ndarray, day: np.ndarray, second: np.ndarray, event: np.ndarray | int,
            quantity: np.ndarray, user: np.ndarray | int) -> None:
        n = len(day)
        self.customer.append(np.broadcast_to(customer, n).astype(np.int64))
        self.day.append(np.asarray(day, dtype=np.int64))
        self.second.append(np.broadcast_to(second, n).astype(np.int64))
        self.event.append(np.broadcast_to(event, n).astype(np.int64))
        self.quantity.append(np.broadcast_to(quantity, n).astype(np.int64))
        self.user.append(np.broadcast_to(user, n).astype(np.int64))


def user_pool(seats: np.ndarray | int) -> np.ndarray:
    """Tracked users of an account with ``seats`` seats: clip(round(seats × USER_POOL_SHARE), 1, USER_POOL_MAX)."""
    return np.clip(np.round(np.asarray(seats) * P.USER_POOL_SHARE), 1, P.USER_POOL_MAX).astype(np.int64)


def generate_events(accounts: list[Account], histories: list[History], position: dict[int, int]) -> EventColumns:
    """Every event row of every account; ``position`` maps an account key to its customer position."""
    parts = _Parts([], [], [], [], [], [])
    daily: list[tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]] = []
    for account in accounts:
        history = histories[account.key]
        cust = position[account.key]
        days, pool, mult, integrated = _account_days(account, history)
        daily.append((cust, days, pool, mult, integrated, account.usage))
        _one_off_events(parts, account, history, cust, days)
    _daily_events(parts, daily)
    cols = [np.concatenate(getattr(parts, f)) for f in ("customer", "day", "second", "event", "quantity", "user")]
    order = np.lexsort((cols[5], cols[3], cols[2], cols[1], cols[0]))
    return EventColumns(*(c[order] for c in cols))


def _account_days(account: Account, history: History) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Active days of one account with their user pool, activity multiplier and integration flag."""
    rng = stream(STREAM_USAGE, account.key)
    days = np.concatenate([np.arange(s, e) for s, e in history.active_ranges()])
    seats = np.empty(len(days), dtype=np.int64)
    for sub in history.subscriptions:
        end = LAST_DAY + 1 if sub.end is None else sub.end
        seats[(days >= sub.start) & (days < end)] = sub.seats
    mult = np.full(len(days), account.usage)
    mult *= np.where(weekday(days) >= 5, P.WEEKEND_FACTOR, 1.0)
    mult *= np.clip(0.6 + 0.4 * (days - account.signup) / 14.0, 0.6, 1.0)
    first_value = account.first_value_day if account.first_value_day is not None else LAST_DAY + 1
    mult *= np.where(days < first_value, P.PRE_ACTIVATION_FACTOR, 1.0)
    for churned in history.churn_days:
        before = churned - days
        window = (before > 0) & (before <= P.DECAY_DAYS)
        mult[window] *= P.DECAY_FLOOR + (1 - P.DECAY_FLOOR) * (before[window] - 1) / P.DECAY_DAYS
    for block in range(0, len(days), 30):
        if rng.random() < P.DIP_MONTHLY_P:
            begin = block + int(rng.integers(0, 30))
            mult[begin:begin + 30] *= P.DIP_FACTOR
    integration = account.integration_day if account.integration_day is not None else LAST_DAY + 1
    return days, user_pool(seats), mult, days >= integration


def _one_off_events(parts: _Parts, account: Account, history: History, cust: int, days: np.ndarray) -> None:
    """First report, integration, onboarding steps and teammate invitations — only on active days."""
    rng = stream(STREAM_USAGE, 1_000_000 + account.key)

    def keep(values: list[int]) -> np.ndarray:
        arr = np.asarray(values, dtype=np.int64)
        return arr[np.isin(arr, days)]

    first = keep([account.first_value_day] if account.first_value_day is not None else [])
    parts.add(cust, first, 10 * 3600 + rng.integers(0, 6 * 3600, len(first)), _CODE["report_created"], 1, 0)
    integ = keep([account.integration_day] if account.integration_day is not None else [])
    parts.add(cust, integ, 9 * 3600 + rng.integers(0, 8 * 3600, len(integ)), _CODE["integration_connected"], 1, 0)
    steps = keep(list(account.onboarding_days))
    # Steps on the same day share a row (aggregated per user-day): quantity counts the steps done that day.
    step_days, step_counts = np.unique(steps, return_counts=True)
    parts.add(cust, step_days, 9 * 3600 + rng.integers(0, 9 * 3600, len(step_days)), _CODE["onboarding_step_completed"],
              step_counts, 0)
    invites = [(d, 1 + int(rng.integers(0, 3))) for d in account.invite_days]
    invites += [(d, min(added, 25)) for d, added in history.seat_additions]
    invite_days = keep([d for d, _ in invites])
    quantity = {}
    for d, q in invites:
        quantity[d] = quantity.get(d, 0) + q
    invite_days = np.unique(invite_days)
    parts.add(cust, invite_days, 11 * 3600 + rng.integers(0, 6 * 3600, len(invite_days)), _CODE["teammate_invited"],
              np.array([quantity[int(d)] for d in invite_days], dtype=np.int64), 0)


def _daily_events(parts: _Parts, daily: list[tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]]) -> None:
    """Vectorised user-day activity over every account-day."""
    rng = stream(STREAM_USAGE, 2_000_000)
    cust = np.concatenate([np.full(len(d[1]), d[0], dtype=np.int64) for d in daily])
    day = np.concatenate([d[1] for d in daily])
    pool = np.concatenate([d[2] for d in daily])
    mult = np.concatenate([d[3] for d in daily])
    integrated = np.concatenate([d[4] for d in daily])
    usage = np.concatenate([np.full(len(d[1]), d[5]) for d in daily])
    first_value = _first_value_by_day(parts, cust)

    active = rng.binomial(pool, np.minimum(P.DAILY_ACTIVE_P * mult, 0.95))
    # Expand account-days into distinct users: user = (offset + j) mod pool for the j-th active user of the day.
    ud = np.repeat(np.arange(len(day)), active)
    j = np.arange(len(ud)) - np.repeat(np.cumsum(active) - active, active)
    offset = rng.integers(0, pool)
    user = (offset[ud] + j) % pool[ud]
    login_second = 6 * 3600 + rng.integers(0, 13 * 3600, len(ud))
    parts.add(cust[ud], day[ud], login_second, _CODE["login"], 1 + rng.poisson(0.7, len(ud)), user)
    extra_q = {"dashboard_viewed": 1.5, "report_created": 0.4, "export_csv": 0.3}
    for name, p in P.EVENT_P.items():
        hit = rng.random(len(ud)) < p
        if name == "report_created":  # no report before (or on the day of) the account's first one
            hit &= day[ud] > first_value[ud]
        sel = ud[hit]
        second = np.minimum(login_second[hit] + rng.integers(60, 3 * 3600, len(sel)), 86_399)
        parts.add(cust[sel], day[sel], second, _CODE[name], 1 + rng.poisson(extra_q[name], len(sel)), user[hit])
    day_factor = np.minimum(mult / usage, 1.0)  # weekday, ramp, decay and dips without the account's intensity
    api = integrated & (rng.random(len(day)) < P.API_DAY_P * day_factor)
    scale = P.API_CALLS_MEDIAN * usage[api] * np.maximum(day_factor[api], 0.1)
    quantity = np.maximum(2, np.round(rng.lognormal(np.log(scale), 0.6))).astype(np.int64)
    parts.add(cust[api], day[api], rng.integers(0, 86_400, int(api.sum())), _CODE["api_call"], quantity, 0)


def _first_value_by_day(parts: _Parts, cust: np.ndarray) -> np.ndarray:
    """Day of each account-day's account's first report (LAST_DAY + 1 when none), from the one-off rows."""
    first = np.full(int(cust.max()) + 1 if len(cust) else 0, LAST_DAY + 1, dtype=np.int64)
    for c, d, e in zip(parts.customer, parts.day, parts.event, strict=True):
        mask = e == _CODE["report_created"]
        np.minimum.at(first, c[mask], d[mask])
    return first[cust]
