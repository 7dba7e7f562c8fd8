"""An import killed mid-way (SIGKILL inside the open write transaction) leaves the database byte-identical."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lifecycle.importing import import_file
from lifecycle.importing.writer import TEST_PAUSE_ENV

ROOT = Path(__file__).resolve().parents[2]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_killed_import_leaves_the_database_byte_identical_and_a_rerun_succeeds(tmp_path: Path) -> None:
    db = tmp_path / "lifecycle.db"
    first = tmp_path / "first.csv"
    first.write_text("customer_id,signup_date\nC1,2024-01-01\n", encoding="utf-8")
    import_file("customers", first, db)
    before = _sha(db)

    second = tmp_path / "second.csv"
    second.write_text("customer_id,signup_date\n" + "".join(f"N{i},2024-02-01\n" for i in range(5000)), encoding="utf-8")
    marker = tmp_path / "writing.marker"
    env = {**os.environ, TEST_PAUSE_ENV: str(marker), "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "server.cli", "import", "customers", str(second), "--db", str(db)]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the import never reached its write transaction"
            time.sleep(0.05)
        assert list(tmp_path.glob("lifecycle.db.tmp-*")), "the import should be writing to a temporary copy"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL
    assert _sha(db) == before

    rerun = subprocess.run(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert not list(tmp_path.glob("lifecycle.db.tmp-*")), "the stale temporary copy is cleaned up"
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM customers").fetchone() == (5001,)
