"""Lifecycle MCP's deterministic domain core: data model, store, importer, metrics, stages, health, risk, CLV.

Imports nothing from MCP or LLM code: every number the tools, prompts and plans show comes from a plain
function here that can be called from a notebook. The front door::

    import lifecycle
    ds = lifecycle.open("demo.db")   # a Lifecycle: ds.metrics(), ds.stages(), ds.health(), ds.at_risk(), ...

(``lifecycle.api``; docs/python.md). The engine is loaded on first use of ``open`` / ``Lifecycle``, so importing a
small module such as ``lifecycle.errors`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Lifecycle", "open"]

if TYPE_CHECKING:
    from lifecycle.api import Lifecycle, open


def __getattr__(name: str) -> Any:
    """``lifecycle.open`` and ``lifecycle.Lifecycle``, imported on first use (PEP 562)."""
    if name in __all__:
        from lifecycle import api

        return getattr(api, name)
    raise AttributeError(f"module 'lifecycle' has no attribute {name!r}")
