"""Fixtures shared by the plan tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.prompts.plan_store import plan_store


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A fresh copy of the 12-customer plan store (tests/prompts/plan_store.py)."""
    return plan_store(tmp_path / "plan.db")
