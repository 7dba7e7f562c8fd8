"""How the speed benchmark measures: A/B interleaved, the minimum of ≥ 3, processes timed with their own CPU and
peak memory, growth exponents between sizes.

On a shared machine the other work slows both sides of a pair alike only when they run at nearly the same time, so
every case alternates the product and its peer (A B B A A B …) and reports each side's minimum — the run least
disturbed — and their ratio. CPU seconds (user + system of the measured process, from ``wait4``) are reported next
to wall seconds: on a loaded box they move less than wall time.
"""

from __future__ import annotations

import math
import os
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Sample:
    """One timed run: wall seconds, CPU seconds (user + system) and peak resident memory in MiB (None in-process)."""

    wall_s: float
    cpu_s: float
    peak_mib: float | None = None


@dataclass
class Side:
    """Every run of one side of a pair, and its best."""

    label: str
    samples: list[Sample] = field(default_factory=list)

    @property
    def best(self) -> Sample:
        """The run with the least wall time (its CPU and memory ride along); the minimum CPU is ``best_cpu_s``."""
        return min(self.samples, key=lambda s: s.wall_s)

    @property
    def best_cpu_s(self) -> float:
        return min(s.cpu_s for s in self.samples)

    def to_dict(self) -> dict[str, Any]:
        best = self.best
        peaks = [s.peak_mib for s in self.samples if s.peak_mib is not None]
        return {"label": self.label, "best_wall_s": round(best.wall_s, 4), "best_cpu_s": round(self.best_cpu_s, 4),
                "peak_mib": round(max(peaks), 1) if peaks else None, "runs": [asdict(s) for s in self.samples]}


@dataclass
class Pair:
    """The product against its peer (or floor): both sides' runs, the ratio of their minima."""

    product: Side
    peer: Side | None

    @property
    def ratio(self) -> float | None:
        """min(product wall) ÷ min(peer wall)."""
        return self.product.best.wall_s / self.peer.best.wall_s if self.peer else None

    @property
    def cpu_ratio(self) -> float | None:
        return self.product.best_cpu_s / self.peer.best_cpu_s if self.peer and self.peer.best_cpu_s > 0 else None

    def to_dict(self) -> dict[str, Any]:
        return {"product": self.product.to_dict(), "peer": self.peer.to_dict() if self.peer else None,
                "ratio": round(self.ratio, 3) if self.ratio is not None else None,
                "cpu_ratio": round(self.cpu_ratio, 3) if self.cpu_ratio is not None else None}


def interleaved(product: Callable[[], Sample], peer: Callable[[], Sample] | None, repeats: int = 3,
                labels: tuple[str, str] = ("product", "peer")) -> Pair:
    """Run ``product`` and ``peer`` ``repeats`` times each, alternating A B, B A, A B, … (each round swaps who goes
    first, so neither side always runs right after the other's cache warm-up)."""
    pair = Pair(Side(labels[0]), Side(labels[1]) if peer else None)
    for round_ in range(max(1, repeats)):
        order = [(product, pair.product), (peer, pair.peer)]
        if round_ % 2:
            order.reverse()
        for call, side in order:
            if call is not None and side is not None:
                side.samples.append(call())
    return pair


def timed(call: Callable[[], Any]) -> tuple[Sample, Any]:
    """Run ``call`` in this process: its wall and CPU time (all threads of the process), and its value."""
    wall, cpu = time.perf_counter(), time.process_time()
    value = call()
    return Sample(time.perf_counter() - wall, time.process_time() - cpu), value


GNU_TIME = Path("/usr/bin/time")


def with_peak_report(argv: Sequence[str], report: Path) -> list[str]:
    """``argv`` run under GNU time writing the child's peak RSS (KiB) to ``report``, when GNU time is installed.

    A child's own ``ru_maxrss`` cannot be read from ``wait4`` here: a process started from this (large) benchmark
    process inherits its high-water mark at ``exec``. GNU time is small, so the program it starts reports its own."""
    return [str(GNU_TIME), "-f", "%M", "-o", str(report), *argv] if GNU_TIME.exists() else list(argv)


def read_peak_mib(report: Path) -> float | None:
    """The peak RSS GNU time wrote to ``report``, in MiB (None when absent)."""
    try:
        return int(report.read_text().split()[-1]) / 1024
    except (OSError, ValueError, IndexError):
        return None


def run_process(argv: Sequence[str], env: Mapping[str, str] | None = None, cwd: Path | None = None,
                stdin: bytes | None = None, timeout_s: float = 3600.0) -> tuple[Sample, str]:
    """Run ``argv`` to completion: wall time, the child's own CPU and peak RSS (``wait4``), and its stdout.

    Fails with ``RuntimeError`` carrying the end of stderr when the process exits non-zero.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "peak"
        started = time.perf_counter()
        child = subprocess.Popen(with_peak_report(argv, report), stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                                 stdout=out, stderr=err, env=dict(env) if env is not None else None, cwd=cwd)
        if stdin is not None:
            assert child.stdin is not None
            child.stdin.write(stdin)
            child.stdin.close()
        deadline = started + timeout_s
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                child.kill()
                raise RuntimeError(f"{' '.join(argv[:3])} … ran past {timeout_s:.0f} s")
            time.sleep(0.002)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text, problems = out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")
        peak = read_peak_mib(report)
    if child.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:4])} … exited {child.returncode}: {problems.strip()[-1500:]}")
    return Sample(wall, usage.ru_utime + usage.ru_stime, peak), text


def growth_exponents(points: Sequence[tuple[int, float]]) -> list[float | None]:
    """Between consecutive (size, seconds) points: k in t ∝ n^k, i.e. log(t₂/t₁) ÷ log(n₂/n₁) (1 = linear)."""
    out: list[float | None] = []
    for (n1, t1), (n2, t2) in zip(points, points[1:]):
        out.append(round(math.log(t2 / t1) / math.log(n2 / n1), 2) if t1 > 0 and t2 > 0 and n2 != n1 else None)
    return out


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-quantile (0..1) of ``values`` by linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
