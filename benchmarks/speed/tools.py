"""Warm tool latencies: every MCP tool through the in-process client, each timed call with arguments not seen before.

"Warm" (issue #16): the dataset's snapshot and caches are built — one untimed call of every tool with its default
arguments — and then each timed call asks something new: another metric list, another filter value, another
customer, section, stage, month or draft. Identical calls would be answered from a memo; these may not be.
"""

from __future__ import annotations

import itertools
import os
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import anyio
from mcp import Client

from lifecycle.filters import Dimension
from lifecycle.metrics.registry import MetricGroup, metric_ids, metric_ids_in
from lifecycle.sources import open_source
from server.app import build_server
from server.commands.serve_cmd import freeze_start_objects
from speed.measure import percentile

SEED = 16
WARM_ARGUMENTS: dict[str, list[dict[str, Any]]] = {
    "verify_plan": [{"draft": "MRR is 1%."}],
    "compute_metrics": [{"metrics": ["mrr", "nrr", "logo_churn_rate", "activation_rate", *metric_ids_in(MetricGroup.FLOW)]}],
    "compare_segments": [{"dimension": "segment", "metrics": ["mrr", "nrr", "logo_churn_rate", "activation_rate"]},
                         {"dimension": "segment", "metrics": list(metric_ids_in(MetricGroup.FLOW))}],
}
"""Arguments of the warm-up calls of the tools that have no defaults (``compute_metrics`` requires a metric list: the
headline metrics and the flow metrics, which build the monthly stage states; ``compare_segments`` a dimension and a
metric list — at most 8, so two calls: the headline metrics by segment, which builds the previous period's
whole-base frames its groups mask — without it the warm-up call failed on its missing arguments and the first timed
call built them — and the flow metrics by segment, which build the stage history of both periods: without them the
first timed call that asked a flow metric built it, ~2 s at 1M)."""


def _enum(schema: dict[str, Any], prop: str, defs: dict[str, Any]) -> list[Any]:
    spec = schema.get("properties", {}).get(prop, {})
    for option in [spec, *spec.get("anyOf", []), spec.get("items", {})]:
        if "$ref" in option:
            option = defs.get(option["$ref"].rsplit("/", 1)[-1], {})
        if "enum" in option:
            return list(option["enum"])
        items = option.get("items", {})
        if "$ref" in items:
            items = defs.get(items["$ref"].rsplit("/", 1)[-1], {})
        if "enum" in items:
            return list(items["enum"])
    return []


class Variants:
    """Argument sets for one tool, each different from every earlier one (module docstring)."""

    def __init__(self, db: Path, rng: random.Random) -> None:
        source = open_source(db)
        self.rng = rng
        self.metrics = list(metric_ids())
        self.filters = [(d.value, v) for d in Dimension for v in source.distinct_values("customers", d.customer_column)]
        rng.shuffle(self.filters)
        self.customers = source.distinct_values("customers", "customer_id")
        rng.shuffle(self.customers)
        last = source.data_range().last
        self.months = [f"{(last.year * 12 + last.month - 1 - k) // 12}-{(last.month - 1 - k) % 12 + 1:02d}" for k in range(24)]
        self._filters = itertools.cycle(self.filters)
        self._customers = iter(self.customers)
        self._seen: set[str] = set()

    def _month_end(self, k: int) -> str:
        year, month = (int(part) for part in self.months[(k + 1) % len(self.months)].split("-"))
        return (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).isoformat()

    def _filter(self, dimension: str | None) -> dict[str, list[str]]:
        """The next filter value, on another column than ``dimension`` (compare_segments refuses a filter on the
        dimension it compares by)."""
        column, value = next(self._filters)
        while column == dimension:
            column, value = next(self._filters)
        return {column: [value]}

    def for_tool(self, tool: Any) -> Iterator[dict[str, Any]]:
        schema = tool.input_schema or {}
        props = set(schema.get("properties", {}))
        defs = schema.get("$defs", {})
        counter = itertools.count()
        while True:
            k = next(counter)
            args: dict[str, Any] = {}
            if "metrics" in props:
                args["metrics"] = self.rng.sample(self.metrics, self.rng.randint(2, 8))
            if "customer_id" in props and tool.name == "classify_customer":
                args["customer_id"] = next(self._customers)
            if "draft" in props:
                args["draft"] = f"MRR grew {self.rng.randint(1, 90)}% and NRR is {self.rng.randint(90, 130)}% this year."
            for prop in ("section", "stage", "dimension", "basis", "mode", "by"):
                values = _enum(schema, prop, defs)
                if prop in props and values:
                    args[prop] = values[k % len(values)]
            if "month" in props:
                args["month"] = self.months[k % len(self.months)]
            if "as_of" in props and not args and "filters" not in props:  # describe_dataset: another as_of (month end)
                args["as_of"] = self._month_end(k)
            if "filters" in props and (k % 2 == 1 or len(args) == 0):
                args["filters"] = self._filter(args.get("dimension"))
            key = f"{tool.name}:{sorted(args.items(), key=str)}"
            if key in self._seen:
                args["filters"] = self._filter(args.get("dimension"))
                key = f"{tool.name}:{sorted(args.items(), key=str)}"
            if key in self._seen:
                continue
            self._seen.add(key)
            yield args


