"""Build, as an HTTP server starts listening, the two things every first call of a burst waits for: the data's date
range and the snapshot of the default as_of (the data's last day, every customer).

Every analytical tool call resolves its scope against the data's range first (``Scope.resolve``), and every call on
the default as_of reads its snapshot. Computed lazily, the first calls of a burst all wait for the range, then the
ones on the default as_of for its snapshot — measured on the demo under 20 concurrent clients, the range alone held
every first call for 1 s on a loaded machine. ``prime_in_background`` computes both once, on a thread of its own, as
the server starts listening: bounded work (one range look-up — kept on disk between processes,
``lifecycle.disk_memo`` — and one snapshot, read from the Parquet cache when an earlier process built it), done once,
never again after a burst (unlike ``server.warm``, which calls every argument-free tool and resumed after a burst,
refilling the memory the idle release had returned). A call asking for either while it is computed waits for that one
computation (``lifecycle.memo``) and lends its slot meanwhile (``tools.gate``). Nothing it does changes an answer:
it fills the same memo keys a call would, with the same values.

Before the snapshot it counts the customers, which tells the gate how large the data is (``tools.gate.CallGate.size_up``:
on small data each lane of the gate has more slots) — a moment after listening, not once the snapshot is built.

The snapshot stays memoised like one a call built, until the server's idle release (``ServeLimits.idle_release_s``).
stdio servers do not prime: their client waits for ``tools/list`` first (the spawn benchmark, docs/benchmarks.md).
"""

from __future__ import annotations

import logging
import threading
import time

from lifecycle.config import EngineConfig
from lifecycle.sources import DataSource
from tools.gate import CallGate

logger = logging.getLogger(__name__)


def prime(source: DataSource, config: EngineConfig, gate: CallGate | None = None) -> None:
    """The data's range; the number of customers, which tells ``gate`` how large the data is (``CallGate.size_up``:
    more slots on small data); then the default as_of's whole-base snapshot (memoised and cached as a call would)."""
    from lifecycle.dataset import Dataset
    from lifecycle.snapshot.build import snapshot_of

    started = time.perf_counter()
    last_day = source.data_range().last
    if gate is not None:
        gate.size_up(count_customers(source))
    dataset = Dataset.open(source, last_day, config=config)
    try:
        snapshot_of(dataset)
    finally:
        dataset.close()
    logger.info("primed the data range and the %s snapshot in %.2f s", last_day, time.perf_counter() - started)


def count_customers(source: DataSource) -> int:
    """Rows of the ``customers`` table (every customer the data knows: imported, or derived from the events by
    ``lifecycle import --derive-customers``)."""
    connection = source.connect()
    try:
        return int(connection.rows("SELECT COUNT(*) FROM customers")[0][0])
    finally:
        connection.close()


def prime_in_background(source: DataSource, config: EngineConfig, gate: CallGate | None = None) -> threading.Thread:
    """Start ``prime`` on a daemon thread (returns at once); a failure is logged, never raised — a call asking for
    the same thing then says what is wrong."""
    def run() -> None:
        try:
            prime(source, config, gate)
        except Exception:  # noqa: BLE001 - best effort: no data yet, an unreadable file… the tools say so on their own
            logger.info("priming skipped", exc_info=True)

    thread = threading.Thread(target=run, name="lifecycle-prime", daemon=True)
    thread.start()
    return thread
