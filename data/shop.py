"""The shop demo dataset: a fictional online shop whose orders follow the BG/NBD and Gamma-Gamma processes.

``build_shop(path)`` generates "Kettle & Crumb", an online shop for coffee, tea and kitchenware, and writes it as a
Lifecycle MCP store: about 3,000 customers acquired over 2024-01-01 … 2025-09-30, their orders to 2025-12-31, a few
refunded and cancelled orders, NPS answers and support tickets. It is the order-based counterpart of the Helloword
demo (``data.generator``), for the half of the product that reads orders: P(alive), CLV, RFM segments, the
``ecommerce`` stage model and health profile, ``predict_clv`` with ``model: "bg_nbd"``.

The purchases are drawn from the models' own generative processes with known parameters (the CDNOW estimates,
time in weeks), so a fit on the data can be checked against the truth (``tests/data/test_shop.py``):

- BG/NBD (Fader, Hardie & Lee 2005, §3): each customer draws lambda ~ Gamma(shape r, rate alpha) and
  p ~ Beta(a, b). The first purchase is the acquisition (``signup_date``). Repeat purchases arrive as a Poisson
  process at rate lambda while the customer is alive; right after each repeat purchase the customer drops out
  with probability p. Drop-out is never observed.
- Gamma-Gamma (Fader, Hardie & Lee 2005b; Fader & Hardie 2013): each customer draws nu ~ Gamma(shape q, rate gamma);
  each order's value ~ Gamma(shape p, rate nu), in EUR, rounded to cents. Mean order value p·gamma/(q−1).

Everything else (segment, channel, country, the refund/cancel rows, NPS, tickets) is drawn independently of the
buying process, so it carries no signal about it. Deterministic like the Helloword demo: fixed seed, fixed row order,
no clock in the file; two builds are byte-identical.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Final

import numpy as np

from data import names
from data.calendar import days_iso, instants_iso
from data.generator import DemoSummary, read_summary, write_dataset
from data.tables import Table
from lifecycle.store import default_db_path

DATASET_NAME: Final = "shop-demo"
GENERATOR_VERSION: Final = "1"
SEED: Final = 20250601
DATA_START: Final = date(2024, 1, 1)
DATA_END: Final = date(2025, 12, 31)  # inclusive; the default as_of
LAST_DAY: Final = (DATA_END - DATA_START).days  # 730
ACQUISITION_END: Final = date(2025, 9, 30)  # the last day a new customer can arrive (so every T >= 13 weeks)
CUSTOMERS: Final = 3_000
DEFAULT_FILE_NAME: Final = "shop.db"


@dataclass(frozen=True)
class BetaGeoTruth:
    """BG/NBD parameters, time in weeks: lambda ~ Gamma(r, rate alpha), p ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float


@dataclass(frozen=True)
class GammaGammaTruth:
    """Gamma-Gamma parameters: nu ~ Gamma(q, rate gamma), order value ~ Gamma(p, rate nu)."""

    p: float
    q: float
    gamma: float

    @property
    def mean_order_value(self) -> float:
        """E[order value] = p·gamma/(q−1) (finite for q > 1)."""
        return self.p * self.gamma / (self.q - 1)


TRUE_BG_NBD: Final = BetaGeoTruth(r=0.243, alpha=4.414, a=0.793, b=2.426)  # CDNOW, FHL 2005 Table/§5
TRUE_GAMMA_GAMMA: Final = GammaGammaTruth(p=6.25, q=3.74, gamma=15.44)  # CDNOW, Fader & Hardie 2013

SEGMENTS: Final = (("Consumer", 0.82), ("Business", 0.13), ("Reseller", 0.05))
CHANNELS: Final = (("organic", 0.30), ("paid_search", 0.26), ("paid_social", 0.18), ("email", 0.10),
                   ("affiliate", 0.09), ("marketplace", 0.07))
COUNTRIES: Final = (("DE", 0.34), ("AT", 0.10), ("CH", 0.08), ("NL", 0.14), ("FR", 0.12), ("BE", 0.07), ("DK", 0.05),
                    ("SE", 0.05), ("PL", 0.05))
CHANNEL_CAC: Final = {"organic": 4.0, "paid_search": 18.0, "paid_social": 14.0, "email": 3.0, "affiliate": 11.0,
                      "marketplace": 9.0}
REFUND_RATE: Final = 0.025  # per kept order: a separate 'refunded' row of the same amount 2–30 days later
CANCEL_RATE: Final = 0.015  # per repeat order: a 'cancelled' order placed 5–120 minutes before it
NPS_RATE: Final = 0.06  # per kept order: an NPS answer 3–14 days later
NPS_SCORE_WEIGHTS: Final = (0.02, 0.01, 0.02, 0.02, 0.03, 0.05, 0.07, 0.12, 0.20, 0.22, 0.24)  # scores 0..10
TICKET_RATE: Final = 0.03  # per kept order: a support ticket 1–14 days later
TICKET_SUBJECTS: Final = ("Where is my order?", "Parcel arrived damaged", "Wrong item delivered",
                          "Change delivery address", "Question about grind size", "Refund status")
