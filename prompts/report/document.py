"""The lifecycle report: findings first, then one section per stage, then every fact — as HTML and as Markdown.

Layout (what a strategist reads first comes first): the **overview** fits the first screen (1280 × 800) — headline
KPI tiles (value, target band, status colour, change vs the previous period with n), the stage funnel with its
bottleneck, and the findings; then **flow and drivers** (stage flow between two dates, progression drivers with
intervals), the **six stages** (their facts with targets and status, charts, deterministic notes or the model's
strategy), **at risk and health**, and the **fact appendix** (every fact, anchored, so each citation links to it).

The HTML is self-contained: inline CSS, charts as SVG ``data:`` images with alt text, no scripts, a strict
Content-Security-Policy (nothing can be loaded), print CSS with page breaks. Everything data-derived is escaped
(Jinja2 autoescape); model text goes through markdown-it with raw HTML disabled and images dropped.
"""

from __future__ import annotations

import html
import re
import urllib.parse
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import jinja2
from markdown_it import MarkdownIt

from charts.locale import NumberFormat
from lifecycle.facts import Fact, FactBundle
from lifecycle.metrics.registry import MetricGroup, metric_ids_in, registry
from prompts.documents import facts_table
from prompts.fence import clean_text, markdown_text
from prompts.render import framework_stages
from prompts.report import i18n
from prompts.report.charts import ReportChart
from prompts.report.findings import Finding, format_fact, overview_findings, stage_findings

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
TEMPLATES = Path(__file__).parent / "templates"
TILE_METRICS = ("mrr", "nrr", "grr", "logo_churn_rate", "activation_rate", "time_to_value_days", "nps", "referral_rate",
                "lead_to_customer_rate", "repeat_purchase_rate", "average_order_value", "clv.expected_total", "risk.value_at_stake")
MAX_TILES = 8
OVERVIEW_KINDS = ("bottleneck", "funnel", "gap", "change", "risk", "themes")
CITATION = re.compile(r"\[F:([A-Za-z0-9_.\-]+)\]")


@dataclass(frozen=True)
class Tile:
    """A headline KPI: value, target band and status (with a tone for colour), change vs the previous period."""

    metric_id: str
    name: str
    value: str
    target: str | None
    status: str | None
    tone: str
    change: str | None = None
    change_direction: str = ""  # up | down | ""
    change_tone: str = ""
    previous: str | None = None
    previous_n: int | None = None
    n: int | None = None


@dataclass
class Section:
    """A report section after the overview."""

    id: str
    title: str
    findings: list[Finding] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    charts: list[ReportChart] = field(default_factory=list)
    questions: str | None = None


def _higher_is_better(metric_id: str) -> bool | None:
    spec = registry().get(metric_id)
    return spec.higher_is_better if spec is not None else None


def status_tone(fact: Fact) -> str:
    """good / bad / neutral for a fact's status: within is good; above an open-ended band ("…+") is good, above a
    closed band bad; below is bad (good for a lower-is-better metric); no status is neutral."""
    if not fact.status:
        return "neutral"
    if fact.status == "within":
        return "good"
    if fact.status == "above":
        return "good" if (fact.target or "").endswith("+") else "bad"
    return "good" if _higher_is_better(fact.id) is False else "bad"


def tiles(bundle: FactBundle, language: str, nf: NumberFormat) -> list[Tile]:
    """Up to ``MAX_TILES`` headline KPIs the bundle has values for, in ``TILE_METRICS`` order."""
    facts = bundle.by_id()
    out = []
    for metric_id in TILE_METRICS:
        fact = facts.get(metric_id)
        if fact is None or fact.value is None:
            continue
        change, previous = facts.get(f"change.{metric_id}"), facts.get(f"previous.{metric_id}")
        direction = tone = ""
        if change is not None and change.value:
            direction = "up" if change.value > 0 else "down"
            better = _higher_is_better(metric_id)
            tone = "" if better is None else ("good" if (change.value > 0) == better else "bad")
        out.append(Tile(metric_id, i18n.metric_name(language, metric_id, fact.label.split(":")[0]), format_fact(fact, nf),
                        fact.target, fact.status, status_tone(fact),
                        format_fact(change, nf) if change is not None and change.value is not None else None, direction, tone,
                        format_fact(previous, nf) if previous is not None and previous.value is not None else None,
                        previous.sample_size if previous is not None else None, fact.sample_size))
        if len(out) == MAX_TILES:
            break
    return out


def sections(bundle: FactBundle, charts: list[ReportChart], language: str, currency: str) -> list[Section]:
    """Flow and drivers, the six framework stages, at risk and health — each with its findings, facts and charts."""
    by_section: dict[str, list[ReportChart]] = {}
    for chart in charts:
        by_section.setdefault(chart.section, []).append(chart)
    findings = overview_findings(bundle, language, currency)
    flow_metrics = metric_ids_in(MetricGroup.FLOW)
    flow = Section("flow", i18n.text(language, "flow"), [f for f in findings if f.kind in ("driver", "target")],
                   [f for f in bundle.facts if "flow" in f.sections and f.id.split(".")[0] in ("funnel", *flow_metrics)],
                   by_section.get("flow", []))
    out = [flow]
    for index, stage in enumerate(framework_stages(), start=1):
        heading = f"{i18n.text(language, 'stage')} {index}: {i18n.stage_name(language, stage.id, stage.title)}"
        out.append(Section(stage.id, heading, stage_findings(bundle, stage.id, language, currency),
                           list(bundle.for_section(stage.id)), by_section.get(stage.id, []),
                           f"{stage.needs}; {stage.value}; {stage.personalization}; {stage.triggers}"))
    risk = Section("risk", i18n.text(language, "cross_stage"), [f for f in findings if f.kind == "risk"],
                   [f for f in bundle.facts if {"risk", "health"} & set(f.sections)], by_section.get("risk", []))
    out.append(risk)
    return out


