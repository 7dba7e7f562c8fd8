"""Rendering the prompt templates in ``prompts/templates/`` with a fact bundle.

The templates are strategist-readable Markdown (Jinja2). This module supplies what they reference: the
business context block, the grounding contract, the FACTS data block (inside a fence whose token hashes the content),
the six stages' questions from ``framework.toml``, and ``ids_for(section)`` — the fact ids that belong to
a section, so each part of the plan is fed the numbers computed for it. The MCP server's prompts and the
``lifecycle plan`` CLI both call ``render_prompt``: one rendering, two front ends.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lifecycle.facts import Fact, FactBundle
from prompts.fence import Fence, clean_text

if TYPE_CHECKING:
    import jinja2

TEMPLATE_DIR = Path(__file__).parent / "templates"


class PromptName(StrEnum):
    """The prompts Lifecycle MCP offers (one template file each)."""

    LIFECYCLE_MAP = "lifecycle_map"
    STAGE_STRATEGY = "stage_strategy"
    AT_RISK_INTERVENTION = "at_risk_intervention"
    SUCCESS_MEASUREMENT = "success_measurement"
    EXECUTIVE_SUMMARY = "executive_summary"


class Language(StrEnum):
    """Languages a plan can be written in (the seeds come in all three)."""

    EN = "en"
    RU = "ru"
    ZH = "zh"

    @property
    def display_name(self) -> str:
        return {"en": "English", "ru": "Russian (русский язык)", "zh": "Simplified Chinese (简体中文)"}[self.value]


QUOTE_CHARS = 160
"""Longest verbatim shown in a FACTS line (cleaned of control and bidi characters)."""

# Prompts that get only headline facts (no breakdown rows): short enough for small-context models.
HEADLINE_ONLY = frozenset({"executive_summary"})


@dataclass(frozen=True)
class BusinessContext:
    """The business context the seed template asks for (all optional; missing items say 'not provided')."""

    company: str = "the company"
    business_model: str | None = None
    relationship_length: str | None = None
    value_realization_time: str | None = None
    growth_opportunities: str | None = None
    competitive_factors: str | None = None

    def block(self, fence: Fence) -> str:
        """The BUSINESS CONTEXT section: each item fenced as untrusted (an MCP client or a context file supplies it)."""
        rows = (
            ("Company", self.company), ("Business model", self.business_model),
            ("Customer relationship duration", self.relationship_length),
            ("Value realization timeframe", self.value_realization_time),
            ("Growth expansion opportunities", self.growth_opportunities),
            ("Competitive factors", self.competitive_factors),
        )
        return fence.wrap({name: value if value else "not provided" for name, value in rows}, limit=400)


@dataclass(frozen=True)
class StageInfo:
    id: str
    title: str
    duration_hint: str
    definition_extra: str
    needs: str
    behaviour: str
    value: str
    personalization: str
    triggers: str
    metrics: str


@dataclass(frozen=True)
class RenderedPrompt:
    """A rendered prompt and what the verifier needs to check an answer to it."""

    name: PromptName
    text: str
    fence_token: str
    language: Language
    fact_ids: tuple[str, ...] = field(default=())


@lru_cache(maxsize=1)
def framework_stages() -> tuple[StageInfo, ...]:
    """The six stages of the seed framework with their guiding questions."""
    data = tomllib.loads((Path(__file__).parent / "framework.toml").read_text(encoding="utf-8"))
    return tuple(StageInfo(**stage) for stage in data["stage"])


def stage_info(stage_id: str) -> StageInfo:
    """The framework stage ``stage_id`` (ValueError listing valid ids when unknown)."""
    for stage in framework_stages():
        if stage.id == stage_id:
            return stage
    raise ValueError(f"unknown stage {stage_id!r}; valid stages: {', '.join(s.id for s in framework_stages())}")


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    import jinja2  # with the first rendering, not with the server's start (tests/server/test_cli_start.py)

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR), undefined=jinja2.StrictUndefined,
        autoescape=False, keep_trailing_newline=True, trim_blocks=False, lstrip_blocks=False,
    )


def fact_line(fact: Fact) -> str:
    """One line of the FACTS block: ``[F:id] label = display (n=…; target … → status)``, then the customers' words
    behind the number when it has any (``— customers wrote: “…” | “…”``; inside the block's fence)."""
    details = []
    if fact.sample_size is not None:
        details.append(f"n={fact.sample_size}")
    if fact.target:
        details.append(f"target {fact.target} → {fact.status or 'n/a'}")
    if fact.note:
        details.append(clean_text(fact.note, 160))
    suffix = f" ({'; '.join(details)})" if details else ""
    said = " | ".join(f"“{clean_text(quote, QUOTE_CHARS)}”" for quote in fact.quotes)
    return f"[F:{fact.id}] {clean_text(fact.label, 120)} = {fact.display}{suffix}" + (f" — customers wrote: {said}" if said else "")


def population_text(filters: dict[str, Any]) -> str:
    """The filters of a bundle as plain text ("segment=SMB, Mid-Market; plan=Pro"), values as written — no Python
    repr, whose escapes would turn a zero-width or bidi character into visible backslash codes."""
    parts = []
    for key, value in filters.items():
        values = value if isinstance(value, (list, tuple, set)) else [value]
        parts.append(f"{key}={', '.join(str(v) for v in values)}")
    return "; ".join(parts)


def _facts_lines(bundle: FactBundle) -> list[str]:
    """The fenced FACTS lines: the population (filter values from the data) first, then one line per fact."""
    population = clean_text(population_text(bundle.filters), 300)
    caveats = list(getattr(bundle, "caveats", ()) or ())
    return (([f"population: {population}"] if population else []) + [fact_line(f) for f in bundle.facts]
            + (["DATA CAVEATS (state each one wherever you use the facts it concerns):"] + [f"- {clean_text(c, 600)}" for c in caveats]
               if caveats else []))


def render_prompt(name: PromptName | str, bundle: FactBundle, context: BusinessContext | None = None,
                  language: Language | str = Language.EN, stage: str | None = None,
                  subject: dict[str, object] | None = None, fence: Fence | None = None) -> RenderedPrompt:
    """Render prompt ``name`` with the facts of ``bundle``.

    ``stage`` is required by ``stage_strategy``; ``subject`` (free-text fields of a customer or segment,
    fenced as untrusted) is used by ``at_risk_intervention``. Unknown names raise ``ValueError``.
    """
    prompt = PromptName(name)
    lang = Language(language)
    context = context or BusinessContext()
    if prompt in HEADLINE_ONLY:
        bundle = bundle.headline()
    fence = fence or Fence.for_content(prompt.value, lang.value, stage, bundle.to_dict(), context.__dict__, subject)
    if prompt is PromptName.STAGE_STRATEGY and not stage:
        raise ValueError("stage_strategy needs a stage: one of " + ", ".join(s.id for s in framework_stages()))

    def ids_for(section: str) -> str:
        ids = [f"[F:{f.id}]" for f in bundle.for_section(section)]
        return ", ".join(ids) if ids else "(no facts: write 'no data')"

    variables: dict[str, Any] = {
        "context_block": context.block(fence),
        "language_name": lang.display_name,
        "fence": fence,
        "bundle": bundle,
        "facts": bundle.facts,
        "facts_block": fence.lines(_facts_lines(bundle)),
        "fact_line": fact_line,
        "clean": lambda text: clean_text(text, 600),
        "ids_for": ids_for,
        "stages": framework_stages(),
        "stage": stage_info(stage) if stage else None,
        "subject_block": fence.wrap(subject or {}),
    }
    text = _environment().get_template(f"{prompt.value}.md").render(**variables)
    return RenderedPrompt(prompt, text, fence.token, lang, tuple(f.id for f in bundle.facts))
