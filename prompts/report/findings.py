"""Findings computed from the fact bundle, no model needed: each sentence states facts and cites them (``[F:id]``).

Sentences, in order of what a strategist needs first: the bottleneck stage (``funnel.bottleneck.<stage>``), the lead
funnel, the three largest gaps to target (``gap.*``, ranked by relative gap), the metrics within or above target,
the headline changes vs the previous period (``change.*``), the strongest progression driver of each stage and of
churn (``driver.*``, with its interval), the at-risk summary (``risk.*``), and — when the bundle has them — the
customers' recurring themes (``theme.*`` facts). Numbers are written in the language's format at the facts' display
precision, so the grounding verifier verifies every one of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from charts.locale import NumberFormat
from lifecycle.facts import Fact, FactBundle
from lifecycle.facts.derived import relative_gap
from prompts.report import i18n

TOP_GAPS = 3
TOP_REASONS = 3
TOP_THEMES = 3
CHANGE_ORDER = ("mrr", "activation_rate", "logo_churn_rate", "nps", "nrr", "grr", "referral_rate", "lead_to_customer_rate",
                "time_to_value_days", "repeat_purchase_rate", "average_order_value", "purchase_frequency")


@dataclass(frozen=True)
class Finding:
    """One sentence (Markdown with ``[F:id]`` citations), its kind, and the framework section it belongs to."""

    kind: str
    text: str
    section: str = "overview"
    tone: str = "neutral"  # good | bad | neutral: how the report colours its marker


def cite(*ids: str) -> str:
    return " ".join(f"[F:{i}]" for i in ids)


def format_fact(fact: Fact, nf: NumberFormat, signed: bool | None = None) -> str:
    """The fact's value in ``nf``'s language at the bundle's display precision (signed for changes and driver
    differences, points for ratio differences)."""
    value = fact.value
    if value is None:
        return "—"
    points = fact.display.endswith("pts")
    sign = fact.display[:1] in "+-" if signed is None else signed
    if points:
        return nf.points(value, sign, scale=100.0 if fact.unit == "ratio" else 1.0)
    if fact.unit == "ratio":
        return nf.percent(value, 1, sign)
    if fact.unit == "money":
        text = nf.money(abs(value) if sign else value)
        return (("-" if value < 0 else "+") + text) if sign else text
    if fact.unit == "count":
        return nf.count(value)
    if fact.unit == "days":
        return nf.days(value, sign)
    if fact.unit == "months":
        return nf.months(value, sign)
    if fact.unit == "multiple":
        return nf.multiple(value, sign)
    return nf.number(value, 1, sign)


def _name(language: str, fact: Fact, metric_id: str) -> str:
    """A metric's name for prose: the catalogue's, else the label's — or the id when the label holds digits (a
    number in a name would read as an unverified claim)."""
    name = i18n.metric_name(language, metric_id, fact.label.split(":")[0])
    return f"`{metric_id}`" if re.search(r"\d", name) else name


def _stage_names(bundle: FactBundle, language: str) -> dict[str, str]:
    names = {}
    for fact in bundle.facts:
        match = re.fullmatch(r"funnel\.([a-z0-9_]+)\.reached", fact.id)
        if match:
            english = fact.label.split(" who reached ")[-1].removesuffix(" or later")
            names[match.group(1)] = i18n.stage_name(language, match.group(1), english)
    return names


def bottleneck_findings(bundle: FactBundle, language: str, nf: NumberFormat) -> list[Finding]:
    facts = bundle.by_id()
    names = _stage_names(bundle, language)
    neck = next((f for f in bundle.facts if f.id.startswith("funnel.bottleneck.")), None)
    if neck is None or neck.value is None:
        return []
    stage = neck.id.removeprefix("funnel.bottleneck.")
    out = []
    days = facts.get(f"stage.{stage}.expected_days")
    following = next((f for f in bundle.facts if f.id.startswith(f"funnel.{stage}_to_") and f.id.endswith(".rate")), None)
    next_stage = following.id.removeprefix(f"funnel.{stage}_to_").removesuffix(".rate") if following else None
    if neck.note == "basis stagnation" and days is not None:
        out.append(Finding("bottleneck", i18n.text(language, "f.bottleneck").format(
            stage=names.get(stage, stage), value=format_fact(neck, nf), cite=cite(neck.id), days=format_fact(days, nf),
            days_cite=cite(days.id)), stage, "bad"))
        if following is not None and following.value is not None and next_stage:
            out.append(Finding("bottleneck", i18n.text(language, "f.bottleneck_next").format(
                stage=names.get(stage, stage), value=format_fact(following, nf), cite=cite(following.id),
                next=names.get(next_stage, next_stage)), stage))
    elif next_stage:
        out.append(Finding("bottleneck", i18n.text(language, "f.bottleneck_conv").format(
            stage=names.get(stage, stage), value=format_fact(neck, nf), cite=cite(neck.id), next=names.get(next_stage, next_stage)),
            stage, "bad"))
    return out


def lead_findings(bundle: FactBundle, language: str, nf: NumberFormat) -> list[Finding]:
    facts = bundle.by_id()
    names = _stage_names(bundle, language)
    lead_steps = [f for f in bundle.facts if re.fullmatch(r"funnel\.[a-z0-9_]+\.reached", f.id) and f.label.startswith("leads")]
    if len(lead_steps) < 2:
        return []
    first, last = lead_steps[0], lead_steps[-1]
    first_stage = first.id.split(".")[1]
    last_stage = last.id.split(".")[1]
    qualified = facts.get(f"funnel.{first_stage}_to_{lead_steps[1].id.split('.')[1]}.rate")
    bridge = next((f for f in bundle.facts if f.id.startswith(f"funnel.{last_stage}_to_") and f.id.endswith(".rate")), None)
    if qualified is None or bridge is None or qualified.value is None or bridge.value is None or not first.value:
        return []
    return [Finding("funnel", i18n.text(language, "f.leads").format(
        leads=format_fact(first, nf), leads_cite=cite(first.id), qualified=format_fact(qualified, nf),
        qualified_cite=cite(qualified.id), evaluation=names.get(last_stage, last_stage), won=format_fact(bridge, nf),
        won_cite=cite(bridge.id)), "evaluation")]


def gap_findings(bundle: FactBundle, language: str, nf: NumberFormat) -> list[Finding]:
    facts = bundle.by_id()
    gaps = sorted((f for f in bundle.facts if f.id.startswith("gap.") and f.value is not None), key=lambda f: -relative_gap(f))
    out = []
    for gap in gaps[:TOP_GAPS]:
        metric_id = gap.id.removeprefix("gap.")
        metric = facts.get(metric_id)
        if metric is None or metric.value is None or gap.value is None or not metric.target:
            continue
        key = "f.gap" if metric.status == "below" else "f.gap_above"
        out.append(Finding("gap", i18n.text(language, key).format(
            metric=_name(language, metric, metric_id), value=format_fact(metric, nf), cite=cite(metric_id),
            gap=format_fact(replace(gap, value=abs(gap.value)), nf, signed=False), gap_cite=cite(gap.id), band=_band(metric.target, language)),
            _section(metric), "bad"))
    met = [f for f in bundle.facts if f.target and f.status in ("within", "above") and f.value is not None
           and f"gap.{f.id}" not in facts and not f.detail]
    if met:
        items = ", ".join(f"{_name(language, f, f.id)} {format_fact(f, nf)} {cite(f.id)}" for f in met)
        out.append(Finding("target", i18n.text(language, "f.within").format(items=items), "measurement", "good"))
    return out


def _band(target: str, language: str) -> str:
    """A target band's text in the language's decimal separator (``60–80%+`` stays; ``0.5`` → ``0,5`` in ru)."""
    text = target.replace("%", "\u00a0%") if language == "ru" else target
    return re.sub(r"(\d)\.(\d)", r"\1,\2", text) if language == "ru" else text


def _section(fact: Fact) -> str:
    stages = [s for s in fact.sections if s not in ("overview", "measurement", "flow", "drivers", "risk", "health", "engagement")]
    return stages[0] if stages else "measurement"


def change_findings(bundle: FactBundle, language: str, nf: NumberFormat) -> list[Finding]:
    facts = bundle.by_id()
    items = []
    for metric_id in CHANGE_ORDER:
        change, metric = facts.get(f"change.{metric_id}"), facts.get(metric_id)
        if change is None or change.value is None or metric is None:
            continue
        items.append(f"{_name(language, metric, metric_id)} {format_fact(change, nf)} {cite(change.id)}")
        if len(items) == 5:
            break
    if not items:
        return []
    return [Finding("change", i18n.text(language, "f.change").format(items="; ".join(items)), "measurement")]


def driver_findings(bundle: FactBundle, language: str, nf: NumberFormat) -> list[Finding]:
    """The first (strongest) signal of each transition: rate with vs without, difference and its interval."""
    facts = bundle.by_id()
    names = _stage_names(bundle, language)
    out = []
    seen: set[str] = set()
    for fact in bundle.facts:
        match = re.fullmatch(r"driver\.(.+)_to_(later_stage|churned|[a-z0-9_]+)\.([a-z0-9_]+)\.rate_with", fact.id)
        if not match or fact.detail:
            continue
        source, outcome, signal = match.groups()
        transition = f"{source}_to_{outcome}"
        if transition in seen:
            continue
        seen.add(transition)
        base = f"driver.{transition}.{signal}"
        without, diff = facts.get(f"{base}.rate_without"), facts.get(f"{base}.difference")
        low, high = facts.get(f"{base}.difference_low"), facts.get(f"{base}.difference_high")
        if without is None or diff is None or fact.value is None or without.value is None or diff.value is None:
            continue
        values = dict(signal=i18n.signal_name(language, signal), with_=format_fact(fact, nf, False), with_cite=cite(fact.id),
                      without=format_fact(without, nf, False), without_cite=cite(without.id), diff=format_fact(diff, nf),
                      diff_cite=cite(diff.id))
        if outcome == "churned" or low is None or high is None:
            key = "f.driver_churn" if outcome == "churned" else "f.driver"
            if key == "f.driver":
                continue
            out.append(Finding("driver", i18n.text(language, key).format(**values), "risk", "neutral"))
        else:
            out.append(Finding("driver", i18n.text(language, "f.driver").format(
                stage_from=names.get(source, source), low=format_fact(low, nf), high=format_fact(high, nf),
                interval_cite=cite(low.id, high.id), **values), source))
    return out


def risk_findings(bundle: FactBundle, language: str, nf: NumberFormat) -> list[Finding]:
    facts = bundle.by_id()
    count, value = facts.get("risk.customers"), facts.get("risk.value_at_stake")
    if count is None or value is None or count.value is None or value.value is None:
        return []
    reasons = sorted((f for f in bundle.facts if re.fullmatch(r"risk\.reason\.[a-z0-9_]+\.count", f.id) and f.value),
                     key=lambda f: (-(f.value or 0), f.id))[:TOP_REASONS]
    listed = ", ".join(f"{i18n.reason_name(language, f.id.split('.')[2])} ({format_fact(f, nf)} {cite(f.id)})" for f in reasons)
    return [Finding("risk", i18n.text(language, "f.risk").format(
        count=format_fact(count, nf), count_cite=cite(count.id), mrr=format_fact(value, nf), mrr_cite=cite(value.id),
        reasons=listed or "—"), "risk", "bad")]


def theme_findings(bundle: FactBundle, language: str, nf: NumberFormat) -> list[Finding]:
    """Recurring themes when the bundle has them (``theme.*`` count facts, or facts in the ``themes`` section)."""
    themes = [f for f in bundle.facts if (f.id.startswith("theme.") or "themes" in f.sections) and f.unit == "count"
              and f.value and not f.detail]
    themes = sorted(themes, key=lambda f: (-(f.value or 0), f.id))[:TOP_THEMES]
    if not themes:
        return []
    items = ", ".join(f"“{_plain(f.label)}” ({format_fact(f, nf)} {cite(f.id)})" for f in themes)
    return [Finding("themes", i18n.text(language, "f.themes").format(items=items), "measurement")]


def _plain(label: str) -> str:
    """A data-derived label for prose: no digits (they would read as claims), no Markdown or citation syntax."""
    text = re.sub(r"[\[\]`*_<>|#]", " ", label)
    return re.sub(r"\d+", "#", text).strip()[:80]


def overview_findings(bundle: FactBundle, language: str = "en", currency: str = "USD") -> list[Finding]:
    """Every overview finding, in reading order."""
    nf = NumberFormat(language, currency)
    return (bottleneck_findings(bundle, language, nf) + lead_findings(bundle, language, nf) + gap_findings(bundle, language, nf)
            + change_findings(bundle, language, nf) + risk_findings(bundle, language, nf) + theme_findings(bundle, language, nf)
            + driver_findings(bundle, language, nf))


def stage_findings(bundle: FactBundle, stage: str, language: str = "en", currency: str = "USD") -> list[Finding]:
    """Deterministic notes for one stage: how many are in it now, how many stagnate, and the findings about it."""
    nf = NumberFormat(language, currency)
    facts = bundle.by_id()
    out = []
    count, share = facts.get(f"stage.{stage}.count"), facts.get(f"stage.{stage}.share")
    if count is not None and count.value is not None:
        if share is not None and share.value is not None and "customers" in share.label:
            out.append(Finding("stage", i18n.text(language, "f.stage_count").format(
                count=format_fact(count, nf), cite=cite(count.id), share=format_fact(share, nf), share_cite=cite(share.id)), stage))
        else:
            name = _stage_names(bundle, language).get(stage, i18n.stage_name(language, stage, stage))
            out.append(Finding("stage", i18n.text(language, "f.stage_leads").format(count=format_fact(count, nf), cite=cite(count.id),
                                                                                     stage=name), stage))
    stagnation = facts.get(f"stagnation_rate.{stage}")
    if stagnation is not None and stagnation.value is not None:
        out.append(Finding("stage", i18n.text(language, "f.stagnation").format(value=format_fact(stagnation, nf), cite=cite(stagnation.id)), stage))
    out += [f for f in overview_findings(bundle, language, currency) if f.section == stage and f.kind != "stage"]
    return out
