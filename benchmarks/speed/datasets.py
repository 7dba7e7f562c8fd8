"""The datasets the speed benchmark runs on: the demo, and the demo replicated to 100k and 1M customers.

The replicas are ``bench_scale.build_scaled``'s (ids prefixed per copy, events thinned at 100k and 1M — see that
module), so the sizes here and in the scale section describe the same data. Built once per working directory and
reused when the directory is kept (``--work DIR``).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from bench_scale import build_scaled, event_stride

from data.generator import build_demo

SIZES = {"demo": 0, "100k": 100_000, "1m": 1_000_000}
"""Size names on the command line → customers (0: the demo as built)."""


@dataclass(frozen=True)
class BenchDataset:
    """A dataset on disk: its size name, path, customers and events."""

    name: str
    path: Path
    customers: int
    events: int
    event_stride: int


def prepare(name: str, work: Path) -> BenchDataset:
    """The dataset called ``name`` (a ``SIZES`` key) in ``work``, built when missing."""
    demo = work / "demo.db"
    if not demo.exists():
        build_demo(demo)
    path, stride = demo, 1
    if SIZES[name]:
        stride = event_stride(SIZES[name])
        path = work / f"scale-{name}.db"
        if not path.exists():
            build_scaled(demo, path, SIZES[name], stride)
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        customers = conn.execute("SELECT count(*) FROM customers").fetchone()[0]
        events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    finally:
        conn.close()
    return BenchDataset(name, path, customers, events, stride)
