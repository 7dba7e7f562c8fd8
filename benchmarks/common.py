"""What the benchmark scripts share: machine facts for the results files, and a demo database to run on."""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def machine_info() -> dict[str, object]:
    """Cores, Python, key library versions, date and 1-minute load average (other work on the box skews timings)."""
    import duckdb
    import numpy
    import pandas

    return {
        "generated": time.strftime("%Y-%m-%d %H:%M:%S"),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "pandas": pandas.__version__,
        "numpy": numpy.__version__,
        "duckdb": duckdb.__version__,
        "machine": platform.machine(),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


@contextmanager
def demo_database(path: str | None) -> Iterator[Path]:
    """``path`` when given, else the Helloword demo built into a temporary directory (removed afterwards).

    ``LIFECYCLE_DATA_DIR`` points into a temporary directory meanwhile, so snapshot caches never land in the
    user's data directory.
    """
    from data.generator import build_demo

    with tempfile.TemporaryDirectory(prefix="lifecycle-bench-") as scratch:
        previous = os.environ.get("LIFECYCLE_DATA_DIR")
        os.environ["LIFECYCLE_DATA_DIR"] = str(Path(scratch) / "data")
        try:
            if path:
                yield Path(path)
            else:
                target = Path(scratch) / "demo.db"
                build_demo(target)
                yield target
        finally:
            if previous is None:
                os.environ.pop("LIFECYCLE_DATA_DIR", None)
            else:
                os.environ["LIFECYCLE_DATA_DIR"] = previous
