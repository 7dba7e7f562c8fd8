"""The start-up phase of a `lifecycle` process: the cyclic garbage collector paused while the command's code loads.

Loading a command imports hundreds of modules and builds thousands of classes, pydantic models and tool schemas — all
alive for as long as the process. CPython's cyclic collector, triggered every few hundred allocations, walks them again
and again meanwhile and finds nothing to free: about a tenth of the import time of `lifecycle serve` and
`lifecycle metrics` (``python -X importtime``; CPU of ``import server.commands.serve_cmd`` 1.07–1.18 s with the
collector paused against 1.22–1.28 s, load 6, 2 cores). So the console entry point (``server.cli.main``) pauses the
collector (``pause_collector``); once the command's module is loaded (``server.commands.root``) the objects alive are
moved out of the collector's reach for good (``gc.freeze``: they live as long as the process; reference counting still
frees them) and the collector resumes (``end_start_up``) before the command computes anything. A command that builds
more long-lived objects before its real work (``serve``: the tool schemas) pauses it again around that build
(``collector_paused``). At exit every object still alive is frozen as well (``freeze_at_exit``): the interpreter's
final collection then walks none of them. Nothing changes in what a command computes or prints.
"""

from __future__ import annotations

import atexit
import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused", "end_start_up", "freeze_at_exit", "pause_collector", "resume_collector"]


def pause_collector() -> bool:
    """Pause the cyclic collector for the start-up phase; whether it was running (``resume_collector`` takes it)."""
    running = gc.isenabled()
    gc.disable()
    return running


def end_start_up() -> None:
    """End a paused start-up phase: freeze every object alive now (``gc.freeze``) and resume the collector. Does nothing
    when the collector is running (no start-up phase under way: e.g. a command run in a test's process)."""
    if gc.isenabled():
        return
    gc.freeze()
    gc.enable()


def resume_collector(was_running: bool) -> None:
    """Resume the collector when ``pause_collector`` found it running (and it was not resumed meanwhile)."""
    if was_running:
        gc.enable()


@contextmanager
def collector_paused() -> Iterator[None]:
    """The block runs with the cyclic collector paused (as it was before afterwards, even on an error): for building
    objects that live as long as the process."""
    running = pause_collector()
    try:
        yield
    finally:
        resume_collector(running)


_FREEZING_AT_EXIT = False


def freeze_at_exit() -> None:
    """Freeze every object alive when the process exits (an ``atexit`` handler, registered once): the interpreter's
    shutdown runs one more full collection over everything not frozen — after `lifecycle metrics` the catalogue's
    frames, tables and results, ~0.2-0.3 s of a 3-4 s cold demo run at load 6-9 (teardown after the command returned
    0.27-0.41 s, with this 0.07-0.12 s) — to free what the operating system takes back anyway. Reference counting
    still frees what it frees at shutdown; only cyclic garbage is left to the end of the process (CPython never
    promised to finalize it at exit). The handler runs before the collection and after the handlers registered later
    (a temporary directory's clean-up included)."""
    global _FREEZING_AT_EXIT
    if not _FREEZING_AT_EXIT:
        _FREEZING_AT_EXIT = True
        atexit.register(gc.freeze)
