"""Fixtures for the MCP server tests: a tiny hand-built dataset and helpers to run the real server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lifecycle.store import atomic_write
from tests.server.helpers import RunningServer, start_http_server, stop


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def tiny_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three customers, two subscriptions, two events, no problems.

    By hand: customers span 2024-01-05..2024-03-15, subscriptions (start_date) 2024-01-05..2024-02-10,
    events 2024-01-06..2024-04-30; overall 2024-01-05..2024-04-30. Subscriptions + events make MRR,
    NRR, activation, logo churn computable; no leads, orders, NPS or acquisition cost.
    """
    path = tmp_path_factory.mktemp("server") / "tiny.db"
    with atomic_write(path) as db:
        db["customers"].insert_all([
            {"customer_id": "C1", "signup_date": "2024-01-05", "company": "Acme"},
            {"customer_id": "C2", "signup_date": "2024-02-10", "company": "Beta"},
            {"customer_id": "C3", "signup_date": "2024-03-15", "company": "Gamma"},
        ])
        db["subscriptions"].insert_all([
            {"subscription_id": "S1", "customer_id": "C1", "start_date": "2024-01-05", "mrr": 100.0},
            {"subscription_id": "S2", "customer_id": "C2", "start_date": "2024-02-10", "end_date": "2024-05-01", "mrr": 50.0},
        ])
        db["events"].insert_all([
            {"event_id": "E1", "customer_id": "C1", "occurred_at": "2024-01-06T10:00:00", "event_name": "login"},
            {"event_id": "E2", "customer_id": "C2", "occurred_at": "2024-04-30T08:00:00", "event_name": "report_created"},
        ])
    return path


@pytest.fixture(scope="module")
def http_server(tiny_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One plain HTTP server (no token) for the module, allowing one extra Origin."""
    server = start_http_server(tiny_db, tmp_path_factory.mktemp("data"), "--allow-origin", "https://app.example.com")
    yield server
    stop(server)
