"""Read limits: how much of an export the importer will take in before it stops with one line naming the limit.

An export is read whole into memory (bytes, then text, then columns), so an unbounded read of ``/dev/zero``, a
gzip bomb or a file with a million columns would exhaust the host's memory or run for minutes. Every reader checks
these limits as early as it can — before reading when the size is known (``stat``, Parquet metadata), while
reading otherwise — and raises ``ImportLimitError`` (file, line when known, the limit and how to raise it).

| limit | default | CLI option | config (``[import]``) |
|---|---|---|---|
| bytes read from disk | 1 GiB | ``--max-bytes`` | ``max_bytes`` |
| decompressed size (``.gz``, Parquet) | 1 GiB | ``--max-decompressed`` | ``max_decompressed_bytes`` |
| columns | 500 | ``--max-columns`` | ``max_columns`` |
| JSON nesting depth | 32 | ``--max-depth`` | ``max_depth`` |
| characters in one field | 1,048,576 | ``--max-field`` | ``max_field_chars`` |

The defaults hold real exports with room to spare (a 1M-row event export is ~70 MB; canonical tables have at
most 13 columns; SQLite's own ceiling is 2,000 columns per table) and stop hostile ones within seconds.
Non-regular files (devices, FIFOs, sockets) are refused before they are opened: they may never end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lifecycle.errors import ConfigError, ImportLimitError

KIB, MIB, GIB = 1 << 10, 1 << 20, 1 << 30


@dataclass(frozen=True)
class ReadLimits:
    """The limits one import reads under (see the module docstring for defaults and overrides)."""

    max_bytes: int = GIB
    max_decompressed_bytes: int = GIB
    max_columns: int = 500
    max_depth: int = 32
    max_field_chars: int = MIB

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"import limit {name} must be a positive whole number, got {value!r}")


DEFAULT_LIMITS = ReadLimits()

OPTION = {  # the CLI option that raises each limit (named in every limit error)
    "max_bytes": "--max-bytes", "max_decompressed_bytes": "--max-decompressed", "max_columns": "--max-columns",
    "max_depth": "--max-depth", "max_field_chars": "--max-field",
}


def limit_error(path: str, why: str, limit: str, line: int | None = None) -> ImportLimitError:
    """``ImportLimitError`` for ``limit`` (a ``ReadLimits`` field) with the advice to raise it."""
    advice = f"raise the limit with {OPTION[limit]} (or [import] {limit} in the --config file)"
    return ImportLimitError(path, f"{why}: {advice}", limit, line)


def size_text(n: int) -> str:
    """A byte count for people: ``1 GiB``, ``512 MiB``, ``2.5 KiB``, ``900 bytes``."""
    for unit, size in (("GiB", GIB), ("MiB", MIB), ("KiB", KIB)):
        if n >= size:
            value = n / size
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n} bytes"


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """``"1G"``, ``"512M"``, ``"2.5GiB"``, ``"1048576"`` → bytes (binary units: K = 1024). ``ValueError`` otherwise."""
    match = _SIZE.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a size; use bytes or a number with K, M, G or T (e.g. 2G)")
    number, unit = float(match.group(1)), match.group(2).upper()
    return int(number * {"": 1, "K": KIB, "M": MIB, "G": GIB, "T": GIB * 1024}[unit])
