"""SciPy's special functions and optimiser, imported on their first call.

SciPy takes a noticeable part of a cold start (``lifecycle serve`` answers tools/list before any model is fitted), so
the CLV modules call these stand-ins, which import the real function once and then forward every call to it —
same arguments, same results.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def _deferred(module: str, name: str) -> Callable[..., Any]:
    """``module.name``, imported on the first call (thread-safe: the import system holds its own lock)."""
    found: list[Callable[..., Any]] = []

    def call(*args: Any, **kwargs: Any) -> Any:
        if not found:
            found.append(getattr(importlib.import_module(module), name))
        return found[0](*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"``{module}.{name}``, imported on its first call."
    return call


betaln = _deferred("scipy.special", "betaln")
digamma = _deferred("scipy.special", "digamma")
expit = _deferred("scipy.special", "expit")
gammaln = _deferred("scipy.special", "gammaln")
hyp2f1 = _deferred("scipy.special", "hyp2f1")
logsumexp = _deferred("scipy.special", "logsumexp")
polygamma = _deferred("scipy.special", "polygamma")
minimize = _deferred("scipy.optimize", "minimize")
