"""`lifecycle revenue` and `lifecycle metrics --monthly`: the monthly MRR bridge and any metric month by month.

Golden values are hand computed on a three-subscription fixture (docstrings); on the demo, the monthly series and
the bridge are two roads to the same month-end MRR and new MRR, so they must agree month by month.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.console import import_csvs, one_error_line
from tests.console import lifecycle as run

CUSTOMERS = "customer_id,signup_date\nA,2024-01-10\nB,2024-02-05\nC,2024-02-20\n"
SUBSCRIPTIONS = ("subscription_id,customer_id,start_date,end_date,mrr\n"
                 "S1,A,2024-01-10,,100\n"
                 "S2,B,2024-02-05,2024-03-15,50\n"
                 "S3,C,2024-02-20,,30\n")


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    import_csvs(tmp_path, {"customers": CUSTOMERS, "subscriptions": SUBSCRIPTIONS}, "t.db", "--currency", "EUR")
    return tmp_path


def test_revenue_bridge_is_the_hand_computed_one(tiny: Path) -> None:
    """Month-end MRR: Jan A=100 → 100; Feb +B 50 +C 30 → 180 (new 80); Mar B ended on the 15th → 130 (churn 50)."""
    done = run("revenue", "--db", "t.db", "--as-of", "2024-03-31", "--format", "csv", cwd=tiny)
    assert done.returncode == 0, done.stderr
    rows = {r["month"]: r for r in csv.DictReader(io.StringIO(done.stdout))}
    assert list(rows) == ["2024-01", "2024-02", "2024-03"]
    assert [float(rows[m]["ending_mrr"]) for m in rows] == [100.0, 180.0, 130.0]
    assert [float(rows[m]["new"]) for m in rows] == [100.0, 80.0, 0.0]
    assert [float(rows[m]["churn"]) for m in rows] == [0.0, 0.0, 50.0]
    assert rows["2024-03"]["churned_customers"] == "1" and rows["2024-02"]["new_customers"] == "2"


def test_revenue_json_names_the_currency(tiny: Path) -> None:
    done = run("revenue", "--db", "t.db", "--as-of", "2024-03-31", "--format", "json", cwd=tiny)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["currency"] == "EUR" and document["as_of"] == "2024-03-31" and len(document["rows"]) == 3


def test_monthly_metrics_read_mrr_at_each_month_end(tiny: Path) -> None:
    """mrr per month = the month-end MRR above (100, 180, 130); its unit is the dataset currency, not 'money'."""
    done = run("metrics", "--db", "t.db", "--as-of", "2024-03-31", "--monthly", "--metric", "mrr", "--months", "3",
               "--format", "csv", cwd=tiny)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [(r["month"], float(r["value"]), r["unit"]) for r in rows] == [
        ("2024-01", 100.0, "EUR"), ("2024-02", 180.0, "EUR"), ("2024-03", 130.0, "EUR")]


def test_a_partial_month_is_marked_and_months_before_the_data_are_left_out(tiny: Path) -> None:
    done = run("metrics", "--db", "t.db", "--as-of", "2024-03-20", "--monthly", "--metric", "mrr", "--months", "6",
               "--json", cwd=tiny)
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)["rows"]
    assert [(r["month"], r["end"], r["partial"]) for r in rows] == [
        ("2024-01", "2024-01-31", False), ("2024-02", "2024-02-29", False), ("2024-03", "2024-03-20", True)]


def test_unknown_metric_is_one_error_line_listing_the_valid_ones(tiny: Path) -> None:
    done = run("metrics", "--db", "t.db", "--monthly", "--metric", "mrrr", cwd=tiny)
    assert done.returncode == 1
    line = one_error_line(done.stderr)
    assert "unknown metric(s) mrrr" in line and "new_mrr" in line


def test_format_without_monthly_is_a_usage_error(tiny: Path) -> None:
    done = run("metrics", "--db", "t.db", "--format", "csv", cwd=tiny)
    assert done.returncode == 2 and "--monthly" in done.stderr


def test_demo_monthly_mrr_and_new_mrr_agree_with_the_bridge(demo_db: Path, tmp_path: Path) -> None:
    series = run("metrics", "--db", str(demo_db), "--monthly", "--metric", "mrr", "--metric", "new_mrr", "--months", "12",
                 "--format", "csv", cwd=tmp_path)
    bridge = run("revenue", "--db", str(demo_db), "--format", "csv", cwd=tmp_path)
    assert series.returncode == 0 and bridge.returncode == 0, series.stderr + bridge.stderr
    by_month = {r["month"]: r for r in csv.DictReader(io.StringIO(bridge.stdout))}
    rows = list(csv.DictReader(io.StringIO(series.stdout)))
    assert len(rows) == 24
    for row in rows:
        column = "ending_mrr" if row["metric_id"] == "mrr" else "new"
        assert float(row["value"]) == pytest.approx(float(by_month[row["month"]][column])), row


def test_the_metrics_table_prints_each_note_whole(tiny: Path) -> None:
    """Notes wrap between words instead of being cut: every word of every reason is in the table."""
    as_json = run("metrics", "--db", "t.db", "--json", cwd=tiny)
    table = run("metrics", "--db", "t.db", cwd=tiny, COLUMNS="110")
    assert as_json.returncode == 0 and table.returncode == 0, as_json.stderr + table.stderr
    reasons = [r["reason"] for r in json.loads(as_json.stdout).values() if r.get("reason")]
    assert any(len(reason) > 60 for reason in reasons)
    printed = set(table.stdout.replace("│", " ").split())
    for reason in reasons:
        assert set(reason.split()) <= printed, reason