def _cited_html(text: str) -> str:
    """A finding as HTML: escaped, `code` kept, each ``[F:id]`` a small link to the fact in the appendix."""
    escaped = html.escape(text, quote=False)
    escaped = re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)
    return CITATION.sub(lambda m: f'<sup class="cite"><a href="#f-{html.escape(m.group(1))}" title="{html.escape(m.group(1))}">↗</a></sup>',
                        escaped)


def _data_uri(chart: ReportChart) -> str:
    return "data:image/svg+xml;charset=utf-8," + urllib.parse.quote(chart.svg.decode("utf-8"), safe=" =:;,/'-_.()")


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters["cited"] = lambda text: jinja2.utils.markupsafe.Markup(_cited_html(text))
    env.filters["data_uri"] = _data_uri
    return env


def _strategy_html(markdown_text: str) -> str:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
    md.add_render_rule("image", lambda tokens, idx, options, env: f"<span>[image not loaded: {html.escape(tokens[idx].content)}]</span>")
    return md.render(markdown_text)


def report_html(title: str, bundle: FactBundle, charts: list[ReportChart], language: str = "en", currency: str = "USD",
                strategy: str | None = None, verifier: str | None = None, model: str | None = None) -> str:
    """The self-contained HTML report (see the module docstring). ``strategy``: the model's Markdown answer, if any."""
    nf = NumberFormat(language, currency)
    findings = overview_findings(bundle, language, currency)
    overview = [f for f in findings if f.kind in OVERVIEW_KINDS]
    funnel = next((c for c in charts if c.key == "funnel"), None)
    body = sections(bundle, charts, language, currency)
    page = _environment().get_template("report.html.j2").render(
        csp=CSP, css=(TEMPLATES / "report.css").read_text(encoding="utf-8"), lang=language, title=clean_text(title, 200),
        t=lambda key: i18n.text(language, key), bundle=bundle, filters=", ".join(f"{k}={v}" for k, v in bundle.filters.items()),
        tiles=tiles(bundle, language, nf), overview=overview, funnel=funnel, sections=body,
        other_charts=[c for c in charts if c.key != "funnel" and c.section == "overview"],
        facts=bundle.facts, fmt=lambda fact: format_fact(fact, nf), tone=status_tone,
        strategy=_strategy_html(strategy) if strategy else None, verifier=_strategy_html(verifier) if verifier else None,
        model=clean_text(model, 80) if model else None, status_text=lambda s: i18n.text(language, s) if s else "")
    return page


def report_markdown(title: str, bundle: FactBundle, charts: list[ReportChart], chart_files: dict[str, str] | None = None,
                    language: str = "en", currency: str = "USD", strategy: str | None = None, verifier: str | None = None,
                    model: str | None = None) -> str:
    """The report as Markdown: the same order and findings (with ``[F:id]`` citations), tables instead of tiles,
    charts as links to their SVG files (``chart_files``: chart key → file name)."""
    nf = NumberFormat(language, currency)
    t = lambda key: i18n.text(language, key)  # noqa: E731
    files = chart_files or {}
    scope = f"{t('as_of')} {bundle.as_of} · {t('period')} {bundle.period['start']} – {bundle.period['end']}"
    if bundle.filters:
        from prompts.render import population_text

        scope += f" · {t('population')} " + markdown_text(population_text(bundle.filters), 200)  # labels from the data: inert
    parts = [f"# {markdown_text(title, 200)}", "", f"> {scope}", "",
             f"> {t('offline_note') if not strategy else 'Strategy written by ' + markdown_text(model or 'a model', 80) + ' from these facts.'}", "",
             f"## {t('overview')}", "", f"| {t('metric')} | {t('value')} | {t('target')} | {t('status')} | {t('change')} | {t('n')} |",
             "|---|---|---|---|---|---|"]
    for tile in tiles(bundle, language, nf):
        change = f"{tile.change} ({tile.previous}, n={tile.previous_n})" if tile.change else t("no_change")
        parts.append(f"| {tile.name} | {tile.value} | {tile.target or t('no_target')} | {t(tile.status) if tile.status else ''} "
                     f"| {change} | {tile.n if tile.n is not None else ''} |")
    parts += ["", f"### {t('findings')}", ""]
    findings = overview_findings(bundle, language, currency)
    parts += [f"- {f.text}" for f in findings if f.kind in OVERVIEW_KINDS] + [""]
    for chart in charts:
        if chart.section == "overview" and chart.key in files:
            parts += [f"![{chart.alt}]({files[chart.key]})", ""]
    if strategy:
        parts += [f"## {t('strategy')}", "", strategy.strip().replace("<", "&lt;"), ""]  # model text: no raw HTML
    for section in sections(bundle, charts, language, currency):
        parts += [f"## {section.title}", ""]
        parts += [f"- {f.text}" for f in section.findings] + ([""] if section.findings else [])
        parts += [f"![{c.alt}]({files[c.key]})\n" for c in section.charts if c.key in files]
        if section.questions:
            parts += [f"**{t('questions')}:** {section.questions}.", ""]
            if not strategy:
                parts += [f"_{t('awaiting')}_", ""]
        if section.facts:
            parts += [facts_table(section.facts), ""]
    if verifier:
        parts += [f"## {t('verifier')}", "", verifier, ""]
    parts += [f"## {t('appendix')}", "", facts_table(bundle.facts, with_definition=True), ""]
    return "\n".join(parts)
