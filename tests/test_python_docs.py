"""docs/python.md is a notebook that runs: its ```python blocks execute in order, in one namespace, against the demo
dataset (as ``demo.db`` in the working directory). The asserts inside the blocks pin what the text promises —
invariants of the data (the MRR bridge adds up, customers and stages cover the same ids, an as_of outside the
data names its range), not values copied from the engine."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "python.md"


def code_blocks(text: str) -> list[str]:
    """The bodies of the ```python fenced blocks of ``text``, in order."""
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.M | re.S)


def test_the_doc_has_the_front_door_example() -> None:
    blocks = code_blocks(DOC.read_text(encoding="utf-8"))
    assert len(blocks) >= 4 and "lifecycle.open(" in blocks[0]


@pytest.mark.slow
def test_every_python_block_of_the_doc_runs_in_order_on_the_demo(demo_db: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "demo.db").symlink_to(demo_db)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "docs_python"}
    for number, block in enumerate(code_blocks(DOC.read_text(encoding="utf-8")), start=1):
        try:
            exec(compile(block, f"docs/python.md block {number}", "exec"), namespace)  # noqa: S102 - our own docs
        except Exception as exc:
            raise AssertionError(f"docs/python.md block {number} failed: {type(exc).__name__}: {exc}") from exc
