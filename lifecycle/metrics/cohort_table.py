"""The retention triangle's records (``lifecycle.metrics.cohorts.cohort_retention`` computes them).

Plain dataclasses with no pandas or NumPy behind them, so the MCP tool listing can derive its output schema from them
(``tools.records.wire_model``) without loading the engine's libraries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any


@dataclass(frozen=True)
class CohortRow:
    """One signup-month cohort of a triangle: its size, its base (the denominator: cohort size for logo retention,
    month-0 MRR for revenue retention) and, for month k = 0, 1, … since signup, the retained fraction ``values[k]``
    (None where month k is not observable yet or there is no month-0 revenue) and what is behind it, ``counts[k]``
    (retained customers or MRR)."""

    cohort: str
    size: int
    base: float | None
    values: tuple[float | None, ...]
    counts: tuple[float | None, ...]


@dataclass(frozen=True)
class CohortTable:
    """A retention triangle: one row per signup-month cohort, one column per month since signup (k = 0, 1, …).

    ``values[c][k]`` is the retained fraction (None where month k is not observable yet or the cohort has no
    month-0 revenue); ``counts[c][k]`` the retained customers (logo) or MRR (revenue) behind it.
    """

    mode: str
    basis: str
    period: str
    activity: str  # subscriptions | orders | events | none
    as_of: date
    cohorts: tuple[str, ...]
    sizes: tuple[int, ...]
    values: tuple[tuple[float | None, ...], ...]
    counts: tuple[tuple[float | None, ...], ...]
    base: tuple[float | None, ...]  # denominators: cohort size (logo) or month-0 MRR (revenue)
    reason: str | None = None

    @property
    def rows(self) -> tuple[CohortRow, ...]:
        """The triangle row by row, one ``CohortRow`` per cohort in signup order."""
        return tuple(CohortRow(c, s, b, v, n)
                     for c, s, b, v, n in zip(self.cohorts, self.sizes, self.base, self.values, self.counts))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, NaN-free."""
        return {
            "mode": self.mode, "basis": self.basis, "period": self.period, "activity": self.activity,
            "as_of": self.as_of.isoformat(), "reason": self.reason,
            "rows": [{"cohort": r.cohort, "size": r.size, "base": r.base, "values": list(r.values),
                      "counts": list(r.counts)} for r in self.rows],
        }


__all__ = ["CohortRow", "CohortTable"]
