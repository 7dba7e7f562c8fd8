"""Ctrl-C for long asynchronous commands: the run stops, and the command exits 130 with "Aborted."."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

RESEND_AFTER_S = 0.5


def run_interruptibly(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coroutine)``, where SIGINT cancels the run and raises ``KeyboardInterrupt`` once it has stopped.

    ``asyncio.run`` cancels the main task once on the first SIGINT; a library that absorbs that one cancellation (a
    shielded section of an HTTP client, caught while a connection is being returned to its pool) lets the run go on
    to the end and exit 0 as if nothing had been asked. Here the cancellation is repeated every ``RESEND_AFTER_S``
    seconds until the task stops, and the interrupt is reported even if the run finished anyway. Where the loop
    cannot take signal handlers (Windows), this is plain ``asyncio.run``.
    """
    interrupted = False

    async def main() -> T:
        nonlocal interrupted
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None

        def cancel_until_stopped() -> None:
            nonlocal interrupted
            interrupted = True
            if not task.done():
                task.cancel()
                loop.call_later(RESEND_AFTER_S, cancel_until_stopped)

        try:
            loop.add_signal_handler(signal.SIGINT, cancel_until_stopped)
        except (NotImplementedError, RuntimeError):  # no signal handlers here: asyncio.run's own handling applies
            return await coroutine
        try:
            return await coroutine
        finally:
            loop.remove_signal_handler(signal.SIGINT)

    try:
        result = asyncio.run(main())
    except asyncio.CancelledError:
        if interrupted:
            raise KeyboardInterrupt from None
        raise
    if interrupted:
        raise KeyboardInterrupt
    return result
