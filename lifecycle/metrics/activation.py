"""Metrics: activation (see lifecycle.registry for the definition contract)."""

from __future__ import annotations

from lifecycle.registry import MetricDefinition

DEFINITIONS: tuple[MetricDefinition, ...] = ()
