"""The stage history's checkpoints built ahead in a forked process, handed over as Parquet.

The flow metrics classify a snapshot of the stage features on a dozen monthly checkpoints (``stage_states``): most
of a cold catalogue's time, and most of it pandas work holding the interpreter lock, so a thread cannot overlap it
with the catalogue's other metrics. A forked child (``checkpoints_forked``) has its own interpreter on the second
core: it builds as_of's checkpoint, then the others oldest first, while the parent computes the catalogue — each day's
snapshot kept in the snapshot cache as any build keeps it, and the day's classified stages beside it
(``keep_stages``) — and the parent,
walking back from as_of, reads the stages of the days the child finished (``stages_at``) and builds the others itself;
the two meet in the middle. The child claims the day it is building (a file in a folder of this run): the parent
reaching that day waits for its stages instead of building the same day beside it (``wait_for_claimed``). The child
stops at the first day kept already (the parent's, or an earlier process's: ``checkpoint_kept``) and leaves without
touching what it inherited (``os._exit``: no exit handlers, no inherited connection closed).

Same answers: kept snapshots and stages are what later processes read anyway (the cache is keyed by the data's identity
as read before the connection opened, the as_of, the configuration's fingerprint and the columns or model; the stages
frame survives Parquet exactly), and the child checks that the source still has the parent's identity. A child that
fails, is slow or cannot write leaves the parent to build the days itself. Only on Linux (elsewhere a fork without exec is unsafe once native libraries run, e.g. macOS's
Accelerate), on SQLite sources opened through ``Dataset.over``, and only while the process runs no other thread (a
fork copies one thread; a lock another thread held would stay held in the child).
"""

from __future__ import annotations

import contextlib
import gc
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from lifecycle.config import EngineConfig
from lifecycle.dataset import Dataset
from lifecycle.filters import Filters
from lifecycle.scope import Scope
from lifecycle.sources import DataSource

if TYPE_CHECKING:
    from lifecycle.stages.model import StageModel


class ForkedCheckpoints:
    """The child of ``checkpoints_forked``: calling it ends it (SIGTERM: the snapshot it is writing is dropped, never
    left half-written) and waits for it — the caller has what it needs by then; ``join`` waits for it to finish on its
    own. Either done once, the other does nothing."""

    def __init__(self, pid: int, claims: Path) -> None:
        self.pid = pid
        self.claims = claims  # the child's claim on the day it is building (``wait_for_claimed``)
        self._done = False

    def __call__(self) -> None:
        if not self._done:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)
        self.join()

    def join(self) -> None:
        """Wait for the child to end."""
        if self._done:
            return
        self._done = True
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)
        self._ended()

    def _ended(self) -> None:
        global _RUNNING
        if _RUNNING is self:
            _RUNNING = None
        gc.unfreeze()  # nothing shared any more: the collector looks at every object again
        shutil.rmtree(self.claims, ignore_errors=True)

    def alive(self) -> bool:
        """Whether the child is still running (reaped here when it has ended)."""
        if self._done:
            return False
        try:
            ended, _ = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            ended = self.pid
        if ended:
            self._done = True
            self._ended()
        return not ended


CHECKPOINT_TABLES = (("customers", True), ("subscriptions", False), ("nps_responses", False))
"""The tables the checkpoints' snapshots of the stage features read whole (then derive for each earlier day): read by
the parent before it forks — the catalogue reads them anyway — so the child finds them in the process memo it inherits
instead of reading them again (the memo keys a table read by the data's identity, as_of and statement)."""

_RUNNING: ForkedCheckpoints | None = None  # this process's child, if one runs (in the child itself: None)
POLL_S = 0.002


def _claim(claims: Path, day: date) -> Path:
    return claims / day.isoformat()


def building_ahead() -> bool:
    """Whether this process's child (``checkpoints_forked``) is still building checkpoints — oldest first, so this
    process, walking back from as_of, builds only the newest days left until the two meet."""
    child = _RUNNING
    return child is not None and child.alive()


def wait_for_claimed(day: date, kept: Callable[[], bool]) -> None:
    """When this process's child is building the checkpoint ``day`` (it claimed the day and has not kept it yet),
    wait until it has kept it (``kept``) or ended — reading its snapshot then costs less than building the same one
    beside it. Nothing to wait for otherwise (no child, or a day it has not reached)."""
    child = _RUNNING
    if child is None:
        return
    claim = _claim(child.claims, day)
    while claim.exists() and not kept() and child.alive():
        time.sleep(POLL_S)


