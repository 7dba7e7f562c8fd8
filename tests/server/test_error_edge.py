"""The CLI's last-resort error edge: whatever escapes a command is one ``Error:`` line and exit 1, never a traceback
(``LIFECYCLE_DEBUG=1`` re-raises it for a developer)."""

from __future__ import annotations

import sqlite3

import pytest

import server.cli as cli


def _run_main(monkeypatch: pytest.MonkeyPatch, exc: BaseException) -> int:
    def boom(**_: object) -> None:
        raise exc

    monkeypatch.setattr(cli, "app", boom)
    with pytest.raises(SystemExit) as info:
        cli.main()
    return int(info.value.code or 0)


@pytest.mark.parametrize(("exc", "fragment"), [
    (sqlite3.DatabaseError("database disk image is malformed"), "the database could not be read (database disk image is malformed)"),
    (MemoryError(), "ran out of memory"),
    (KeyError("x_col"), "unexpected internal error (KeyError: 'x_col'); please report it"),
])
def test_an_unexpected_exception_is_one_error_line_and_exit_1(exc: BaseException, fragment: str,
                                                             monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv(cli.DEBUG_ENV, raising=False)
    assert _run_main(monkeypatch, exc) == 1
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and fragment in lines[0], err
    assert "Traceback" not in err


def test_lifecycle_debug_shows_the_real_exception(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cli.DEBUG_ENV, "1")

    def boom(**_: object) -> None:
        raise KeyError("x_col")

    monkeypatch.setattr(cli, "app", boom)
    with pytest.raises(KeyError):
        cli.main()
