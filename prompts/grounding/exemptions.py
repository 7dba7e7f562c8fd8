"""Numbers the prompt's own fixed text uses, which an answer may repeat as structure ("the next 90 days", "week 1").

Computed from the template files (``prompts/templates/*.md``) and the framework's stage texts
(``prompts/framework.toml``) with every Jinja expression, statement and comment removed — never from a rendered
prompt, so neither the facts nor untrusted labels (a segment called "Enterprise 0% churn") can exempt a number —
and without the template's example claims (anything in `code` quotes, a number followed by a citation, like
"64.2% [F:activation_rate]").
The MCP tool and the plan pipeline use the same set, so they give the same verdicts.
"""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from pathlib import Path

from prompts.grounding.claims import mask_markers
from prompts.grounding.numbers import Unit, find_numbers

PROMPTS_DIR = Path(__file__).resolve().parents[1]
_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
_EXAMPLE_CLAIM = re.compile(r"`[^`]*`|[-−+]?\$?\d[\d,.]*\s?%?\s*\[F:[^\]]+\]")  # code-quoted examples, cited numbers
TIMELINE_BEFORE = re.compile(r"(?:next|over|within|in the first|first|for|during|by day|until day|ближайшие|в течение|за|первые|"
                             r"следующие|未来|之内|内|前)\s*$", re.I)


def fixed_texts() -> list[str]:
    """The fixed text of every template and of the framework's stage descriptions."""
    texts = [_JINJA.sub(" ", path.read_text(encoding="utf-8")) for path in sorted((PROMPTS_DIR / "templates").glob("*.md"))]
    framework = tomllib.loads((PROMPTS_DIR / "framework.toml").read_text(encoding="utf-8"))
    texts += [str(value) for stage in framework.get("stage", []) for value in stage.values()]
    return texts


@lru_cache(maxsize=1)
def template_numbers() -> frozenset[tuple[float, Unit]]:
    """(value, unit) of each number in the fixed texts, example claims left out."""
    found: set[tuple[float, Unit]] = set()
    for text in fixed_texts():
        text = mask_markers(_EXAMPLE_CLAIM.sub(" ", text))
        for number in find_numbers(text, "en"):
            found.add((round(number.value, 6), number.unit))
    return frozenset(found)
