"""The fact bundle: every computed number a prompt may cite, each with a stable id.

Facts (``lifecycle.facts.fact``) come from the metric registry (one per metric and breakdown row), the population
counts, and the fact sources (``lifecycle.facts.sources``). Same data + as_of + config ⇒ identical bundle.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from lifecycle.facts.derived import derived_facts
from lifecycle.facts.fact import Fact, FactBundle, format_value
from lifecycle.facts.sources import SOURCES
from lifecycle.metrics.registry import FRAMEWORK_SECTIONS, MetricGroup, compute_all, registry, stage_sections
from lifecycle.metrics.results import MetricResult, Unit


def __getattr__(name: str) -> Any:
    """``STAGE_SECTIONS``: which metrics feed which section of the seed framework (000), derived from the definitions
    (``lifecycle.metrics.registry.stage_sections``)."""
    if name == "STAGE_SECTIONS":
        return stage_sections()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def sections_of(metric_id: str) -> tuple[str, ...]:
    """Framework sections a metric feeds: the stage sections its definition declares (in framework order), then
    'flow' for a flow metric, and always 'measurement'."""
    spec = registry().get(metric_id)
    found = [section for section in FRAMEWORK_SECTIONS if spec is not None and section in spec.sections]
    if spec is not None and spec.group is MetricGroup.FLOW:
        found.append("flow")
    return tuple(found) + ("measurement",)


def metric_facts(results: Iterable[MetricResult], definitions: dict[str, Any], currency: str = "USD") -> list[Fact]:
    """Facts from metric results (and one fact per breakdown row, id ``<metric>.<key>``, which carries the metric's
    target band and its own status when it is in the metric's unit)."""
    facts: list[Fact] = []
    for result in results:
        spec = definitions[result.metric_id]
        target = result.target.describe(result.unit) if result.target else None
        facts.append(Fact(
            id=result.metric_id, label=spec.name, value=_clean(result.value), unit=result.unit.value,
            display=format_value(result.value, result.unit, currency), sample_size=result.sample_size,
            target=target, status=result.status.value if result.status else None, definition=spec.formula,
            sections=sections_of(result.metric_id), note=result.reason, interval=result.interval,
            small_sample=result.small_sample,
        ))
        for key, sub in result.breakdown:
            band = result.target if result.target is not None and sub.unit is result.unit else None  # a row meets its metric's band
            sub_status = band.status(sub.value) if band is not None else None
            facts.append(Fact(
                id=f"{result.metric_id}.{_slug(key)}", label=f"{spec.name} — {key}", value=_clean(sub.value),
                unit=sub.unit.value, display=format_value(sub.value, sub.unit, currency), sample_size=sub.sample_size,
                target=band.describe(sub.unit) if band is not None else None, status=sub_status.value if sub_status else None,
                definition=spec.formula, sections=sections_of(result.metric_id), note=sub.reason, detail=True,
                interval=sub.interval, small_sample=sub.small_sample,
            ))
    return facts


def _clean(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _slug(key: str) -> str:
    slug = "".join(ch.lower() if ch.isalnum() else "_" for ch in str(key)).strip("_")
    return slug or "blank"


def population_facts(dataset: Any) -> list[Fact]:
    """Counts of the population in scope: customers, paying customers, leads (ids ``population.*``)."""
    customers = dataset.customers()
    facts = [Fact("population.customers", "Customers in scope (signed up by as_of)", float(len(customers)), "count",
                  format_value(float(len(customers)), Unit.COUNT), sections=("overview", "measurement"))]
    if dataset.has("leads"):
        leads = dataset.table("leads")
        facts.append(Fact("population.leads", "Leads in scope (created by as_of)", float(len(leads)), "count",
                          format_value(float(len(leads)), Unit.COUNT), sections=("overview", "awareness", "measurement")))
    return facts


def build_facts(dataset: Any, metric_ids: tuple[str, ...] | None = None) -> FactBundle:
    """The fact bundle for ``dataset``'s scope: population counts, every registered metric, then the facts of
    ``lifecycle.facts.sources`` (stage distribution, progression drivers, health and at-risk, engagement by stage,
    customer lifetime value), then the facts derived from them (``lifecycle.facts.derived``: the stage funnel and its
    bottleneck, changes vs the previous period, gaps to target)."""
    results = compute_all(dataset, metric_ids)
    facts = population_facts(dataset) + metric_facts(results.values(), registry(), dataset.config.revenue.currency)
    for source in SOURCES:
        facts.extend(source(dataset))
    facts.extend(derived_facts(dataset, results, registry(), facts))
    seen: set[str] = set()
    unique: list[Fact] = []
    for fact in facts:  # the first fact of an id wins
        if fact.id not in seen:
            seen.add(fact.id)
            unique.append(fact)
    scope = dataset.scope
    return FactBundle(scope.as_of.isoformat(), scope.window.to_dict(), scope.filters.to_dict(), tuple(unique),
                      bundle_caveats(unique))


CAVEAT_NOTE_PREFIXES = ("low coverage", "bands uncalibrated")


def bundle_caveats(facts: list[Fact]) -> tuple[str, ...]:
    """Scope-level warnings a reader (and a model) must see next to the facts: a health score resting on little of
    its designed weight, and headline values resting on small samples (each named with its n). Order: health first,
    then small samples in bundle order."""
    caveats: list[str] = []
    for fact in facts:
        if fact.id == "health.mean" and fact.note and fact.note.startswith(CAVEAT_NOTE_PREFIXES):
            caveats.append(f"Health: {fact.note}.")
    small = [f for f in facts if f.small_sample and not f.detail and f.value is not None]
    if small:
        caveats.append("Small samples (indicative only, not a trend): " + "; ".join(
            f"{f.id} = {f.display} rests on {_small_what(f)}" for f in small) + ".")
    return tuple(caveats)


def _small_what(fact: Fact) -> str:
    """The count a small-sample fact rests on, from its note ('small sample: 3 churn events (< 10)')."""
    for part in (fact.note or "").split("; "):
        if part.startswith("small sample: "):
            return part[len("small sample: "):].split(";")[0].replace("; read with caution", "").replace(", read with caution", "")
    return f"n = {fact.sample_size}"
