"""The customer population: base accounts, then the accounts their referrals bring in, generation by generation.

Base accounts sign up through the paid and organic channels on days drawn from a rising density. Simulating
them yields referrals (promoters refer far more, see ``data.params.REFERRAL_P``); each referral creates a lead
on its day and converts with probability ``REFERRAL_CONVERT_P`` into a new ``referral``-channel account that
signs up 14–60 days later — which is simulated in turn and may refer others. The loop stops when a generation
brings no one new (or every new signup would fall after the data end).
"""

from __future__ import annotations

from dataclasses import dataclass

from data import params as P
from data.accounts import STREAM_REFERRAL, Account, base_channels, base_signup_days, draw_account, stream
from data.calendar import LAST_DAY
from data.lifecycle_sim import History, simulate


@dataclass(frozen=True)
class Referral:
    """A referral made by account ``referrer`` on ``day``; ``customer`` is the account it became, if any."""

    key: int
    referrer: int
    day: int
    customer: int | None


@dataclass(frozen=True)
class Population:
    accounts: list[Account]  # indexed by key
    histories: list[History]  # indexed by key
    referrals: list[Referral]  # indexed by key


def grow_population(base_count: int = P.BASE_CUSTOMERS) -> Population:
    """All accounts, their simulated histories and the referrals between them, deterministically."""
    days = base_signup_days(base_count)
    channels = base_channels(base_count)
    accounts = [draw_account(key, int(day), channel) for key, (day, channel) in enumerate(zip(days, channels, strict=True))]
    histories: list[History] = []
    referrals: list[Referral] = []
    generation = list(accounts)
    while generation:
        brought: list[Account] = []
        for account in generation:
            history = simulate(account)
            histories.append(history)
            for day in history.referral_days:
                referral, new = _follow_referral(len(referrals), account.key, day, len(accounts) + len(brought))
                referrals.append(referral)
                if new is not None:
                    brought.append(new)
        accounts.extend(brought)
        generation = brought
    return Population(accounts, histories, referrals)


def _follow_referral(key: int, referrer: int, day: int, next_account: int) -> tuple[Referral, Account | None]:
    rng = stream(STREAM_REFERRAL, key)
    if rng.random() < P.REFERRAL_CONVERT_P:
        low, high = P.REFERRAL_FUNNEL_DAYS
        signup = day + int(rng.integers(low, high + 1))
        if signup <= LAST_DAY:
            return Referral(key, referrer, day, next_account), draw_account(next_account, signup, "referral")
    return Referral(key, referrer, day, None), None
