"""Concurrent imports into one database queue behind its write lock: none loses another's rows, none crashes.

Before the lock, two imports each deleted every ``.tmp-*`` file beside the database (the other's working copy
included) and 4 of 5 rounds ended in a traceback; and two imports copying the same original could each rename
their copy over it, the second discarding the first's rows (a lost update). The invariant pinned here: every import
that reports success has all of its rows in the database afterwards, and every failure is one ``Error:`` line.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from lifecycle.errors import DatabaseBusyError
from lifecycle.importing import import_file
from lifecycle.importing.writer import TEST_PAUSE_ENV
from lifecycle.store import open_readonly
from lifecycle.write_lock import write_lock

LIFECYCLE = str(Path(sys.executable).parent / "lifecycle")


def _customers(path: Path, prefix: str, n: int) -> Path:
    path.write_text("customer_id,signup_date,name\n" + "".join(f"{prefix}{i},2024-01-{1 + i % 28:02d},n{i}\n" for i in range(n)),
                    encoding="utf-8")
    return path


def _count(db: Path, prefix: str | None = None) -> int:
    conn = open_readonly(db)
    try:
        if prefix is None:
            return conn.execute("SELECT count(*) FROM customers").fetchone()[0]
        return conn.execute("SELECT count(*) FROM customers WHERE customer_id LIKE ?", (prefix + "%",)).fetchone()[0]
    finally:
        conn.close()


def _integrity(db: Path) -> str:
    conn = open_readonly(db)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def test_imports_from_several_threads_queue_and_all_keep_their_rows(tmp_path: Path) -> None:
    db = tmp_path / "one.db"
    sources = [_customers(tmp_path / f"t{k}.csv", f"T{k}-", 300) for k in range(4)]
    errors: list[BaseException] = []

    def run(source: Path) -> None:
        try:
            import_file("customers", source, db)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(s,)) for s in sources]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert _count(db) == 1200
    assert all(_count(db, f"T{k}-") == 300 for k in range(4))


def test_the_lock_is_reentrant_within_a_thread_and_exclusive_across_threads(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    seen: list[str] = []
    with write_lock(db, wait_s=0):
        with write_lock(db, wait_s=0):  # the same thread takes it again (an import inside atomic_write)
            pass

        def other() -> None:
            try:
                with write_lock(db, wait_s=0):
                    seen.append("acquired")
            except DatabaseBusyError:
                seen.append("busy")

        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
    assert seen == ["busy"]
    with write_lock(db, wait_s=0):  # released after the outermost exit
        pass


def _paused_import(source: Path, db: Path, marker: Path, seconds: str = "60") -> subprocess.Popen[str]:
    env = {**os.environ, TEST_PAUSE_ENV: str(marker), TEST_PAUSE_ENV + "_SECONDS": seconds}
    return subprocess.Popen([LIFECYCLE, "import", "customers", str(source), "--db", str(db)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(marker: Path, process: subprocess.Popen[str], timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while not marker.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the import never reached its write transaction"
        time.sleep(0.05)


def test_a_second_import_that_will_not_wait_names_the_process_holding_the_lock(tmp_path: Path) -> None:
    db = tmp_path / "busy.db"
    import_file("customers", _customers(tmp_path / "base.csv", "B", 5), db)
    marker = tmp_path / "writing.marker"
    first = _paused_import(_customers(tmp_path / "first.csv", "F", 50), db, marker)
    try:
        _wait_for(marker, first)
        second = subprocess.run([LIFECYCLE, "import", "customers", str(_customers(tmp_path / "second.csv", "S", 5)),
                                 "--db", str(db), "--wait", "0"], capture_output=True, text=True, timeout=120)
    finally:
        first.kill()
        first.wait(timeout=30)
    assert second.returncode == 1
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), second.stderr
    assert f"pid {first.pid}" in lines[0] and "another import is writing to this database" in lines[0]
    assert "--wait" in lines[0]
    assert _count(db) == 5, "the killed first import and the refused second one changed nothing"


@pytest.mark.slow
def test_five_rounds_of_two_concurrent_60k_row_imports_lose_nothing(tmp_path: Path) -> None:
    """Acceptance: each round starts two console-script imports of 60,000 new customers at once; both must
    succeed (the second queues) and the database must then hold 120,000 more rows, integrity ok, no traceback."""
    db = tmp_path / "shared.db"
    expected = 0
    for round_ in range(5):
        sources = [_customers(tmp_path / f"r{round_}-{k}.csv", f"R{round_}-{k}-", 60_000) for k in range(2)]
        processes = [subprocess.Popen([LIFECYCLE, "import", "customers", str(s), "--db", str(db)],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for s in sources]
        outcomes = [p.communicate(timeout=600) for p in processes]
        for process, (_, stderr) in zip(processes, outcomes):
            assert "Traceback" not in stderr
            assert process.returncode == 0, stderr
        expected += 120_000
        assert _count(db) == expected
        assert all(_count(db, f"R{round_}-{k}-") == 60_000 for k in range(2))
    assert _integrity(db) == "ok"
    assert not list(tmp_path.glob("shared.db.tmp-*"))


@pytest.mark.slow
def test_kill_9_during_an_import_with_live_readers_and_a_queued_second_import(tmp_path: Path) -> None:
    """Import A is killed (SIGKILL) inside its write transaction while import B waits for the lock and four reader
    threads count rows in a loop. Readers only ever see the complete before/after states, never an error; B then
    runs and keeps its rows; A's rows are absent; a re-run of A succeeds."""
    db = tmp_path / "live.db"
    import_file("customers", _customers(tmp_path / "base.csv", "Z", 1000), db)
    a_source = _customers(tmp_path / "a.csv", "A", 20_000)
    b_source = _customers(tmp_path / "b.csv", "B", 20_000)
    allowed = {1000, 21_000}  # before B, after B (A never lands)
    seen: set[int] = set()
    reader_errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                seen.add(_count(db))
            except BaseException as exc:  # noqa: BLE001 - every reader error fails the test
                reader_errors.append(exc)
                return

    readers = [threading.Thread(target=reader) for _ in range(4)]
    for t in readers:
        t.start()
    marker = tmp_path / "a.marker"
    a = _paused_import(a_source, db, marker)
    try:
        _wait_for(marker, a)
        b = subprocess.Popen([LIFECYCLE, "import", "customers", str(b_source), "--db", str(db)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert b.stderr is not None
        waiting = b.stderr.readline()  # B says so once it finds A holding the lock
        a.send_signal(signal.SIGKILL)
        a.wait(timeout=30)
        _, rest = b.communicate(timeout=300)
        b_err = waiting + rest
    finally:
        for process in (a,):
            if process.poll() is None:
                process.kill()
        stop.set()
        for t in readers:
            t.join(timeout=30)
    assert a.returncode == -signal.SIGKILL
    assert b.returncode == 0, b_err
    assert "Traceback" not in b_err and "Waiting for another import" in b_err
    assert reader_errors == []
    assert seen <= allowed and 1000 in seen
    assert (_count(db, "Z"), _count(db, "B"), _count(db, "A")) == (1000, 20_000, 0)
    assert _integrity(db) == "ok"
    rerun = subprocess.run([LIFECYCLE, "import", "customers", str(a_source), "--db", str(db)], capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert _count(db) == 41_000
    assert not list(tmp_path.glob("live.db.tmp-*")), "the killed import's working copy is cleaned up"
