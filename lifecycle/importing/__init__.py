"""The data importer: CSV/TSV, JSON, JSON Lines and Parquet exports into the canonical tables, all or nothing.

Modules, in the order an import runs through them: ``readers``, ``records`` and ``raw`` (file → text columns with line numbers),
``mapping`` and ``derive`` (export columns → canonical columns; presets), ``parsing`` and ``dates`` (text → typed
values, vectorised), ``coerce`` (types and business rules per column), ``keys`` (derived keys, duplicates),
``writer`` and ``rejects`` (the store and the rejects file), ``importer`` (the whole pipeline). See
docs/importing.md for the user-facing rules.

The names below are loaded on first use (PEP 562): importing a light module of the package — ``limits``, which the
engine configuration reads — does not load the pipeline (pandas, pyarrow) with it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lifecycle.importing.importer import ImportOptions, ImportReport, import_file
    from lifecycle.importing.mapping import load_mapping, load_preset, preset_names

_HOMES = {"ImportOptions": "importer", "ImportReport": "importer", "import_file": "importer",
          "load_mapping": "mapping", "load_preset": "mapping", "preset_names": "mapping"}

__all__ = ["ImportOptions", "ImportReport", "import_file", "load_mapping", "load_preset", "preset_names"]


def __getattr__(name: str) -> Any:
    """The public names, imported from their module when first asked for."""
    if name not in _HOMES:
        raise AttributeError(f"module 'lifecycle.importing' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"lifecycle.importing.{_HOMES[name]}"), name)
    globals()[name] = value
    return value
