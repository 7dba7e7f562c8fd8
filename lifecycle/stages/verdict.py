"""Lifecycle stages: rule-based classification of customers (and leads) from the per-customer snapshot.

The public entry point for stages. A stage model is data (``lifecycle.stages.model``: ordered stages, ordered
rules whose *first* match wins, overlays set by their own rules); its conditions and their missing-value
semantics are in ``lifecycle.stages.rules``; the vectorised classification with evidence in
``lifecycle.stages.classification``; time in stage from monthly checkpoints in ``lifecycle.stages.history``.
This module adds the per-customer verdict (``classify_customer``), the open leads' stages
(``classify_leads``) and the distribution over stages (``stage_distribution``), and re-exports the rest.
Sources: seed 000 (six stages, transition triggers, stagnation), 002 (timelines), 004 (five stages).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from lifecycle.dataset import Dataset, next_day_iso
from lifecycle.errors import QueryError
from lifecycle.filters import Filters
from lifecycle.membership import is_member
from lifecycle.memo import remember
from lifecycle.scope import Scope
from lifecycle.snapshot.build import snapshot_of
from lifecycle.stages.classification import (
    UNCLASSIFIED,
    classify_customers,
    first_match,
    json_values,
)
from lifecycle.stages.history import (
    checkpoints,
    stage_features,
    stage_history,
    stages_at,
    time_in_stage,
)
from lifecycle.stages.model import (
    POPULATIONS,
    Overlay,
    Stage,
    StageModel,
    load_model,
    model_for,
    parse_model,
    preset_names,
)
from lifecycle.stages.records import RuleCheck, StageVerdict
from lifecycle.stages.rules import OPS, Condition, Rule
from lifecycle.stages.scope_rows import scope_columns, scope_mask, whole_snapshot


def classify_customer(snapshot: pd.DataFrame, model: StageModel, customer_id: str,
                      dataset: Dataset | None = None) -> StageVerdict:
    """The verdict for one customer; pass ``dataset`` to also measure time in stage (see ``time_in_stage``).

    A churned customer's stage is ``churned`` (as ``stage_distribution`` counts them), with the churn overlay rule and
    its checks as the evidence — not the stage the rules would give an active customer with the same features."""
    row = snapshot[snapshot["customer_id"] == customer_id]
    if row.empty:
        raise QueryError(f"customer {customer_id!r} is not in the snapshot (unknown id, filtered out, or signed up after as_of)")
    verdict = classify_customers(row, model).iloc[0]
    fired = [r for r in model.overlay_rules if r.mask(row)[0]]
    rule = next((r for r in model.rules if r.id == verdict["rule_id"]), None)
    stage_name = model.stage(verdict["stage"]).name if verdict["stage"] != UNCLASSIFIED else "Unclassified"
    stage = verdict["stage"]
    checks = tuple(RuleCheck(c["feature"], c["op"], c.get("value"), c["actual"]) for c in verdict["evidence"]["checks"])
    if "churned" in row.columns and bool(row["churned"].fillna(False).iloc[0]):
        # Churned customers are counted as churned (stage_distribution); the verdict says so, with the churn rule's checks.
        rule = next((r for r in fired if r.target == CHURNED), None)
        stage, stage_name = CHURNED, "Churned"
        checks = tuple(RuleCheck(c.feature, c.op, c.value, json_values(row[c.feature])[0]) for c in rule.conditions) \
            if rule else (RuleCheck("churned", "==", True, True),)
    days, note = None, ""
    if dataset is not None:
        tis = time_in_stage(dataset, model, customer_ids=[customer_id])
        if not tis.empty:
            days = float(tis["days_in_stage"].iloc[0])
            note = "at least (monthly checkpoints)" + (", censored at the history length" if tis["censored"].iloc[0] else "")
    features = {f: json_values(row[f])[0] for r in (*model.rules, *model.overlay_rules) for f in r.features}
    return StageVerdict(customer_id=customer_id, stage=stage, stage_name=stage_name,
                        rule_id=rule.id if rule else None, rule_description=rule.description if rule else "",
                        checks=checks, overlays=tuple(o for o in verdict["overlays"].split(",") if o),
                        overlay_rules=tuple(r.id for r in fired), time_in_stage_days=days, time_in_stage_note=note,
                        features=features)


LEAD_STATUSES_OPEN = ("lead", "mql", "sql", "opportunity")
CHURNED = "churned"


def lead_features(dataset: Dataset) -> pd.DataFrame:
    """Open leads on ``as_of``: ``lead_id``, ``funnel_status``, ``days_since_created``, ``source``, ``segment``.

    ``funnel_status`` is the furthest funnel date reached by as_of (won, lost, opportunity, sql, mql; later
    dates are masked by the as-of view), else — for a lead without any funnel date — its status column.
    Leads that converted (won by as_of, or linked to a customer who had signed up by as_of) or were lost are
    left out: they are no longer in the pre-customer funnel.
    """
    leads = dataset.table("leads")
    if leads.empty:
        return pd.DataFrame({"lead_id": pd.Series([], dtype="string"), "funnel_status": pd.Series([], dtype="string"),
                             "days_since_created": pd.Series([], dtype="float64")})
    dates = ["won_at", "lost_at", "opportunity_at", "sql_at", "mql_at"]
    status = np.select([leads[c].notna().to_numpy() for c in dates], ["won", "lost", "opportunity", "sql", "mql"], default="lead")
    fallback = leads["status"].astype("string").str.lower().fillna("lead").to_numpy(dtype=object)
    dated = leads[dates].notna().any(axis=1).to_numpy()
    funnel = np.where(dated, status, fallback)
    converted = is_member(leads["customer_id"], _customers_by(dataset))
    out = pd.DataFrame({"lead_id": leads["lead_id"].astype("string"), "funnel_status": pd.array(funnel, dtype="string"),
                        "days_since_created": (pd.Timestamp(dataset.as_of) - leads["created_at"]).dt.days.astype("float64"),
                        "source": leads["source"].astype("string"), "segment": leads["segment"].astype("string")})
    keep = out["funnel_status"].isin(LEAD_STATUSES_OPEN).to_numpy() & ~converted
    return out[keep].reset_index(drop=True)


def _customers_by(dataset: Dataset) -> pd.Index:
    """Ids of every customer (ignoring filters) who had signed up by as_of and is linked from a lead."""
    sql = ("SELECT c.customer_id AS customer_id FROM customers c WHERE c.signup_date < ? AND c.customer_id IN "
           "(SELECT l.customer_id FROM leads l WHERE l.customer_id IS NOT NULL)")

    def read() -> pd.Index:
        frame = dataset.connection.query(sql, [next_day_iso(dataset.as_of)])
        return pd.Index(frame["customer_id"].astype("string") if len(frame) else [], dtype="string")

    if dataset.identity is None:
        return read()
    return remember(("lead_customers", dataset.identity, dataset.as_of), read)  # filters aside: once per data and as_of


def classified_customers(dataset: Dataset, model: StageModel | None = None) -> pd.DataFrame:
    """``classify_customers(snapshot_of(dataset), model, evidence=False)``: stage, rule and overlays of every customer
    in scope, in the snapshot's order.

    The rules read one customer's row at a time, so a filtered scope's classification is the whole base's (computed
    once per data, configuration, model and as_of in the process memo) restricted to the scope's customers — the
    rows of the customers its snapshot holds, in the same (customer id) order — as its snapshot is the whole base's
    restricted (docs/architecture.md, "Filtered scopes"): the whole classification's rows where the whole snapshot's
    rows meet the filters (``restricted``'s mask; the classification has the snapshot's rows, in its order), else
    (row counts differ) the rows of the ids the scope's snapshot holds. Kept per dataset: the stage counts, the value
    per stage and the facts of one call classify once."""
    model = model or dataset.stage_model
    cached = f"__classified__:{model.origin}:{model.id}"  # the dataset's per-call cache; no table key looks like it
    if cached not in dataset._cache:
        dataset._cache[cached] = _classified(dataset, model)  # type: ignore[assignment]
    return dataset._cache[cached]


def _classified(dataset: Dataset, model: StageModel) -> pd.DataFrame:
    if dataset.identity is None:
        return classify_customers(snapshot_of(dataset), model, evidence=False)
    whole_base = dataset.filters.is_empty()
    base = dataset if whole_base else dataset.rescoped(Scope(dataset.as_of, dataset.window, Filters()))
    key = ("classified", dataset.identity, dataset.config.fingerprint(), model.origin, model.id, dataset.as_of)
    whole = remember(key, lambda: classify_customers(snapshot_of(base), model, evidence=False))
    if whole_base:
        return whole
    if len(whole_snapshot(dataset)) == len(whole):  # the classification of that snapshot: its rows, in its order
        return whole[scope_mask(dataset)].reset_index(drop=True)  # what ``restricted`` keeps of the whole snapshot
    snap = snapshot_of(dataset)
    return whole[is_member(whole["customer_id"], snap["customer_id"])].reset_index(drop=True)


def classify_leads(dataset: Dataset, model: StageModel | None = None) -> pd.DataFrame:
    """Stage and rule for every open lead (columns ``lead_id``, ``stage``, ``rule_id``, ``funnel_status``).

    The rules read one lead's row at a time and whether a lead converted does not depend on the filters
    (``_customers_by``), so a filtered scope's leads are the whole base's (classified once per data, configuration,
    model and as_of in the process memo) restricted to the leads its filters select, in table order."""
    model = model or dataset.stage_model
    if dataset.identity is None:
        return _classify_leads(dataset, model)
    whole_base = dataset.filters.is_empty()
    base = dataset if whole_base else dataset.rescoped(Scope(dataset.as_of, dataset.window, Filters()))
    key = ("leads_classified", dataset.identity, dataset.config.fingerprint(), model.origin, model.id, dataset.as_of)
    whole = remember(key, lambda: _classify_leads(base, model))
    if whole_base or whole.empty:
        return whole
    return whole[is_member(whole["lead_id"], dataset.table("leads")["lead_id"])].reset_index(drop=True)


def _classify_leads(dataset: Dataset, model: StageModel) -> pd.DataFrame:
    leads = lead_features(dataset)
    stage, rule_ids = first_match(leads, model.lead_rules, model)
    return pd.DataFrame({"lead_id": leads["lead_id"], "stage": pd.array(stage, dtype="string"),
                         "rule_id": pd.array(rule_ids, dtype="string"), "funnel_status": leads["funnel_status"]})


def stage_distribution(dataset: Dataset, model: StageModel | None = None) -> pd.DataFrame:
    """How many leads and customers are in each stage on ``as_of``, with overlay counts per stage.

    One row per model stage in order (leads stages count open leads; customer stages count customers who
    are not churned), then ``churned`` (customers with the churned flag) and ``unclassified`` when a
    population matched no rule. Columns: stage, name, order, population, count, share (of its population
    row group: leads or customers incl. churned), and ``overlay_<id>`` counts. ``model`` defaults to the
    configured one (``model_for``).
    """
    model = model or dataset.stage_model
    snap = scope_columns(dataset, ("churned",))  # the snapshot's rows: only the column read
    classified = classified_customers(dataset, model)
    churned = snap["churned"].fillna(False).to_numpy(dtype=bool)
    leads = classify_leads(dataset, model)
    rows: list[dict[str, Any]] = []
    overlay_cols = [f"overlay_{o.id}" for o in model.overlays]
    live = ~churned  # the customers not churned: their columns as arrays (no frame of them, no frame per stage)
    live_stage = classified["stage"].to_numpy(dtype=object, na_value=None)[live]
    lead_stage = leads["stage"].to_numpy(dtype=object, na_value=None)
    overlays = {c: classified[c].to_numpy(dtype=bool, na_value=False)[live] for c in overlay_cols}  # counted as Series.sum does
    for stage in model.stages:
        for population in (("leads", "customers") if stage.population == "both" else (stage.population,)):
            row: dict[str, Any] = {"stage": stage.id, "name": stage.name, "order": stage.order, "population": population}
            if population == "leads":
                row["count"] = int((lead_stage == stage.id).sum())
            else:
                in_stage = live_stage == stage.id
                row["count"] = int(in_stage.sum())
                row.update({c: int(values[in_stage].sum()) for c, values in overlays.items()})
            rows.append(row)
    rows.append({"stage": "churned", "name": "Churned", "order": None, "population": "customers", "count": int(churned.sum())})
    for population, stages in (("customers", live_stage), ("leads", lead_stage)):
        unmatched = int((stages == UNCLASSIFIED).sum())
        if unmatched:
            rows.append({"stage": UNCLASSIFIED, "name": "Unclassified", "order": None, "population": population, "count": unmatched})
    out = pd.DataFrame(rows)
    counts = out["count"].to_numpy(dtype="int64")
    populations = [str(row["population"]) for row in rows]
    total = {p: sum(int(row["count"]) for row in rows if row["population"] == p) for p in dict.fromkeys(populations)}
    # each row's count ÷ its population's total (NaN for an empty population): the groupby transform's sums, by hand
    out["share"] = counts / np.array([float(total[p]) if total[p] > 0 else np.nan for p in populations], dtype="float64")
    for column in overlay_cols:
        out[column] = out.get(column, pd.Series(dtype="float64")).fillna(0).astype("int64")
    return out



__all__ = [
    "LEAD_STATUSES_OPEN", "OPS", "POPULATIONS", "UNCLASSIFIED", "Condition", "Overlay", "Rule", "RuleCheck", "Stage",
    "StageModel", "StageVerdict", "checkpoints", "classify_customer", "classify_customers", "classify_leads", "lead_features",
    "load_model", "model_for", "parse_model", "preset_names", "stage_distribution", "stage_features", "stage_history",
    "stages_at", "time_in_stage",
]