TICKET_PRIORITIES: Final = (("low", 0.30), ("normal", 0.55), ("high", 0.12), ("urgent", 0.03))

SECONDS_PER_DAY: Final = 86_400


@dataclass(frozen=True)
class Purchases:
    """The simulated kept orders: customer index, time in days since DATA_START (fractional), value."""

    customer: np.ndarray
    time: np.ndarray
    amount: np.ndarray


def simulate_purchases(rng: np.random.Generator, first: np.ndarray) -> Purchases:
    """First purchases at ``first`` (days) and the BG/NBD repeat purchases to the end of DATA_END, with values.

    Per customer, K ~ Poisson(lambda·(end − first)) purchase opportunities fall uniformly in (first, end]; the
    customer makes the first N of them, N ~ Geometric(p) on {1, 2, …} (drop-out right after the N-th repeat
    purchase), so the repeat purchases are the first min(K, N) opportunities. Values: Gamma(p, rate nu) per order.
    """
    n = first.size
    end = LAST_DAY + 1.0  # midnight after the last day
    lam = rng.gamma(TRUE_BG_NBD.r, 1.0 / TRUE_BG_NBD.alpha, size=n) / 7.0  # per day
    drop = rng.beta(TRUE_BG_NBD.a, TRUE_BG_NBD.b, size=n)
    nu = rng.gamma(TRUE_GAMMA_GAMMA.q, 1.0 / TRUE_GAMMA_GAMMA.gamma, size=n)
    opportunities = rng.poisson(lam * (end - first))
    made = np.minimum(opportunities, rng.geometric(np.clip(drop, 1e-12, 1.0)))
    owner = np.repeat(np.arange(n), opportunities)
    when = first[owner] + rng.random(owner.size) * (end - first[owner])
    order = np.lexsort((when, owner))
    owner, when = owner[order], when[order]
    rank = np.arange(owner.size) - np.repeat(np.cumsum(opportunities) - opportunities, opportunities)
    keep = rank < made[owner]
    customer = np.concatenate([np.arange(n), owner[keep]])
    times = np.concatenate([first, when[keep]])
    order = np.lexsort((times, customer))
    customer, times = customer[order], times[order]
    amount = np.round(rng.gamma(TRUE_GAMMA_GAMMA.p, 1.0 / nu[customer]), 2)
    return Purchases(customer=customer, time=times, amount=np.maximum(amount, 0.01))


def generate(seed: int = SEED) -> list[Table]:
    """The shop's canonical tables, in memory (deterministic: same seed, same rows; other seeds draw other shops
    from the same process, which the parameter-recovery tests use)."""
    rng = np.random.default_rng(seed)
    acquisition_days = (ACQUISITION_END - DATA_START).days + 1
    first = np.sort(rng.random(CUSTOMERS) * acquisition_days)
    purchases = simulate_purchases(rng, first)
    customer_ids = np.array([f"S{i + 1:05d}" for i in range(CUSTOMERS)], dtype=object)
    return [_customers(rng, customer_ids, first), _orders(rng, customer_ids, purchases),
            _nps(rng, customer_ids, purchases), _tickets(rng, customer_ids, purchases)]


def build_shop(path: str | os.PathLike[str] | None = None) -> DemoSummary:
    """Generate the shop and write it to ``path`` (default ``shop.db`` in the data directory) atomically."""
    target = Path(path) if path is not None else default_shop_path()
    started = time.perf_counter()
    write_dataset(target, generate, _meta())
    return read_summary(target, build_seconds=time.perf_counter() - started)


def default_shop_path() -> Path:
    """``shop.db`` next to the default demo database (the per-user data directory)."""
    return default_db_path().with_name(DEFAULT_FILE_NAME)


def _choose(rng: np.random.Generator, options: tuple[tuple[str, float], ...], size: int) -> np.ndarray:
    labels = np.array([label for label, _ in options], dtype=object)
    weights = np.array([w for _, w in options], dtype=float)
    return labels[rng.choice(len(labels), size=size, p=weights / weights.sum())]


def _instants(days: np.ndarray) -> np.ndarray:
    """ISO instants of fractional day numbers, to the second."""
    whole = np.floor(days).astype(np.int64)
    seconds = np.minimum(((days - whole) * SECONDS_PER_DAY).astype(np.int64), SECONDS_PER_DAY - 1)
    return instants_iso(whole, seconds)


def _customers(rng: np.random.Generator, ids: np.ndarray, first: np.ndarray) -> Table:
    n = ids.size
    segment = _choose(rng, SEGMENTS, n)
    channel = _choose(rng, CHANNELS, n)
    country = _choose(rng, COUNTRIES, n)
    first_names = rng.integers(len(names.FIRST_NAMES), size=n)
    last_names = rng.integers(len(names.LAST_NAMES), size=n)
    cac = np.round(np.array([CHANNEL_CAC[c] for c in channel]) * rng.lognormal(0.0, 0.35, size=n), 2)
    signup = days_iso(np.floor(first).astype(np.int64))
    rows = [(ids[i], signup[i], f"{names.FIRST_NAMES[first_names[i]]} {names.LAST_NAMES[last_names[i]]}",
             channel[i], segment[i], country[i], float(cac[i])) for i in range(n)]
    columns = ("customer_id", "signup_date", "name", "acquisition_channel", "segment", "country", "acquisition_cost")
    return Table("customers", columns, rows, len(rows))


