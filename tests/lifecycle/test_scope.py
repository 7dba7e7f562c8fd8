"""One scope rule for CLI, MCP and plans: as_of defaults to the data's last day and must lie inside the data.

Fixture (hand-written): customers sign up 2024-01-10 and 2024-02-20; one subscription starts 2024-02-20 and is
cancelled 2024-05-31. The time columns run 2024-01-10 .. 2024-02-20 (the default as_of); the cancellation is the
latest day the data records, so an as_of may reach one calendar month past it: 2024-06-30.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import date
from pathlib import Path

import pytest

from lifecycle.errors import DatasetNotFoundError, QueryError
from lifecycle.filters import Filters
from lifecycle.scope import Scope, Window, data_range_ahead
from lifecycle.sources import SqliteSource, open_source
from tests.builders import customers, make_store

TABLES = {
    "customers": customers(("A", "2024-01-10"), ("B", "2024-02-20")),
    "subscriptions": [{"subscription_id": "s1", "customer_id": "B", "start_date": "2024-02-20",
                       "end_date": "2024-05-31", "mrr": 10.0, "plan": "Pro"}],
}


@pytest.fixture()
def source(tmp_path: Path):  # type: ignore[no-untyped-def]
    return open_source(make_store(tmp_path / "scope.db", TABLES))


def test_as_of_defaults_to_the_last_day_of_the_time_columns_and_says_so(source) -> None:  # type: ignore[no-untyped-def]
    scope = Scope.resolve(source)
    assert scope.as_of == date(2024, 2, 20) and scope.as_of_inferred is True
    assert scope.window == Window(date(2023, 2, 21), date(2024, 2, 20))  # the 12 calendar months ending on as_of


def test_a_cancellation_after_the_last_signup_extends_how_far_as_of_may_reach(source) -> None:  # type: ignore[no-untyped-def]
    scope = Scope.resolve(source, date(2024, 6, 30), period_months=12)
    assert scope.as_of == date(2024, 6, 30) and scope.as_of_inferred is False
    assert scope.window == Window(date(2023, 7, 1), date(2024, 6, 30))


@pytest.mark.parametrize(("day", "side"), [(date(2024, 1, 9), "before the data starts"),
                                           (date(2024, 7, 1), "after the data ends"),
                                           (date(2030, 1, 1), "after the data ends")])
def test_an_as_of_outside_the_data_is_an_error_naming_the_range(source, day: date, side: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(QueryError) as caught:
        Scope.resolve(source, day)
    message = caught.value.user_message
    assert side in message and "2024-01-10 to 2024-05-31" in message and "2024-06-30" in message


def test_filters_the_data_holds_ride_along_unchanged(source) -> None:  # type: ignore[no-untyped-def]
    chosen = Filters(plan=("Pro",))  # B's subscription's plan (the customers carry none)
    assert Scope.resolve(source, filters=chosen).filters == chosen


def test_a_filter_value_the_data_does_not_hold_is_refused_with_the_valid_ones(source) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(QueryError, match=r"unknown plan value\(s\) 'Team'; valid values: Pro"):
        Scope.resolve(source, filters=Filters(plan=("Team",)))


def test_the_cli_refuses_an_as_of_after_the_data_with_one_line(tmp_path: Path) -> None:
    """The installed console script, as a user runs it: one Error line naming the range, no traceback."""
    db = make_store(tmp_path / "cli.db", TABLES)
    script = Path(sys.executable).parent / "lifecycle"
    done = subprocess.run([str(script), "metrics", "--db", str(db), "--as-of", "2030-01-01"], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode != 0 and "Traceback" not in done.stderr + done.stdout
    assert "after the data ends" in done.stderr + done.stdout and "2024-01-10 to 2024-05-31" in done.stderr + done.stdout


def test_the_range_looked_up_ahead_on_a_thread_is_the_fixtures_range(source) -> None:  # type: ignore[no-untyped-def]
    """``data_range_ahead`` (what ``lifecycle metrics`` starts before it imports the engine): the range of the module
    fixture — first signup 2024-01-10, last 2024-02-20, the cancellation 2024-05-31 the latest day recorded — and the
    look-up ran on another thread than the caller's."""
    threads: list[str] = []

    class Spied(SqliteSource):
        def data_range(self):  # type: ignore[no-untyped-def]
            threads.append(threading.current_thread().name)
            return super().data_range()

    spied_source = Spied(source.path, source.time_limit_s)
    found = data_range_ahead(spied_source)()
    assert (found.first, found.last, found.recorded_last) == (date(2024, 1, 10), date(2024, 2, 20), date(2024, 5, 31))
    assert threads and threads[0] != threading.current_thread().name
    assert "lifecycle-data-range" not in {t.name for t in threading.enumerate()}  # ended: a fork may follow


def test_a_failed_look_up_ahead_is_raised_where_the_range_is_asked_for(tmp_path: Path) -> None:
    """A missing file: starting the look-up raises nothing; asking for its result raises the source's own error."""
    ahead = data_range_ahead(open_source(tmp_path / "absent.db"))
    with pytest.raises(DatasetNotFoundError):
        ahead()
