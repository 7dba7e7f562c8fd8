"""Candidate activation events: the lift of early occurrence on later activity, with Katz's interval, and
`lifecycle doctor --metrics` reporting every metric with its reason and proposing the candidates as config."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lifecycle.activation_candidates import activation_candidates, risk_ratio_interval
from tests.builders import make_dataset, make_store


def test_risk_ratio_and_katz_interval_by_hand() -> None:
    """a=20 of 40 vs c=10 of 60: RR = 0.5 ÷ (1/6) = 3; SE = √(1/20 − 1/40 + 1/10 − 1/60) = 0.329140;
    1.959964 × 0.329140 = 0.645104; 3·e^±0.645104 = 1.5738 … 5.7186."""
    ratio, low, high = risk_ratio_interval(20, 40, 10, 60)
    assert ratio == pytest.approx(3.0, abs=1e-12)
    assert low == pytest.approx(1.5738, abs=1e-3) and high == pytest.approx(5.7186, abs=1e-3)
    assert risk_ratio_interval(1, 0, 1, 5) is None


def _tables() -> dict[str, list[dict[str, object]]]:
    """40 customers signed up 2024-01-01; all 'open' on day 0. s00–s19 also 'setup' on day 1; of them s00–s14 'view'
    on day 10 (active again in days 8–37); of n00–n19 (no setup) only n00–n04 do. Retention 15/20 vs 5/20: lift 3."""
    customers, events = [], []
    for group, active in (("s", 15), ("n", 5)):
        for i in range(20):
            cid = f"{group}{i:02d}"
            customers.append({"customer_id": cid, "signup_date": "2024-01-01"})
            events.append({"event_id": f"{cid}o", "customer_id": cid, "occurred_at": "2024-01-01T09:00:00", "event_name": "open"})
            if group == "s":
                events.append({"event_id": f"{cid}s", "customer_id": cid, "occurred_at": "2024-01-02T09:00:00", "event_name": "setup"})
            if i < active:
                events.append({"event_id": f"{cid}v", "customer_id": cid, "occurred_at": "2024-01-11T09:00:00", "event_name": "view"})
    return {"customers": customers, "events": events}


def test_the_event_that_separates_retained_customers_is_proposed_with_its_lift(tmp_path: Path) -> None:
    report = activation_candidates(make_dataset(tmp_path, _tables(), "2024-06-30"))
    assert (report.cohort, report.retained) == (40, 20)
    best = report.candidates[0]
    assert (best.event_name, best.did, best.did_retained, best.did_not, best.did_not_retained) == ("setup", 20, 15, 20, 5)
    assert best.lift == pytest.approx(3.0) and best.lift_low > 1.0
    assert [c.event_name for c in report.candidates] == ["setup"]  # 'open' is done by everyone: nothing to compare
    assert 'value_event = "setup"' in report.snippet() and 'core_features = ["setup"]' in report.snippet()


def test_too_few_customers_to_compare_is_a_note_not_a_guess(tmp_path: Path) -> None:
    tables = _tables()
    tables["customers"] = tables["customers"][:5]
    report = activation_candidates(make_dataset(tmp_path, tables, "2024-06-30"))
    assert report.candidates == () and "at least 20 are needed" in report.note and report.snippet() is None


def test_doctor_metrics_reports_every_metric_and_proposes_the_activation_event(tmp_path: Path) -> None:
    db = make_store(tmp_path / "clicks.db", _tables())
    script = Path(sys.executable).with_name("lifecycle")
    done = subprocess.run([str(script), "doctor", "--db", str(db), "--as-of", "2024-06-30", "--metrics", "--json"], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    engine = json.loads(done.stdout)["engine"]
    metrics = {m["metric_id"]: m for m in engine["metrics"]}
    assert metrics["activation_rate"]["computable"] is False
    assert "activation.value_event 'report_created' never occurs" in metrics["activation_rate"]["reason"]
    assert "open (40)" in metrics["activation_rate"]["reason"]
    assert engine["stage_model"] == "activity" and engine["candidates"]["candidates"][0]["event_name"] == "setup"
    text = subprocess.run([str(script), "doctor", "--db", str(db), "--as-of", "2024-06-30", "--metrics"], capture_output=True, text=True, timeout=300)
    assert text.returncode == 0 and "Candidate activation events" in text.stdout and 'value_event = "setup"' in text.stdout


def test_days_are_whole_calendar_days_after_signup_and_events_before_signup_count_as_day_zero(tmp_path: Path) -> None:
    """Four customers signed up 2024-01-01. Retained = an activity event on calendar days 8 … 37 after signup: a's
    last second of day 7 (2024-01-08T23:59:59) no, b's first second of day 8 (2024-01-09T00:00:00) yes, c's last
    second of day 37 (2024-02-07T23:59:59) yes, d's events on day 38 no (every event is activity by default) —
    retained {b, c}. Early = on days 0 … 7: 'setup' by a the day before signup (day 0) and by b on day 7 — did 2
    (b retained) vs 2 (c retained); 'view' early only by a (day 7; b's is on day 8): did 1 (none retained) vs 3 (b, c
    retained)."""
    view = {"a": "2024-01-08T23:59:59", "b": "2024-01-09T00:00:00", "c": "2024-02-07T23:59:59", "d": "2024-02-08T00:00:00"}
    setup = {"a": "2023-12-31T10:00:00", "b": "2024-01-08T23:59:59", "d": "2024-02-08T00:00:00"}
    tables = {"customers": [{"customer_id": c, "signup_date": "2024-01-01"} for c in view],
              "events": [*({"event_id": f"{c}v", "customer_id": c, "occurred_at": t, "event_name": "view"} for c, t in view.items()),
                         *({"event_id": f"{c}s", "customer_id": c, "occurred_at": t, "event_name": "setup"} for c, t in setup.items())]}
    report = activation_candidates(make_dataset(tmp_path, tables, "2024-06-30"), min_group=1)
    assert (report.cohort, report.retained) == (4, 2)
    found = {c.event_name: (c.did, c.did_retained, c.did_not, c.did_not_retained) for c in report.candidates}
    assert found == {"setup": (2, 1, 2, 1), "view": (1, 0, 3, 2)}
