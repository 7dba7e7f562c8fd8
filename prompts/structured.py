"""The structured answer a model is asked for when the endpoint supports JSON-schema output.

With structured output (``openai``'s ``chat.completions.parse`` on Chat Completions, the same
``response_format`` in Batch API request lines) the model answers a :class:`PlanAnswer`: a title and the
document's sections, each with its Markdown body and the fact ids it relies on. The document is then the
sections laid out as Markdown (:func:`answer_markdown`), so the verifier and the documents see the same text as
for a plain-text answer, and the declared fact ids are checked against the bundle (:func:`undeclared_fact_ids`).

Where a server ignores the schema and answers prose, the prose is used as it is (see ``prompts.llm``).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class PlanSection(BaseModel):
    """One section of a strategy document."""

    model_config = ConfigDict(extra="forbid")

    heading: str = Field(description="Section heading, e.g. a lifecycle stage, in the answer's language.")
    content: str = Field(description="Markdown body. Every number cites its fact id right after it, like 64.2% [F:activation_rate].")
    fact_ids: list[str] = Field(description="Ids of the FACTS this section cites.")


class PlanAnswer(BaseModel):
    """A whole strategy document as sections (the JSON schema sent as ``response_format``)."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(description="Document title.")
    sections: list[PlanSection] = Field(description="The document's sections, in order.")


def response_format() -> dict[str, Any]:
    """The ``response_format`` request field for :class:`PlanAnswer` — exactly what ``parse`` sends.

    Built by the ``openai`` library's own converter (strict JSON schema: every property required, no extra
    properties), so Batch API lines and ``parse`` calls ask for the same schema.
    """
    from openai.lib._parsing import type_to_response_format_param

    return dict(type_to_response_format_param(PlanAnswer))  # type: ignore[arg-type]


def parse_answer(content: str | None) -> PlanAnswer | None:
    """``content`` as a :class:`PlanAnswer`, or None when it is not valid JSON of that schema."""
    if not content:
        return None
    try:
        return PlanAnswer.model_validate(json.loads(content))
    except (ValueError, ValidationError):
        return None


def answer_markdown(answer: PlanAnswer) -> str:
    """The answer as Markdown: ``# title`` then ``## heading`` + body for each section."""
    parts = [f"# {answer.title.strip()}"] if answer.title.strip() else []
    for section in answer.sections:
        parts.append(f"## {section.heading.strip()}\n\n{section.content.strip()}")
    return "\n\n".join(parts) + "\n"


def undeclared_fact_ids(answer: PlanAnswer, known_ids: set[str]) -> list[str]:
    """Fact ids a section declares that are not in the bundle (sorted, unique) — a sign of invented citations."""
    return sorted({fid for section in answer.sections for fid in section.fact_ids if fid not in known_ids})
