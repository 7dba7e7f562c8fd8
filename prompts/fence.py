"""Fencing untrusted text before it goes into a prompt.

Free text that comes from the data — customer and company names, comments, ticket subjects, segment or
channel labels — may contain instructions aimed at the model ("ignore previous instructions…"), control
characters, or bidirectional overrides that make text read differently than it is stored. Such text
appears only inside a fence marked untrusted, after ``clean_text`` strips control and bidi characters, and
the prompt's instructions tell the model that nothing inside a fence is an instruction.

The fence token is a hash of everything the rendering contains (:meth:`Fence.for_content`): to forge a
closing marker, text would have to contain the hash of itself — a 64-bit fixed point nobody can find — and
any occurrence of the token inside fenced values is replaced anyway. Unlike a random token it keeps renderings
reproducible: the same facts give the same prompt byte for byte, so a resumed Batch API run asks exactly
what it asked before.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import unicodedata
from dataclasses import dataclass

# Bidi embeddings/overrides/isolates and other invisible format characters (Unicode category Cf covers most).
_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_MAX_FIELD = 200


def clean_text(value: object, limit: int = _MAX_FIELD) -> str:
    """``value`` as one line of plain text: control, format (Cf) and bidi characters removed, whitespace folded, length capped."""
    text = "" if value is None else str(value)
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if char in _BIDI or category in ("Cc", "Cf", "Cs", "Co", "Cn"):
            kept.append(" " if char in "\t\n\r\x0b\x0c" else "")
            continue
        kept.append(char)
    folded = re.sub(r"\s+", " ", "".join(kept)).strip()
    return folded if len(folded) <= limit else folded[: limit - 1] + "…"


@dataclass(frozen=True)
class Fence:
    """A fence for one rendering: ``open``/``close`` markers that the fenced data cannot guess."""

    token: str

    @classmethod
    def new(cls, seed_token: str | None = None) -> Fence:
        """A fresh fence (``seed_token`` fixes it, for reproducible dry runs and tests)."""
        return cls(seed_token or secrets.token_hex(8))

    @classmethod
    def for_content(cls, *parts: object) -> Fence:
        """The fence for a rendering of ``parts`` (JSON-serialisable): the first 16 hex digits of their SHA-256."""
        payload = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False).encode("utf-8")
        return cls(hashlib.sha256(payload).hexdigest()[:16])

    @property
    def open(self) -> str:
        return f"<<UNTRUSTED-{self.token}>>"

    @property
    def close(self) -> str:
        return f"<</UNTRUSTED-{self.token}>>"

    def wrap(self, entries: dict[str, object], limit: int = _MAX_FIELD) -> str:
        """Fenced block of ``key: cleaned value`` lines (keys are ours, values are the data's)."""
        return self.lines([f"{key}: {clean_text(value, limit)}" for key, value in entries.items()])

    def lines(self, lines: list[str]) -> str:
        """Fenced block of already cleaned lines (each must have gone through ``clean_text``)."""
        body = "\n".join(lines) if lines else "(none)"
        # A value that happens to contain our token cannot close the fence early.
        body = body.replace(self.token, "[fence]")
        return f"{self.open}\n{body}\n{self.close}"


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def markdown_text(value: object, limit: int = _MAX_FIELD) -> str:
    """Untrusted text as inert Markdown: cleaned (``clean_text``), HTML brackets and ampersands as entities, every
    Markdown control character backslash-escaped — a label "<script>" or "[x](javascript:…)" shows as written."""
    text = clean_text(value, limit).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)
