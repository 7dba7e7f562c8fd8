"""The serving collector policy (``tools.gate.tune_collector_for_serving``): full collections wait for the release
after a burst, which freezes what survives it; the idle release unfreezes first, so no cycle is kept for good.

Each check runs in a fresh interpreter: the policy changes process-wide collector state that must not leak into the
test process (frozen objects there would never be collected).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

PRELUDE = """
import gc, weakref
import tools.gate as gate

class Node:
    def __init__(self):
        self.me = self  # a reference cycle: only the cyclic collector frees it

def cycle():
    node = Node()
    return node, weakref.ref(node)
"""


def run(body: str) -> str:
    """Run ``PRELUDE`` + ``body`` in a new interpreter (this venv's); its stdout."""
    done = subprocess.run([sys.executable, "-c", PRELUDE + textwrap.dedent(body)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.parametrize("tuned", [False, True])
def test_only_a_serving_process_raises_the_full_collection_threshold(tuned: bool) -> None:
    """CPython's default third threshold is 10; the serving policy sets ``SERVING_GEN2_THRESHOLD`` (100) and keeps the
    first two as they were; a library user's process (no call of the policy) keeps the defaults."""
    out = run(f"""
        before = gc.get_threshold()
        if {tuned}:
            gate.tune_collector_for_serving()
        print(before, gc.get_threshold())
    """)
    assert out == ("(700, 10, 10) (700, 10, 100)" if tuned else "(700, 10, 10) (700, 10, 10)")


def test_a_release_while_serving_freezes_the_survivors_and_frees_garbage_cycles() -> None:
    """A cycle dropped before the release is freed by it; a cycle still held is frozen by it (the collector no longer
    tracks it: ``gc.get_objects()`` does not list it) and, once dropped, is not freed by the next plain release."""
    out = run("""
        gate.tune_collector_for_serving()
        kept, kept_ref = cycle()
        dropped, dropped_ref = cycle()
        del dropped
        gate.release_memory()
        tracked = any(o is kept for o in gc.get_objects())
        del kept
        gate.release_memory()
        print(dropped_ref() is None, tracked, kept_ref() is None, gc.get_freeze_count() > 0)
    """)
    assert out == "True False False True"


def test_the_idle_release_frees_a_cycle_frozen_by_an_earlier_release() -> None:
    """A cycle frozen by a release and dropped afterwards is freed by the idle release (which unfreezes first)."""
    out = run("""
        gate.tune_collector_for_serving()
        kept, kept_ref = cycle()
        gate.release_memory()
        del kept
        gate.release_idle(float("inf"))
        print(kept_ref() is None)
    """)
    assert out == "True"


def test_a_release_outside_serving_freezes_nothing() -> None:
    """Without the policy (the library, a test's process) ``release_memory`` only collects: nothing is frozen."""
    out = run("""
        kept, kept_ref = cycle()
        frozen = gc.get_freeze_count()
        gate.release_memory()
        print(gc.get_freeze_count() == frozen, any(o is kept for o in gc.get_objects()))
    """)
    assert out == "True True"
