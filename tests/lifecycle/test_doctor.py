"""`lifecycle.doctor.diagnose`: table coverage, computable metric groups and planted data-quality problems."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from lifecycle.doctor import CAPABILITIES, WARNING_CODES, DatasetReport, diagnose
from lifecycle.errors import QueryTimeoutError
from lifecycle.schema import TABLES
from lifecycle.sources import SqliteConnection
from lifecycle.store import atomic_write

AS_OF = date(2024, 6, 30)


@pytest.fixture(scope="module")
def planted_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small dataset with one or two of every problem the doctor looks for (listed per row below)."""
    path = tmp_path_factory.mktemp("doctor") / "planted.db"
    with atomic_write(path) as db:
        db["customers"].insert_all([
            {"customer_id": "C1", "signup_date": "2024-01-05", "company": "Acme", "acquisition_cost": -10.0},  # negative cost
            {"customer_id": "C2", "signup_date": "2024-02-10", "company": " ACME "},  # same company as C1 (info)
            {"customer_id": "C3", "signup_date": "2024-03-15", "company": "Beta", "acquisition_cost": 250.0},
        ])
        db["events"].insert_all([
            {"event_id": "E1", "customer_id": "C1", "occurred_at": "2024-01-10T09:00:00", "event_name": "login"},
            {"event_id": "E2", "customer_id": "C1", "occurred_at": "2024-01-10T09:00:00", "event_name": "login"},  # dup of E1
            {"event_id": "E3", "customer_id": "C1", "occurred_at": "2024-01-10T09:00:00", "event_name": "login"},  # dup of E1
            {"event_id": "E4", "customer_id": "C9", "occurred_at": "2024-01-11T00:00:00", "event_name": "login"},  # orphan
            {"event_id": "E5", "customer_id": "C2", "occurred_at": "2024-07-01T00:00:00", "event_name": "login"},  # future
            {"event_id": "E6", "customer_id": "C1", "occurred_at": "2024-01-10T09:00:00", "event_name": "export"},  # not a dup
            {"event_id": "E7", "customer_id": "C1", "occurred_at": "2024-01-10T09:00:00", "event_name": "login",
             "user_id": "U7"},  # another user at the same second: not a dup
        ])
        db["orders"].insert_all([
            {"order_id": "O1", "customer_id": "C2", "ordered_at": "2024-02-01T10:00:00", "amount": -5.0},  # negative
            {"order_id": "O2", "customer_id": "C404", "ordered_at": "2024-02-02T10:00:00", "amount": 20.0},  # orphan
            {"order_id": "O3", "customer_id": "C3", "ordered_at": "2024-05-20T10:00:00", "amount": 30.0},
        ])
        db["subscriptions"].insert_all([
            {"subscription_id": "S1", "customer_id": "C1", "start_date": "2024-03-01", "end_date": "2024-02-01", "mrr": 10.0},  # ends before start
            {"subscription_id": "S2", "customer_id": "C3", "start_date": "2024-01-01", "end_date": "2024-12-31", "mrr": 20.0},  # scheduled end: fine
        ])
        db["invoices"].insert_all([
            {"invoice_id": "I1", "customer_id": "C1", "issued_at": "2024-03-01", "due_date": "2024-12-01", "amount": 10.0,
             "paid_at": "2024-02-20"},  # paid before issue; future due date is fine
            {"invoice_id": "I2", "customer_id": "C3", "issued_at": "2024-03-01", "due_date": "2024-03-31", "amount": 20.0,
             "paid_at": "2024-03-05"},
        ])
        db["leads"].insert_all([
            {"lead_id": "L1", "created_at": "2024-01-01", "mql_at": "2024-01-05", "sql_at": "2024-01-03"},  # SQL before MQL
            {"lead_id": "L2", "created_at": "2024-01-10", "mql_at": "2024-01-12", "won_at": "2024-01-20", "customer_id": "C1"},
            {"lead_id": "L3", "created_at": "2024-02-01", "lost_at": "2024-01-15"},  # lost before created
        ])
        db["nps_responses"].insert_all([
            {"response_id": "R1", "customer_id": "C1", "responded_at": "2024-02-01", "score": 11},  # out of 0–10
            {"response_id": "R2", "customer_id": "C3", "responded_at": "2024-02-02", "score": 9},
        ])
        db["tickets"].insert_all([
            {"ticket_id": "T1", "customer_id": "C3", "opened_at": "yesterday"},  # not an ISO date
        ])
    return path


