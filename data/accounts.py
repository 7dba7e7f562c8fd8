"""Who the demo's customers are: their attributes and latent traits, drawn once per account.

An account is identified by ``key``, its position in generation order (base accounts first, then accounts
brought in by referrals, generation by generation). Each draw uses a random stream derived from the seed and
the key alone (``stream``), so an account is the same whatever else the generator does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from data import names
from data import params as P
from data.calendar import LAST_DAY

STREAM_ACCOUNT, STREAM_LIFE, STREAM_REFERRAL, STREAM_LEADS, STREAM_USAGE, STREAM_TOUCHES, STREAM_SIGNUPS = range(7)


def stream(kind: int, key: int = 0) -> np.random.Generator:
    """The random stream for entity ``key`` of ``kind`` (independent of every other entity's draws)."""
    return np.random.default_rng([P.SEED, kind, key])


def sigmoid(x: float) -> float:
    """The logistic function 1 / (1 + e^-x)."""
    return 1.0 / (1.0 + math.exp(-x))


@dataclass
class Account:
    """One customer account: attributes (what the customers table shows) and latent traits (what drives it)."""

    key: int
    signup: int  # day number
    channel: str
    segment: str
    plan: str  # plan at signup
    seats: int  # seats at signup
    name: str
    company: str
    industry: str
    company_size: str
    country: str
    acquisition_cost: float
    executive_sponsor: bool
    champion: str | None
    z: float  # latent propensity ~ N(0, 1) plus a channel shift
    fast: bool  # first value (report_created) within 7 days of signup
    first_value_day: int | None  # day number of the first report_created; None = never
    usage: float  # usage intensity multiplier (log-normal)
    late_propensity: float  # P(an invoice is paid late)
    integration_day: int | None  # day an integration is connected, if ever
    onboarding_days: tuple[int, ...]  # day each completed onboarding step was completed, in step order
    invite_days: tuple[int, ...]  # teammate invitations during onboarding

    @property
    def heavy(self) -> bool:
        """Heavy user: usage intensity above e^0.5 (about the top third)."""
        return self.usage > math.exp(0.5)


def draw_account(key: int, signup: int, channel: str) -> Account:
    """Draw the attributes and latent traits of account ``key`` signing up on day ``signup`` via ``channel``."""
    rng = stream(STREAM_ACCOUNT, key)
    segment = P.SEGMENTS[int(rng.choice(3, p=P.SEGMENT_WEIGHTS[channel]))]
    plan = P.PLANS[int(rng.choice(4, p=P.SEGMENT_PLANS[segment]))]
    low, high = P.SEGMENT_SEATS[segment]
    seats = int(rng.integers(low, high + 1))
    z = float(rng.normal()) + P.CHANNEL_PROPENSITY[channel]
    assisted = P.ASSISTED_ONBOARDING.get(channel, 0.0)
    fast = bool(rng.random() < sigmoid(P.FAST_ACTIVATION_INTERCEPT + P.FAST_ACTIVATION_Z * z + assisted))
    if fast:
        first_value: int | None = signup + int(rng.integers(0, 7))  # days 0..6: inside any "within 7 days" reading
    elif rng.random() < P.SLOW_NEVER_ACTIVATE:
        first_value = None
    else:
        first_value = signup + 8 + int(rng.exponential(P.SLOW_DAYS_MEAN))
    usage = math.exp(P.USAGE_Z * z + P.USAGE_FAST * fast + P.USAGE_NOISE * float(rng.normal()))
    late = sigmoid(P.LATE_INTERCEPT - 0.5 * z + float(rng.normal()))
    integrates = rng.random() < sigmoid(P.INTEGRATION_INTERCEPT + P.INTEGRATION_Z * z + (segment != "SMB"))
    integration_day = signup + 1 + int(rng.exponential(20.0)) if integrates else None
    champion = names.person(rng) if rng.random() < P.SEGMENT_CHAMPION[segment] else None
    return Account(
        key=key, signup=signup, channel=channel, segment=segment, plan=plan, seats=seats,
        name=names.person(rng), company=names.customer_company(key),
        industry=names.weighted(rng, names.INDUSTRIES),
        company_size=names.weighted(rng, P.SEGMENT_SIZES[segment]),
        country=names.weighted(rng, names.COUNTRIES),
        acquisition_cost=round(P.CHANNEL_CAC[channel] * P.SEGMENT_CAC[segment] * float(rng.lognormal(0.0, 0.35)), 2),
        executive_sponsor=bool(rng.random() < P.SEGMENT_SPONSOR[segment]),
        champion=champion, z=z, fast=fast,
        first_value_day=first_value if first_value is not None and first_value <= LAST_DAY else None,
        usage=usage, late_propensity=late, integration_day=integration_day,
        onboarding_days=_onboarding_days(rng, signup, fast),
        invite_days=tuple(sorted(signup + int(d) for d in rng.integers(0, 21, size=1 + rng.poisson(min(seats, 10) / 4)))),
    )


def _onboarding_days(rng: np.random.Generator, signup: int, fast: bool) -> tuple[int, ...]:
    """Steps are done in order; each is completed with probability ONBOARDING_STEP_P, the first failure stops."""
    p = P.ONBOARDING_STEP_P[int(fast)]
    done = 0
    while done < P.ONBOARDING_STEPS and rng.random() < p:
        done += 1
    spread = 10 if fast else 30
    return tuple(sorted(signup + int(d) for d in rng.integers(0, spread, size=done)))


def base_signup_days(count: int) -> np.ndarray:
    """Signup days of the base (non-referral) accounts: density rising linearly by SIGNUP_GROWTH, sorted."""
    return np.sort(growing_days(stream(STREAM_SIGNUPS), count, first=0))


def growing_days(rng: np.random.Generator, count: int, first: int = 0) -> np.ndarray:
    """``count`` day numbers in [first, LAST_DAY] with density ∝ 1 + g·t (t the window fraction), by inverse CDF."""
    g = P.SIGNUP_GROWTH
    u = rng.random(count)
    # CDF F(t) = (t + g t²/2) / (1 + g/2); solve g/2 t² + t − u(1 + g/2) = 0 for t in [0, 1].
    t = (-1 + np.sqrt(1 + 2 * g * u * (1 + g / 2))) / g
    return (first + np.floor(t * (LAST_DAY + 1 - first))).astype(np.int64).clip(first, LAST_DAY)


def base_channels(count: int) -> list[str]:
    """Acquisition channels of the base accounts, drawn with CHANNEL_WEIGHTS."""
    rng = stream(STREAM_SIGNUPS, 1)
    picks = rng.choice(len(P.CHANNELS), size=count, p=np.array(P.CHANNEL_WEIGHTS) / sum(P.CHANNEL_WEIGHTS))
    return [P.CHANNELS[int(i)] for i in picks]