def _warm_arguments(name: str, variants: Variants, calls_per_tool: int) -> list[dict[str, Any]]:
    """The warm-up calls' arguments: ``WARM_ARGUMENTS`` (one call with no arguments for the other tools), and for
    ``classify_customer`` (which requires a customer) the last customer of the shuffled list — one the timed calls,
    which take them from the front, do not ask about. Without it the warm-up call failed on its missing argument and
    the first timed call built the snapshot (74 s at 1M)."""
    if name == "classify_customer" and len(variants.customers) > calls_per_tool:
        return [{"customer_id": variants.customers[-1]}]
    return WARM_ARGUMENTS.get(name, [{}])


def warm_tool_latencies(db: Path, data_dir: Path, calls_per_tool: int = 5, only: set[str] | None = None,
                        time_limit_s: float | None = None) -> dict[str, Any]:
    """Per tool and over all calls: calls, errors, p50 / p95 / max seconds of warm calls with unseen arguments (of the
    tools named in ``only`` when given: those are warmed and timed, the others left alone). ``time_limit_s``: the
    server's per-call limit for the timed calls (the warm-up keeps the default, so the caches get built) — at 1M
    customers a call past it answers with the time-limit error, counted as an error at about that latency."""
    os.environ["LIFECYCLE_DATA_DIR"] = str(data_dir)
    latencies: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}  # CPU seconds of this process per call (what the load on a shared machine inflates less)
    errors: dict[str, list[str]] = {}

    async def main() -> None:
        server = build_server(open_source(db))
        freeze_start_objects()  # as `lifecycle serve` does once its server is built: the start-up objects frozen, its collector policy
        async with Client(server) as client:
            tools = [t for t in (await client.list_tools()).tools if only is None or t.name in only]
            variants = Variants(db, random.Random(SEED))
            for tool in tools:  # warm: every cache a default call builds (the two tools without defaults: a draft, metrics)
                for arguments in _warm_arguments(tool.name, variants, calls_per_tool):
                    started = time.perf_counter()
                    await client.call_tool(tool.name, arguments)
                    print(f"    warm-up {tool.name} {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
            if time_limit_s is not None and server.gate is not None:
                server.gate.limits = replace(server.gate.limits, time_limit_s=time_limit_s)
            for tool in tools:
                if tool.name == "classify_customer" and not variants.customers:
                    continue
                generator = variants.for_tool(tool)
                for _ in range(calls_per_tool):
                    args = next(generator)
                    started, started_cpu = time.perf_counter(), time.process_time()
                    result = await client.call_tool(tool.name, args)
                    latencies.setdefault(tool.name, []).append(time.perf_counter() - started)
                    cpu.setdefault(tool.name, []).append(time.process_time() - started_cpu)
                    if result.is_error:
                        text = " ".join(getattr(block, "text", "") for block in result.content)[:200]
                        errors.setdefault(tool.name, []).append(f"{args}: {text}")
                    print(f"    {tool.name} {latencies[tool.name][-1]:.3f} s{' (error)' if result.is_error else ''} "
                          f"{str(args)[:100]}", file=sys.stderr, flush=True)  # a long run (1M) shows where it is

    anyio.run(main)

    def stats(values: list[float]) -> dict[str, Any]:
        return {"calls": len(values), "p50_s": round(percentile(values, 0.5), 4), "p95_s": round(percentile(values, 0.95), 4),
                "max_s": round(max(values), 4)}

    every = [v for values in latencies.values() for v in values]
    return {"tools": {name: {**stats(values), "cpu_p50_s": round(percentile(cpu[name], 0.5), 4),
                             "cpu_p95_s": round(percentile(cpu[name], 0.95), 4), "errors": errors.get(name, [])}
                      for name, values in latencies.items()},
            "all": stats(every)}