def read_checkpoint_tables(dataset: Dataset) -> None:
    """The whole base's ``CHECKPOINT_TABLES`` read into the process memo (``Dataset.table``: keyed by the data's
    identity, as_of and statement), as ``checkpoints_forked`` reads them before it forks — for a caller that overlaps
    the reads with work of its own on another connection (``lifecycle metrics``: the touch summary's statement), done
    before the fork. Read again, they are memo hits."""
    base = dataset.rescoped(Scope(dataset.as_of, dataset.window, Filters()))
    for name, extra in CHECKPOINT_TABLES:
        base.table(name, extra)


def checkpoints_forked(dataset: Dataset) -> ForkedCheckpoints | None:
    """Fork a child that builds the whole base's checkpoint snapshots of the flow metrics (``spell_checkpoints``),
    oldest first, into the snapshot cache (``ForkedCheckpoints``). None when nothing started: not Linux, another
    thread running, not a SQLite source opened through ``Dataset.over``, or the fork failed."""
    source, identity = dataset.source, dataset.identity
    if (sys.platform != "linux" or threading.active_count() > 1 or source is None or identity is None
            or dataset.connection.dialect != "sqlite"):
        return None
    global _RUNNING
    whole = Scope(dataset.as_of, dataset.window, Filters())
    read_checkpoint_tables(dataset)  # before the fork: the child finds them in the memo
    claims = Path(tempfile.mkdtemp(prefix="lifecycle-checkpoints-"))
    gc.freeze()  # the collector leaves the objects both processes share alone: no copy of every page it would touch
    try:
        pid = os.fork()
    except OSError:
        gc.unfreeze()
        shutil.rmtree(claims, ignore_errors=True)
        return None
    if pid == 0:  # the child: build, then leave at once whatever happened
        code = 1
        try:
            signal.signal(signal.SIGTERM, _stop)
            _build_oldest_first(source, identity, whole, dataset.config, claims)
            code = 0
        finally:
            os._exit(code)
    _RUNNING = ForkedCheckpoints(pid, claims)
    return _RUNNING


def _stop(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(1)  # unwinds the child's blocks: a snapshot being written is removed (``write_cached``)


def _build_oldest_first(source: DataSource, identity: tuple[object, ...], whole: Scope, config: EngineConfig,
                        claims: Path) -> None:
    """The child's work: as_of's checkpoint first — the first day the parent's flow metrics read (``progression_rate``
    pairs it with the window start), and the dearest to build (from the whole tables, not derived from a later day's) —
    then the others oldest first, until a day is kept already."""
    from lifecycle.metrics.flow import spell_checkpoints
    from lifecycle.stages.history import checkpoint_kept, checkpoints_prefetched, states_at_hand
    from lifecycle.stages.model import model_for

    ahead = Dataset.over(source, whole, config)
    try:
        if ahead.identity != identity:  # the data was replaced meanwhile
            return
        model, days = model_for(ahead), spell_checkpoints(ahead)
        if states_at_hand(ahead, model, days):
            return
        _keep_claimed(ahead, model, days[0], claims)  # as_of: needs nothing prefetched
        with checkpoints_prefetched(ahead, model, [day for day in days[1:] if not checkpoint_kept(ahead, model, day)]):
            for day in reversed(days[1:]):
                if not _keep_claimed(ahead, model, day, claims):
                    return  # the parent (walking back from as_of) or an earlier process has it: they met
    finally:
        ahead.close()


def _keep_claimed(ahead: Dataset, model: StageModel, day: date, claims: Path) -> bool:
    """Build and keep the checkpoint ``day`` under a claim (``keep_stages``); False when it was kept already."""
    from lifecycle.stages.history import checkpoint_kept, keep_stages

    claim = _claim(claims, day)
    claim.touch()  # the parent waits for this day instead of building it beside us
    try:
        if checkpoint_kept(ahead, model, day):
            return False
        keep_stages(ahead, model, day)  # the snapshot built (and kept), classified, the stages kept
        return True
    finally:
        claim.unlink(missing_ok=True)