@pytest.fixture(scope="module")
def report(planted_db: Path) -> DatasetReport:
    conn = SqliteConnection(planted_db)
    try:
        return diagnose(conn, AS_OF)
    finally:
        conn.close()


def test_each_table_reports_its_rows_and_the_span_of_its_time_column(report: DatasetReport) -> None:
    """Spans are min/max of the time column by hand: events 2024-01-10..2024-07-01; tickets' only value is not a date."""
    by_name = {t.name: t for t in report.tables}
    assert set(by_name) == set(TABLES)
    assert (by_name["customers"].rows, by_name["customers"].first, by_name["customers"].last) == (3, date(2024, 1, 5), date(2024, 3, 15))
    assert (by_name["events"].rows, by_name["events"].first, by_name["events"].last) == (7, date(2024, 1, 10), date(2024, 7, 1))
    assert (by_name["invoices"].time_column, by_name["invoices"].first, by_name["invoices"].last) == ("due_date", date(2024, 3, 31), date(2024, 12, 1))
    assert (by_name["tickets"].rows, by_name["tickets"].first) == (1, None)
    assert (by_name["touches"].rows, by_name["touches"].first) == (0, None)
    assert (report.first, report.last) == (date(2024, 1, 1), date(2024, 12, 1))


PLANTED = [
    # code, table, column, count, examples
    pytest.param("orphan_reference", "events", "customer_id", 1, ("C9",), id="event-of-unknown-customer"),
    pytest.param("orphan_reference", "orders", "customer_id", 1, ("C404",), id="order-of-unknown-customer"),
    pytest.param("future_date", "events", "occurred_at", 1, ("E5",), id="event-after-as-of"),
    pytest.param("negative_amount", "customers", "acquisition_cost", 1, ("C1",), id="negative-acquisition-cost"),
    pytest.param("negative_amount", "orders", "amount", 1, ("O1",), id="negative-order"),
    pytest.param("out_of_range", "nps_responses", "score", 1, ("R1",), id="nps-score-11"),
    pytest.param("duplicate_rows", "events", None, 2, ("E2", "E3"), id="same-event-three-times"),
    pytest.param("duplicate_company_name", "customers", "company", 2, ("C1", "C2"), id="acme-twice"),
    pytest.param("end_before_start", "subscriptions", "end_date", 1, ("S1",), id="subscription-ends-before-start"),
    pytest.param("paid_before_issue", "invoices", "paid_at", 1, ("I1",), id="invoice-paid-before-issue"),
    pytest.param("lead_dates_backwards", "leads", None, 2, ("L1", "L3"), id="lead-stages-backwards"),
    pytest.param("bad_date_format", "tickets", "opened_at", 1, ("T1",), id="ticket-date-not-iso"),
]


@pytest.mark.parametrize(("code", "table", "column", "count", "examples"), PLANTED)
def test_each_planted_problem_is_found_with_its_count_and_examples(
    report: DatasetReport, code: str, table: str, column: str | None, count: int, examples: tuple[str, ...]
) -> None:
    found = report.warning(code, table, column)
    assert found is not None, f"{code} on {table}.{column} not reported"
    assert (found.column, found.count, found.examples) == (column, count, examples)
    assert found.severity == WARNING_CODES[code].severity


def test_nothing_but_the_planted_problems_is_reported(report: DatasetReport) -> None:
    """No false positives: scheduled end dates and future due dates are allowed; E6 differs from E1 by name, E7 by user."""
    reported = {(w.code, w.table, w.column) for w in report.warnings}
    planted = {(p.values[0], p.values[1], p.values[2]) for p in PLANTED}
    assert reported == planted


def test_duplicate_company_names_are_information_not_warnings(report: DatasetReport) -> None:
    found = report.warning("duplicate_company_name", "customers")
    assert found is not None and found.severity == "info"


