"""A package's public names, imported from their submodules on first use (PEP 562).

``lifecycle serve`` answers ``initialize`` and ``tools/list`` before any number is computed, so the packages on that
path (``lifecycle.health``, ``lifecycle.stages``, …) must not load pandas, NumPy, DuckDB or sqlglot just because one
light submodule (a profile, an enum, a dataclass) is needed. Their ``__init__`` lists which submodule defines each
name, and a name's submodule is imported the first time the name is asked for::

    __getattr__, __dir__ = exports(__name__, {"profile": ("Reason", "load_health_profile"), "risk": ("list_at_risk",)})

``from lifecycle.health import Reason`` then imports ``lifecycle.health.profile`` only.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
from types import ModuleType
from typing import Any


def exports(package: str,
            submodules: Mapping[str, Iterable[str]]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: each name in ``submodules[sub]`` resolves to
    ``package.sub.name``, imported on its first lookup (the import system's own lock makes that thread-safe); any
    other name raises ``AttributeError`` as a plain module would."""
    where = {name: sub for sub, names in submodules.items() for name in names}

    def __getattr__(name: str) -> Any:
        sub = where.get(name)
        if sub is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{sub}"), name)
        setattr(sys.modules[package], name, value)  # found once: later lookups are plain attribute reads
        return value

    def __dir__() -> list[str]:
        return sorted(where)

    return __getattr__, __dir__


class _DeferredModule(ModuleType):
    """Stands in for a module until its first attribute is read; then imports it and takes over its namespace."""

    def __getattr__(self, attribute: str) -> Any:
        real = importlib.import_module(self.__name__)
        self.__dict__.update(real.__dict__)  # later reads are plain attribute reads
        return getattr(real, attribute)


def deferred_module(name: str) -> ModuleType:
    """A stand-in for ``import name`` that imports the module when one of its attributes is first read — for a
    module that needs pandas or NumPy inside its functions only, so that importing it (for a dataclass, an enum, a
    constant) stays cheap::

        if TYPE_CHECKING:
            import pandas as pd
        else:
            pd = deferred_module("pandas")

    Behaviour is the same as with the plain import: ``pd.DataFrame`` is pandas' own class, only loaded later."""
    return _DeferredModule(name)
