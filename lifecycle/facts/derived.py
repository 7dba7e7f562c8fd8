"""Facts derived from the computed ones, so that a report or a plan can cite them instead of doing arithmetic:

- the stage funnel (``funnel.<stage>.reached``, ``funnel.<from>_to_<to>.rate``) and its bottleneck
  (``funnel.bottleneck.<stage>``, with ``stage.<id>.expected_days`` from the stage model), :mod:`lifecycle.stages.funnel`;
- change versus the previous period for the headline metrics (``change.<metric>``, ``previous.<metric>``),
  :mod:`lifecycle.metrics.period_change`;
- the gap to the target band of every metric outside its band in the bad direction (``gap.<metric>``, value − the band
  end missed: negative below the band's low end, positive above a band's high end that is not open-ended — "100–120%+"
  is not exceeded by 137%).

Display text follows the fact's unit: a ratio's difference or gap reads in percentage points (``+2.1 pts``), a
relative change of money or counts in percent (``+12.3%``).
"""

from __future__ import annotations

from typing import Any

from lifecycle.dataset import Dataset
from lifecycle.facts.fact import Fact, format_value
from lifecycle.metrics.period_change import metric_changes
from lifecycle.metrics.registry import FRAMEWORK_SECTIONS
from lifecycle.metrics.results import MetricResult, Status, Unit
from lifecycle.stages.funnel import find_bottleneck, stage_funnel

# Headline metrics whose change vs the previous period is computed (those the data supports now).
CHANGE_METRICS = ("mrr", "nrr", "grr", "logo_churn_rate", "activation_rate", "time_to_value_days", "nps", "referral_rate",
                  "lead_to_customer_rate", "repeat_purchase_rate", "average_order_value", "purchase_frequency")


def signed_display(value: float | None, unit: Unit | str, currency: str = "USD", relative: bool = False) -> str:
    """Display text of a change or gap: ``+2.1 pts`` for ratios and scores, ``+12.3%`` for relative changes,
    otherwise the unit's format with an explicit sign."""
    if value is None:
        return "no data"
    unit = Unit(unit)
    if relative:
        return f"{value * 100:+.1f}%"
    if unit is Unit.RATIO:
        return f"{value * 100:+.1f} pts"
    if unit is Unit.SCORE:
        return f"{value:+.1f} pts"
    text = format_value(abs(value), unit, currency)
    return ("+" if value >= 0 else "-") + text