def test_examples_are_capped_at_three(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    with atomic_write(path) as db:
        db["customers"].insert({"customer_id": "C1", "signup_date": "2024-01-01"})
        db["orders"].insert_all([{"order_id": f"O{i}", "customer_id": "C1", "ordered_at": "2024-01-02T00:00:00", "amount": -1.0 - i}
                                 for i in range(5)])
    conn = SqliteConnection(path)
    found = diagnose(conn, AS_OF).warning("negative_amount", "orders")
    assert found is not None and (found.count, found.examples) == (5, ("O0", "O1", "O2"))


def test_without_as_of_the_latest_date_is_used_and_the_future_check_is_skipped(planted_db: Path) -> None:
    """Latest non-future-allowed date is E5's 2024-07-01 (the later 2024-12-01/2024-12-31 are a due date and a scheduled end)."""
    inferred = diagnose(SqliteConnection(planted_db))
    assert (inferred.as_of, inferred.as_of_inferred) == (date(2024, 7, 1), True)
    assert not [w for w in inferred.warnings if w.code == "future_date"]
    assert any("as-of" in note for note in inferred.notes)


def test_an_explicit_as_of_is_never_replaced(report: DatasetReport) -> None:
    assert (report.as_of, report.as_of_inferred, report.notes) == (AS_OF, False, ())


def test_metric_groups_follow_the_tables_that_hold_rows(tmp_path: Path) -> None:
    """Orders alone enable logo churn and retention (either/or) but not MRR; CAC needs a non-empty acquisition_cost."""
    path = tmp_path / "x.db"
    with atomic_write(path) as db:
        db["customers"].insert({"customer_id": "C1", "signup_date": "2024-01-01"})
        db["orders"].insert({"order_id": "O1", "customer_id": "C1", "ordered_at": "2024-01-02T00:00:00", "amount": 5.0})
    groups = {c.name: c for c in diagnose(SqliteConnection(path)).capabilities}
    assert groups["logo_churn"].computable and groups["retention"].computable and groups["aov"].computable
    assert not groups["mrr"].computable and groups["mrr"].needs == "subscriptions"
    assert not groups["cac"].computable and groups["cac"].needs == "customers.acquisition_cost"
    assert groups["logo_churn"].needs == "subscriptions or orders"


def test_every_capability_requirement_names_a_canonical_table_or_column() -> None:
    for rule in CAPABILITIES.values():
        for alternative in rule.needs:
            for requirement in alternative:
                table, _, column = requirement.partition(".")
                assert table in TABLES, requirement
                if column:
                    TABLES[table].column(column)  # KeyError when unknown


def test_clean_dataset_has_no_warnings(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    with atomic_write(path) as db:
        db["customers"].insert({"customer_id": "C1", "signup_date": "2024-01-01", "company": "Acme"})
        db["events"].insert({"event_id": "E1", "customer_id": "C1", "occurred_at": "2024-01-02T00:00:00", "event_name": "login"})
    assert diagnose(SqliteConnection(path), AS_OF).warnings == ()


def test_report_as_json_has_iso_dates(report: DatasetReport) -> None:
    data = json.loads(json.dumps(report.to_dict()))
    assert (data["as_of"], data["first"], data["last"]) == ("2024-06-30", "2024-01-01", "2024-12-01")
    assert {"code": "future_date", "table": "events", "column": "occurred_at", "count": 1, "examples": ["E5"]}.items() <= \
        next(w for w in data["warnings"] if w["code"] == "future_date").items()


def test_a_query_past_the_time_limit_raises_query_timeout_error(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    with atomic_write(path) as db:
        db["customers"].insert({"customer_id": "C1", "signup_date": "2024-01-01"})
        db["events"].insert_all({"event_id": f"E{i}", "customer_id": "C1", "occurred_at": "2024-01-02T00:00:00",
                                 "event_name": f"n{i % 7}"} for i in range(3000))
    conn = SqliteConnection(path, time_limit_s=0.0)
    with pytest.raises(QueryTimeoutError):
        diagnose(conn, AS_OF)


def test_a_group_of_metrics_is_computable_exactly_when_its_metrics_find_their_tables(tmp_path: Path) -> None:
    """Subscriptions and events but no leads, orders, NPS, referrals or touches: the doctor's verdict on each group made
    of registry metrics agrees with what computing those metrics says (no "needs table(s)" reason when computable)."""
    from lifecycle.dataset import Dataset
    from lifecycle.metrics.registry import compute_metric

    path = tmp_path / "x.db"
    with atomic_write(path) as db:
        db["customers"].insert({"customer_id": "C1", "signup_date": "2024-01-01", "acquisition_cost": 100.0})
        db["subscriptions"].insert({"subscription_id": "S1", "customer_id": "C1", "start_date": "2024-01-01", "mrr": 50.0})
        db["events"].insert({"event_id": "E1", "customer_id": "C1", "occurred_at": "2024-01-02T00:00:00", "event_name": "login"})
    report = {c.name: c for c in diagnose(SqliteConnection(path), AS_OF).capabilities}
    dataset = Dataset.open(path, AS_OF)
    try:
        checked = 0
        for name, rule in CAPABILITIES.items():
            for metric_id in rule.metrics:
                missing = "needs table(s)" in (compute_metric(dataset, metric_id).reason or "")
                assert report[name].computable is not missing, (name, metric_id)
                checked += 1
    finally:
        dataset.close()
    assert checked >= 15 and not report["funnel_conversion"].computable and report["mrr"].computable


def test_without_examples_the_report_is_the_same_but_for_the_future_dates_example_keys(planted_db: Path, report: DatasetReport) -> None:
    """``examples=False`` (what describe_dataset asks for): the planted event after as_of (E5) is still counted, only
    its key is not looked up; every other finding is the report's own."""
    counted = diagnose(SqliteConnection(planted_db), AS_OF, examples=False)
    future = [(w.table, w.column, w.count, w.examples) for w in counted.warnings if w.code == "future_date"]
    assert future == [("events", "occurred_at", 1, ())]
    assert [w for w in counted.warnings if w.code != "future_date"] == [w for w in report.warnings if w.code != "future_date"]


def test_a_later_as_of_counts_future_dates_from_the_survey_without_reading_the_data(tmp_path: Path) -> None:
    """The survey keeps each date column's values counted per day (first 10 characters); a report on another as_of
    without examples then sums the days after it — here on a closed connection, so nothing can be read. By hand, with
    the next day's ISO text as the bound (text order): after 2024-06-30 come "2024-07-01", "2024-07-01T00:00:00",
    "2024-08-15T10:00:00" and the malformed "2024-7-5" (digit-leading, after "2024-0…") = 4; after 2024-07-01: 2;
    after 2024-08-15: 1 ("2024-7-5"); after 2024-12-31 none ("2024-7-5" < "2025-01-01"); "2024-06-30T23:59:59" is on
    the day itself and "later" is not digit-leading."""
    from lifecycle.doctor import survey

    path = tmp_path / "dates.db"
    times = ["2024-06-30T23:59:59", "2024-07-01", "2024-07-01T00:00:00", "2024-08-15T10:00:00", "2024-7-5", "later"]
    with atomic_write(path) as db:
        db["customers"].insert_all([{"customer_id": "C1", "signup_date": "2024-01-05"}])
        db["events"].insert_all([{"event_id": f"E{k}", "customer_id": "C1", "occurred_at": t, "event_name": "login"}
                                 for k, t in enumerate(times)])
    conn = SqliteConnection(path)
    surveyed = survey(conn)
    expected = {date(2024, 6, 30): 4, date(2024, 7, 1): 2, date(2024, 8, 15): 1}
    read = {day: next(w.count for w in diagnose(conn, day, examples=True).warnings if w.code == "future_date")
            for day in expected}
    conn.close()
    counted = {day: [w.count for w in diagnose(conn, day, surveyed, examples=False).warnings if w.code == "future_date"]
               for day in [*expected, date(2024, 12, 31)]}
    assert read == expected
    assert counted == {**{day: [n] for day, n in expected.items()}, date(2024, 12, 31): []}