def _orders(rng: np.random.Generator, ids: np.ndarray, purchases: Purchases) -> Table:
    """Kept orders ('completed'), plus a 'refunded' row after some and a 'cancelled' one before some repeat orders."""
    end = LAST_DAY + 1.0
    n = purchases.customer.size
    refund_at = purchases.time + rng.uniform(2.0, 30.0, size=n)
    refunded = (rng.random(n) < REFUND_RATE) & (refund_at < end)
    repeat = np.ones(n, dtype=bool)
    repeat[np.unique(purchases.customer, return_index=True)[1]] = False
    cancel_at = purchases.time - rng.uniform(5.0, 120.0, size=n) / (24 * 60)
    cancelled = (rng.random(n) < CANCEL_RATE) & repeat
    cancel_amount = np.round(purchases.amount * rng.uniform(0.6, 1.4, size=n), 2)
    customer = np.concatenate([purchases.customer, purchases.customer[refunded], purchases.customer[cancelled]])
    when = np.concatenate([purchases.time, refund_at[refunded], cancel_at[cancelled]])
    amount = np.concatenate([purchases.amount, purchases.amount[refunded], cancel_amount[cancelled]])
    status = np.concatenate([np.full(n, "completed", dtype=object), np.full(int(refunded.sum()), "refunded", dtype=object),
                             np.full(int(cancelled.sum()), "cancelled", dtype=object)])
    order = np.lexsort((when, customer))
    stamps = _instants(when[order])
    rows = [(f"O{k + 1:06d}", ids[c], stamps[k], float(amount[i]), status[i])
            for k, (i, c) in enumerate(zip(order, customer[order], strict=True))]
    return Table("orders", ("order_id", "customer_id", "ordered_at", "amount", "status"), rows, len(rows))


def _after_some_orders(rng: np.random.Generator, purchases: Purchases, rate: float, low: float,
                       high: float) -> tuple[np.ndarray, np.ndarray]:
    """(customer, time) of follow-ups to a share ``rate`` of kept orders, ``low``–``high`` days later, in the window."""
    n = purchases.customer.size
    at = purchases.time + rng.uniform(low, high, size=n)
    chosen = (rng.random(n) < rate) & (at < LAST_DAY + 1.0)
    return purchases.customer[chosen], at[chosen]


def _nps(rng: np.random.Generator, ids: np.ndarray, purchases: Purchases) -> Table:
    customer, at = _after_some_orders(rng, purchases, NPS_RATE, 3.0, 14.0)
    scores = rng.choice(11, size=customer.size, p=np.array(NPS_SCORE_WEIGHTS) / sum(NPS_SCORE_WEIGHTS))
    days = days_iso(np.floor(at).astype(np.int64))
    rows = [(f"N{k + 1:05d}", ids[c], days[k], int(scores[k])) for k, c in enumerate(customer)]
    return Table("nps_responses", ("response_id", "customer_id", "responded_at", "score"), rows, len(rows))


def _tickets(rng: np.random.Generator, ids: np.ndarray, purchases: Purchases) -> Table:
    customer, at = _after_some_orders(rng, purchases, TICKET_RATE, 1.0, 14.0)
    n = customer.size
    closed_at = at + rng.uniform(0.02, 3.0, size=n)
    still_open = closed_at >= LAST_DAY + 1.0
    priority = _choose(rng, TICKET_PRIORITIES, n)
    subject = rng.integers(len(TICKET_SUBJECTS), size=n)
    csat = np.clip(np.round(rng.normal(4.1, 0.9, size=n)), 1, 5).astype(int)
    rated = (rng.random(n) < 0.5) & ~still_open
    opened, closed = _instants(at), _instants(np.minimum(closed_at, LAST_DAY + 0.999))
    rows = [(f"T{k + 1:05d}", ids[c], opened[k], None if still_open[k] else closed[k], priority[k],
             int(csat[k]) if rated[k] else None, TICKET_SUBJECTS[subject[k]]) for k, c in enumerate(customer)]
    columns = ("ticket_id", "customer_id", "opened_at", "closed_at", "priority", "csat", "subject")
    return Table("tickets", columns, rows, len(rows))


def _meta() -> dict[str, str]:
    """Provenance recorded in ``_meta`` (no timestamps: the file must be byte-identical across builds)."""
    return {"dataset": DATASET_NAME, "demo_generator_version": GENERATOR_VERSION, "demo_seed": str(SEED),
            "data_start": DATA_START.isoformat(), "data_end": DATA_END.isoformat()}
