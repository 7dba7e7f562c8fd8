"""Lifecycle MCP's deterministic domain core: data model, store, importer, metrics, stages, health, risk, CLV.

Imports nothing from MCP or LLM code: every number the tools, prompts and plans show comes from a plain
function here that can be called from a notebook.
"""

__version__ = "0.1.0"
