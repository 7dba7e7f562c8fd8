"""The start-up phase (``server.startup``): the console entry point loads a command's code with the cyclic collector
paused, and the collector runs again — with the start-up objects frozen — before the command computes and after it
ends, whatever the command does (succeeds, fails on usage, or never loads a module)."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

import pytest

from server.startup import collector_paused, end_start_up
from tests.server.helpers import server_env

ROOT = Path(__file__).resolve().parents[2]


def collector_seen_by(tmp_path: Path, *argv: str) -> dict[str, object]:
    """Run ``lifecycle *argv`` through ``server.cli.main`` in a new interpreter, as the console script does, with a
    probe on the command's own work; report whether the collector ran while the command computed, afterwards, and how
    many objects were frozen."""
    code = ("import gc, json, sys\n"
            "from server.cli import main\n"
            "import server.commands.root as root\n"
            "seen = {}\n"
            "loaded = root.load_command\n"
            "def probe(name):\n"
            "    command = loaded(name)\n"
            "    callback = command.callback\n"
            "    def run(*args, **kwargs):\n"
            "        seen['during'] = gc.isenabled()\n"
            "        return callback(*args, **kwargs)\n"
            "    command.callback = run\n"
            "    return command\n"
            "root.load_command = probe\n"
            "sys.argv = ['lifecycle', *json.loads(sys.argv[1])]\n"
            "try:\n    main()\nexcept SystemExit as exc:\n    seen['code'] = exc.code\n"
            "seen['after'] = gc.isenabled()\nseen['frozen'] = gc.get_freeze_count()\n"
            "sys.stderr.write('\\nSEEN ' + json.dumps(seen))\n")
    done = subprocess.run([sys.executable, "-c", code, json.dumps(list(argv))], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env=server_env(tmp_path / "data"))
    return json.loads(done.stderr.rpartition("SEEN ")[2])  # type: ignore[no-any-return]


def test_a_command_computes_with_the_collector_running_and_its_start_up_objects_frozen(tmp_path: Path) -> None:
    seen = collector_seen_by(tmp_path, "schema", "--plain")
    assert seen["during"] is True  # resumed once the command's module was loaded, before the command ran
    assert seen["after"] is True
    assert int(seen["frozen"]) > 1000  # the modules' objects (typer, rich, the command) were frozen at the switch
    assert seen.get("code") in (None, 0)


@pytest.mark.parametrize("argv", [("no-such-command",), ("metrics", "--no-such-option"), ("--help",)],
                         ids=["unknown command", "bad option", "root help"])
def test_the_collector_runs_again_when_no_command_runs(tmp_path: Path, argv: tuple[str, ...]) -> None:
    """A usage error (exit 2) or the root help (no command module loaded) still leaves the collector running."""
    seen = collector_seen_by(tmp_path, *argv)
    assert seen["after"] is True
    assert "during" not in seen


def test_ending_a_start_up_that_was_never_paused_changes_nothing() -> None:
    """In a process whose collector runs (a test calling a command in process), nothing is frozen or paused."""
    assert gc.isenabled()
    frozen = gc.get_freeze_count()
    end_start_up()
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen


def test_a_paused_block_restores_the_collector_even_when_it_fails() -> None:
    assert gc.isenabled()
    with pytest.raises(ZeroDivisionError):
        with collector_paused():
            assert not gc.isenabled()
            _ = 1 / 0
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # it was paused before the block: it stays paused after
    finally:
        gc.enable()


def test_what_a_command_leaves_alive_is_frozen_before_the_interpreters_last_collection(tmp_path: Path) -> None:
    """An exit handler registered before ``main`` runs after main's own (handlers run last registered first): by then
    every object alive has been frozen — none of the 50,000 lists the process holds after the command (as the
    catalogue holds its frames and results) is left in the collector's generations for the shutdown's full collection
    to walk."""
    code = ("import atexit, gc, sys\n"
            "atexit.register(lambda: sys.stderr.write(f'\\nEXIT {len(gc.get_objects())} {gc.get_freeze_count()}'))\n"
            "from server.cli import main\n"
            "sys.argv = ['lifecycle', 'schema', '--plain']\n"
            "main()\n"
            "held = [[k] for k in range(50_000)]\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env=server_env(tmp_path / "data"))
    assert done.returncode == 0, done.stderr
    tracked, frozen = (int(part) for part in done.stderr.rpartition("EXIT ")[2].split())
    assert tracked < 100
    assert frozen > 50_000
