"""The verifier's record of one checked number (``prompts.verify.CheckedClaim.record``).

A plain dataclass with nothing behind it, so the MCP tool listing derives ``verify_plan``'s output schema from it
(``tools.records.wire_model``) without compiling the verifier's patterns or loading the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ClaimCheck:
    """One number of a draft and its verdict, flat: the number as written (``text``), its ``value`` and ``unit``, what
    kind of statement it is (``kind``: current, target, change, forecast or proposal), the ``sentence`` it sits in, the
    fact ids cited after it (``cited``) and named next to it (``subject``), the verdict (``status``), the fact it was
    judged against or the sentence is about (``fact_id``), that fact's display text for a failing claim
    (``expected``) and why (``detail``)."""

    text: str
    value: float
    unit: str
    kind: str
    sentence: str
    cited: tuple[str, ...]
    subject: tuple[str, ...]
    status: str
    fact_id: str | None
    expected: str | None
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "value": self.value, "unit": self.unit, "kind": self.kind, "sentence": self.sentence,
                "cited": list(self.cited), "subject": list(self.subject), "status": self.status,
                "fact_id": self.fact_id, "expected": self.expected, "detail": self.detail}


__all__ = ["ClaimCheck"]
