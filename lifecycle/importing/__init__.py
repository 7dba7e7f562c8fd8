"""The data importer: CSV/TSV, JSON, JSON Lines and Parquet exports into the canonical tables, all or nothing.

Modules, in the order an import runs through them: ``readers``, ``records`` and ``raw`` (file → text columns with line numbers),
``mapping`` and ``derive`` (export columns → canonical columns; presets), ``parsing`` and ``dates`` (text → typed
values, vectorised), ``coerce`` (types and business rules per column), ``keys`` (derived keys, duplicates),
``writer`` and ``rejects`` (the store and the rejects file), ``importer`` (the whole pipeline). See
docs/importing.md for the user-facing rules.
"""

from lifecycle.importing.importer import ImportOptions, ImportReport, import_file
from lifecycle.importing.mapping import load_mapping, load_preset, preset_names

__all__ = ["ImportOptions", "ImportReport", "import_file", "load_mapping", "load_preset", "preset_names"]