def _sections(metric_id: str, sections: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    return ("overview",) + tuple(s for s in sections.get(metric_id, ("measurement",)) if s != "overview")


def gap_to_band(result: MetricResult) -> float | None:
    """How far ``result`` lies outside its band in the bad direction (positive, in the metric's unit), else None."""
    band, value = result.target, result.value
    if band is None or value is None:
        return None
    status = band.status(value)
    if status is Status.BELOW and band.low is not None:
        return band.low - value
    if status is Status.ABOVE and band.high is not None and not band.open_ended_high:
        return value - band.high
    return None


def gap_facts(results: dict[str, MetricResult], definitions: dict[str, Any], currency: str = "USD",
              sections: dict[str, tuple[str, ...]] | None = None) -> list[Fact]:
    """``gap.<metric>`` (value − the band end missed) for each metric outside its target band in the bad direction;
    ``note`` holds the relative gap (|gap| ÷ the band end missed) that ranks them."""
    facts = []
    for metric_id, result in results.items():
        gap = gap_to_band(result)
        if gap is None or result.target is None:
            continue
        below = result.target.status(result.value) is Status.BELOW
        edge = result.target.low if below else result.target.high
        relative = abs(gap / edge) if edge else None
        signed = -gap if below else gap  # value − the band end missed: negative below the band, positive above it
        target = result.target.describe(result.unit)
        display = signed_display(signed, result.unit, currency)
        facts.append(Fact(f"gap.{metric_id}", f"{definitions[metric_id].name}: gap to the target band {target} (value − band end)", signed,
                          result.unit.value, display, result.sample_size, sections=_sections(metric_id, sections or {}),
                          note=None if relative is None else f"relative gap {relative:.4f} (gap ÷ the band end missed)"))
    return facts


def relative_gap(fact: Fact) -> float:
    """The ranking key ``gap_facts`` stored in the note (0 when absent)."""
    if fact.note and fact.note.startswith("relative gap "):
        return float(fact.note.removeprefix("relative gap ").split()[0])
    return 0.0


def change_facts(dataset: Dataset, results: dict[str, MetricResult], definitions: dict[str, Any],
                 metric_ids: tuple[str, ...] = CHANGE_METRICS, sections: dict[str, tuple[str, ...]] | None = None) -> list[Fact]:
    """``previous.<metric>`` (value in the previous period, its n) and ``change.<metric>`` for the headline metrics
    that have a value now."""
    currency = dataset.config.revenue.currency
    wanted = tuple(m for m in metric_ids if m in results and results[m].value is not None)
    facts = []
    for change in metric_changes(dataset, results, wanted):
        name = definitions[change.metric_id].name
        period = f"{change.previous_start} to {change.previous_end}"
        tags = _sections(change.metric_id, sections or {})
        facts.append(Fact(f"previous.{change.metric_id}", f"{name}, previous period ({period})", change.previous,
                          change.unit.value, format_value(change.previous, change.unit, currency), change.previous_n,
                          sections=tags, detail=True,
                          note=None if change.previous is not None else "the previous period's data cannot support it"))
        kind = "relative change" if change.relative else "change"
        unit = Unit.RATIO if change.relative else change.unit
        facts.append(Fact(f"change.{change.metric_id}", f"{name}: {kind} vs the previous period ({period})", change.change,
                          unit.value, signed_display(change.change, change.unit, currency, change.relative), change.previous_n,
                          sections=tags, note=_change_note(change)))
    return facts


def _change_note(change: Any) -> str:
    counts = f"n now {change.current_n}, n before {change.previous_n}"
    if change.current is not None and change.previous is not None and not change.comparable:
        return f"{counts}: fewer than {change.min_n} in a period, no change stated"
    return counts


def funnel_facts(dataset: Dataset, results: dict[str, MetricResult]) -> list[Fact]:
    """``funnel.<stage>.reached``, ``funnel.<from>_to_<to>.rate``, ``stage.<id>.expected_days`` and ``funnel.bottleneck.<stage>``."""
    model = dataset.stage_model
    funnel = stage_funnel(dataset, model)
    names = {s.id: s.name for s in model.stages}
    facts: list[Fact] = []

    def sections(stage: str) -> tuple[str, ...]:
        return ((stage,) if stage in FRAMEWORK_SECTIONS else ()) + ("flow", "overview", "measurement")

    for step in funnel.steps:
        population = "leads created in the period" if step.population == "leads" else "customers active in the period"
        facts.append(Fact(f"funnel.{step.stage}.reached", f"{population} who reached {names[step.stage]} or later", float(step.reached),
                          Unit.COUNT.value, format_value(float(step.reached), Unit.COUNT), sections=sections(step.stage), detail=True))
    for conv in funnel.conversions:
        bridge = " (leads that became customers)" if funnel.step(conv.from_stage).population != funnel.step(conv.to_stage).population else ""  # type: ignore[union-attr]
        facts.append(Fact(f"funnel.{conv.from_stage}_to_{conv.to_stage}.rate",
                          f"Conversion {names[conv.from_stage]} → {names[conv.to_stage]}{bridge}", conv.rate, Unit.RATIO.value,
                          format_value(conv.rate, Unit.RATIO), conv.base, sections=sections(conv.from_stage),
                          definition="reached the next stage (or later) ÷ reached this stage (or later), in the period"))
    for stage in model.customer_stages:
        if stage.expected_days is not None:
            facts.append(Fact(f"stage.{stage.id}.expected_days", f"{stage.name}: expected days in the stage (stage model)",
                              float(stage.expected_days), Unit.DAYS.value, format_value(float(stage.expected_days), Unit.DAYS),
                              sections=sections(stage.id), detail=True))
    stagnation = results.get("stagnation_rate")
    per_stage = {key: (sub.value, sub.sample_size) for key, sub in stagnation.breakdown} if stagnation else {}
    neck = find_bottleneck(funnel, per_stage, dataset.config.small_sample)
    if neck is not None:
        what = ("share of its customers in it longer than its expected days" if neck.basis == "stagnation"
                else "conversion to the next stage")
        facts.append(Fact(f"funnel.bottleneck.{neck.stage}", f"Bottleneck stage: {names[neck.stage]} — {what}", neck.value, Unit.RATIO.value,
                          format_value(neck.value, Unit.RATIO), neck.n, sections=sections(neck.stage),
                          note=f"basis {neck.basis}"))
    return facts


def derived_facts(dataset: Dataset, results: dict[str, MetricResult], definitions: dict[str, Any],
                  facts: list[Fact] | None = None) -> list[Fact]:
    """Funnel and bottleneck, changes vs the previous period, gaps to target (in that order); a change or gap fact
    joins the framework sections of its metric's fact in ``facts``."""
    currency = dataset.config.revenue.currency
    sections = {f.id: f.sections for f in facts or ()}
    out: list[Fact] = []
    if dataset.has("customers"):
        out += funnel_facts(dataset, results)
    out += change_facts(dataset, results, definitions, sections=sections)
    out += gap_facts(results, definitions, currency, sections)
    return out
