"""Ctrl-C stops a long asynchronous command even when a library absorbs the first cancellation."""

from __future__ import annotations

import asyncio
import signal

import pytest

from server.interrupt import run_interruptibly


def _interrupt_soon() -> None:
    asyncio.get_running_loop().call_later(0.1, signal.raise_signal, signal.SIGINT)


def test_a_run_that_absorbs_the_first_cancellation_is_still_interrupted() -> None:
    """Plain ``asyncio.run`` cancels once: this coroutine would then sleep on and return "finished"."""
    async def stubborn() -> str:
        _interrupt_soon()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            pass  # absorbed, as a shielded section of an HTTP client can
        await asyncio.sleep(30)
        return "finished"

    with pytest.raises(KeyboardInterrupt):
        run_interruptibly(stubborn())


def test_a_run_that_finishes_despite_the_interrupt_reports_the_interrupt() -> None:
    async def deaf() -> str:
        _interrupt_soon()
        for _ in range(3):
            try:
                await asyncio.sleep(0.3)
            except asyncio.CancelledError:
                pass
        return "finished"

    with pytest.raises(KeyboardInterrupt):
        run_interruptibly(deaf())


def test_an_uninterrupted_run_returns_its_result_and_restores_sigint() -> None:
    async def quick() -> int:
        return 42

    before = signal.getsignal(signal.SIGINT)
    assert run_interruptibly(quick()) == 42
    assert signal.getsignal(signal.SIGINT) is before
