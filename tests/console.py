"""Run the installed `lifecycle` console script (the one next to this interpreter) as a user would, in a subprocess."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(sys.executable).parent / "lifecycle"
DOCS = Path(__file__).resolve().parents[1] / "docs"


def lifecycle(*args: str, cwd: Path, timeout: float = 300, **env: str) -> subprocess.CompletedProcess[str]:
    """``lifecycle ARGS`` in ``cwd`` with this environment (plus ``env``), a wide terminal, text output captured."""
    environment = {k: v for k, v in os.environ.items() if k != "LIFECYCLE_DB"} | {"COLUMNS": "200"} | env
    return subprocess.run([str(SCRIPT), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=environment)


def import_csvs(directory: Path, tables: dict[str, str], db: str, *options: str) -> Path:
    """Write each table's CSV text to ``directory/<table>.csv`` and import it into ``directory/db`` with the console
    script, in the order given (asserting each import succeeds); the database's path."""
    for table, text in tables.items():
        (directory / f"{table}.csv").write_text(text, encoding="utf-8")
        done = lifecycle("import", table, f"{table}.csv", "--db", db, *options, cwd=directory)
        assert done.returncode == 0, done.stderr
    return directory / db


def documented_mapping(name: str, page: str = "importing.md") -> str:
    """The TOML block that follows ``<!-- mapping: NAME -->`` in ``docs/PAGE``: the tests use the mapping as printed."""
    text = (DOCS / page).read_text(encoding="utf-8")
    found = re.search(r"<!-- mapping: %s -->\n```toml\n(.*?)```" % re.escape(name), text, re.S)
    if found is None:
        raise AssertionError(f"docs/{page} has no mapping block named {name!r}")
    return found.group(1)


def one_error_line(stderr: str) -> str:
    """The single ``Error:`` line of a failed command (asserting there is exactly one line and no traceback)."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr, stderr
    assert len(lines) == 1 and lines[0].startswith("Error: "), stderr
    return lines[0]
