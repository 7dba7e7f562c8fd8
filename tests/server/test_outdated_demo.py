"""A demo database written by an older schema is rebuilt, not read with columns it lacks.

Seen on a machine upgraded across schema 3 (renewal-aware subscriptions): `lifecycle plan` read the old demo and
failed with "no such column: t.term_months"."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from lifecycle.store import SCHEMA_VERSION, schema_is_outdated
from tests.server.helpers import server_env

LIFECYCLE = Path(sys.executable).with_name("lifecycle")


def _store_with_version(path: Path, version: int) -> Path:
    """A Lifecycle MCP store stub recording ``version`` in ``_meta``."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE _meta (key TEXT PRIMARY KEY, value TEXT)")
    conn.execute("INSERT INTO _meta VALUES ('schema_version', ?)", (str(version),))
    conn.commit()
    conn.close()
    return path


def test_only_a_recorded_older_version_is_outdated(tmp_path: Path) -> None:
    assert schema_is_outdated(_store_with_version(tmp_path / "old.db", SCHEMA_VERSION - 1))
    assert not schema_is_outdated(_store_with_version(tmp_path / "current.db", SCHEMA_VERSION))


@pytest.mark.slow
def test_the_default_demo_written_by_an_older_schema_is_rebuilt_by_the_cli(isolated_data_dir: Path) -> None:
    demo = _store_with_version(isolated_data_dir / "demo.db", SCHEMA_VERSION - 1)
    done = subprocess.run([str(LIFECYCLE), "metrics", "--json"], capture_output=True, text=True, timeout=900,
                          env=server_env(isolated_data_dir))
    assert done.returncode == 0, done.stderr
    assert not schema_is_outdated(demo)
    assert '"mrr"' in done.stdout
