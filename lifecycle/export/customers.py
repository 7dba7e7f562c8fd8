"""One row per customer: stage, health, risk, value — what ``lifecycle customers`` writes.

``customer_table(dataset)`` computes, vectorised over every customer signed up by ``as_of`` in the scope (churned
customers included), the columns below from the engine functions the MCP tools use, so the numbers are the tools'
numbers:

- ``stage``, ``stage_rule``: the configured stage model's first matching rule (``lifecycle.stages``); ``churned``
  for both when the snapshot flags the customer as churned (as ``stage_distribution`` counts them);
- ``health`` (0–100), ``band``, ``health_segment``, ``fix_first`` (the component that would add most health) and one
  ``component_<name>`` score per component of the health profile (``lifecycle.health.score_health``) — for
  customers who have not churned, empty for churned ones (as ``score_health`` and ``list_at_risk`` do);
- ``risk`` (0–1, noisy-OR of low health and the reasons), ``reasons`` (the reason codes raised, highest severity
  first, ``;``-separated) and ``suggested_play`` (the play of the most severe reason; without a reason, the health
  segment's strategy and the component to fix first) — ``lifecycle.health.risk``; empty for churned customers;
- ``mrr`` (MRR on ``as_of``), ``p_alive``, ``expected_clv`` and ``rfm_segment`` (order-based CLV) from the snapshot;
  empty where the data has no such signal.

Any other snapshot column (``docs/snapshot-contract.md``) and the customer's extra ``x_`` columns can be asked for
by name (``columns``); ``extra=True`` appends every extra column of ``customers``. ``chunks`` yields the table in
slices of ``CHUNK_ROWS`` rows, ready to write (``lifecycle.export.writers``), so a writer never holds more than one
slice of formatted output.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lifecycle.errors import QueryError
from lifecycle.health.profile import Reason
from lifecycle.health.risk import reason_flags, risk_score
from lifecycle.health.score import score_health
from lifecycle.snapshot import snapshot_of
from lifecycle.stages import classify_customers

CHUNK_ROWS = 10_000
CHURNED = "churned"
"""Stage and rule of a customer the snapshot flags as churned, as ``stage_distribution`` counts them."""
STAGE_COLUMNS = ("stage", "stage_rule")
HEALTH_COLUMNS = ("health", "band", "health_segment", "fix_first")
RISK_COLUMNS = ("risk", "reasons", "suggested_play")
VALUE_COLUMNS = ("mrr", "p_alive", "expected_clv", "rfm_segment")
SNAPSHOT_RENAMES = {"mrr_current": "mrr"}


@dataclass(frozen=True)
class CustomerTable:
    """The export's rows, one per customer in ``customer_id`` order: ``core`` (the default columns), ``snapshot``
    (every snapshot column) and ``extras`` (the customers' ``x_`` columns), aligned row by row."""

    core: pd.DataFrame
    snapshot: pd.DataFrame
    extras: pd.DataFrame

    def __len__(self) -> int:
        return len(self.core)

    @property
    def default_columns(self) -> tuple[str, ...]:
        return tuple(self.core.columns)

    @property
    def available(self) -> tuple[str, ...]:
        """Every column that can be asked for: the defaults, then the snapshot's, then the extra ones."""
        snapshot = [SNAPSHOT_RENAMES.get(c, c) for c in self.snapshot.columns]
        return tuple(dict.fromkeys([*self.core.columns, *snapshot, *self.extras.columns]))

    def select(self, columns: Sequence[str] | None = None, extra: bool = False) -> tuple[str, ...]:
        """The columns to write: ``columns`` as given (``customer_id`` first when missing), else the defaults; with
        ``extra`` every ``x_`` column after them. ``QueryError`` names unknown columns and the available ones."""
        chosen = [c.strip() for c in columns if c.strip()] if columns else list(self.default_columns)
        available = self.available
        unknown = [c for c in chosen if c not in available]
        if unknown:
            raise QueryError(f"unknown column(s) {', '.join(unknown)}; available: {', '.join(available)}")
        if "customer_id" not in chosen:
            chosen.insert(0, "customer_id")
        if extra:
            chosen += [c for c in self.extras.columns if c not in chosen]
        return tuple(dict.fromkeys(chosen))

    def chunks(self, columns: Sequence[str], size: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
        """The selected columns in slices of ``size`` rows: only one slice is assembled at a time."""
        renamed = {SNAPSHOT_RENAMES.get(c, c): c for c in self.snapshot.columns}
        for start in range(0, len(self.core), size):
            stop = start + size
            parts = {}
            for column in columns:
                if column in self.core.columns:
                    parts[column] = self.core[column].iloc[start:stop].to_numpy()
                elif column in renamed:
                    parts[column] = self.snapshot[renamed[column]].iloc[start:stop].array
                else:
                    parts[column] = self.extras[column].iloc[start:stop].array
            yield pd.DataFrame(parts, columns=list(columns))


def customer_table(dataset: Any) -> CustomerTable:
    """Every customer of ``dataset``'s scope with stage, health, risk and value (module docstring)."""
    snapshot = snapshot_of(dataset)
    snapshot = snapshot.assign(customer_id=snapshot["customer_id"].astype("string"))
    snapshot = snapshot.sort_values("customer_id", kind="stable").reset_index(drop=True)
    ids = snapshot["customer_id"]
    n = len(snapshot)
    core = pd.DataFrame({"customer_id": ids.to_numpy()})
    stages = classify_customers(snapshot, dataset.stage_model, evidence=False, overlays=False)
    churned = (snapshot["churned"].astype("boolean").fillna(False).to_numpy(dtype=bool) if "churned" in snapshot.columns
               else np.zeros(n, dtype=bool))
    core["stage"] = pd.array(np.where(churned, CHURNED, stages["stage"].to_numpy(dtype=object)), dtype="string")
    core["stage_rule"] = pd.array(np.where(churned, CHURNED, stages["rule_id"].to_numpy(dtype=object)), dtype="string")
    profile = dataset.health_profile
    live = snapshot[~churned].reset_index(drop=True)
    health = score_health(live, profile)
    rows = np.flatnonzero(~churned)  # position of each live customer in the table

    def spread(values: np.ndarray, text: bool = False) -> np.ndarray | pd.arrays.StringArray:
        result = np.full(n, None if text else np.nan, dtype=object if text else "float64")
        result[rows] = values
        return pd.array(result, dtype="string") if text else result

    frame = health.frame.reindex(pd.Index(live["customer_id"]))
    segments, fix_first = _texts(frame["segment"]), _texts(frame["most_impactful"])
    core["health"] = spread(frame["health"].to_numpy(dtype="float64", na_value=np.nan))
    core["band"] = spread(_texts(frame["band"]), text=True)
    core["health_segment"] = spread(segments, text=True)
    core["fix_first"] = spread(fix_first, text=True)
    components = health.components.reindex(frame.index)
    for name in components.columns:
        core[f"component_{name}"] = spread(components[name].to_numpy(dtype="float64", na_value=np.nan))
    flags = reason_flags(live, profile.risk)
    reasons, plays = _reasons_and_plays(flags, profile, segments, fix_first)
    core["risk"] = spread(risk_score(frame["health"].to_numpy(dtype="float64", na_value=np.nan), flags, profile.risk))
    core["reasons"] = spread(reasons, text=True)
    core["suggested_play"] = spread(plays, text=True)
    for column in VALUE_COLUMNS:
        source = next((c for c, r in SNAPSHOT_RENAMES.items() if r == column), column)
        core[column] = snapshot[source].array if source in snapshot.columns else np.full(n, np.nan)
    extras = _customer_extras(dataset).reindex(ids.to_numpy()).reset_index(drop=True)
    return CustomerTable(core, snapshot, extras)


def _texts(values: pd.Series) -> np.ndarray:
    """A categorical/text column as an object array of str or None."""
    return np.array([None if pd.isna(v) else str(v) for v in values.astype(object)], dtype=object)


def _reasons_and_plays(flags: dict[Reason, np.ndarray], profile: Any, segments: np.ndarray,
                       fix_first: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per customer: the raised reason codes, most severe first (ties in ``Reason`` order), ``;``-joined; and the
    most severe reason's play, or without a reason the segment's strategy with the component to fix first (the
    at-risk list's rule, ``lifecycle.health.risk``)."""
    n = len(segments)
    ordered = sorted(Reason, key=lambda r: -profile.risk.rule(r).severity)
    reasons = np.full(n, "", dtype=object)
    plays = np.full(n, None, dtype=object)
    for reason in ordered:
        mask = np.asarray(flags[reason], dtype=bool)
        reasons = np.where(mask, np.where(reasons == "", reason.value, reasons + ";" + reason.value), reasons)
        plays = np.where(mask & pd.isna(plays), profile.risk.rule(reason).play, plays)
    pending = pd.isna(plays)
    if pending.any():
        keys = pd.DataFrame({"segment": segments[pending], "fix": fix_first[pending]}).astype(object)
        combos = keys.drop_duplicates()
        text = {(s, f): _fallback_play(profile, s, f) for s, f in combos.itertuples(index=False)}
        plays[pending] = [text[(s, f)] for s, f in keys.itertuples(index=False)]
    return reasons, plays


def _fallback_play(profile: Any, segment: str | None, fix: str | None) -> str:
    strategy = profile.strategy_for(segment) or "Intervention, support"
    return f"{strategy}: review the health explanation" + (f" and fix {fix} first." if fix else ".")


def _customer_extras(dataset: Any) -> pd.DataFrame:
    """The customers' extra ``x_`` columns, indexed by customer_id (no columns when there are none)."""
    customers = dataset.table("customers", extra=True)
    columns = [c for c in customers.columns if c.startswith("x_")]
    return customers.set_index(customers["customer_id"].astype("string"))[columns]
