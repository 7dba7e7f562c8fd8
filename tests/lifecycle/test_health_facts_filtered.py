"""Health and at-risk facts of a filtered scope: the whole base's scored rows masked give what scoring the scope gives."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from lifecycle.dataset import Dataset
from lifecycle.facts.health_basis import health_basis
from lifecycle.facts.sources import health_and_risk_facts
from lifecycle.filters import Filters
from lifecycle.health.risk import Reason, RiskQuery, rank_at_risk
from lifecycle.health.score import coverage_summary, score_health
from lifecycle.memo import MEMO, size_of
from lifecycle.scope import Scope
from lifecycle.snapshot.build import snapshot_of
from lifecycle.sources import open_source
from tests.builders import make_dataset


def _scored_directly(dataset: Dataset) -> dict[str, float]:
    """The numbers the facts state, computed the long way: the scope's own snapshot, its live rows scored on their
    own (``score_health``) and its at-risk list sorted on its own (``rank_at_risk``)."""
    snapshot = snapshot_of(dataset)
    alive = snapshot[~snapshot["churned"].fillna(False).astype(bool)].reset_index(drop=True)
    table = score_health(alive, dataset.health_profile)
    ranked = rank_at_risk(alive, table, RiskQuery(value_column="mrr_current", min_risk=table.profile.risk.min_risk))
    expected = {"health.mean": float(table.frame["health"].mean()), "risk.listed": float(len(ranked)),
                "risk.value_at_stake": float(sum(v for v in ranked["value"].tolist() if v == v))}
    for band in ("red", "yellow", "green"):
        expected[f"health.band.{band}.share"] = int((table.frame["band"] == band).sum()) / len(alive)
    for segment, count in table.frame["segment"].value_counts().sort_index().items():
        expected[f"health.segment.{segment}.count"] = float(count)
    coverage = coverage_summary(table)
    expected["health.coverage.mean"], expected["health.coverage.low.share"] = coverage.mean, coverage.low_share
    for reason in Reason:
        count = int(ranked[reason.value].sum())
        if count:
            expected[f"risk.reason.{reason.value}.count"] = float(count)
    return expected


@pytest.mark.parametrize("filters", [
    Filters(segment=("SMB",)), Filters(plan=("Enterprise",)), Filters(channel=("referral",), country=("US",)),
    Filters(stage=("adoption",)),
])
def test_a_filtered_scope_states_what_scoring_its_own_customers_gives(demo_db: Path, filters: Filters) -> None:
    """Invariant: every customer's health and risk rest on their own snapshot row, and the at-risk order is total, so
    the whole base's scored and ranked rows masked to the scope (after the whole base's facts fill the memo) state the
    same mean, coverage, band shares, segment counts, list length, value at stake and reason counts as scoring and
    sorting the scope itself."""
    source = open_source(demo_db)
    whole = Dataset.over(source, Scope.resolve(source, None))
    health_and_risk_facts(whole)  # the whole base's basis in the memo: the filtered call masks it
    scope = Scope(whole.as_of, whole.window, filters)
    facts = {f.id: f for f in health_and_risk_facts(whole.rescoped(scope))}
    expected = _scored_directly(Dataset(whole.connection, scope, whole.config, whole.source, None))  # no memo
    assert expected["risk.listed"] > 0
    for fid, value in expected.items():
        assert math.isclose(facts[fid].value, value, rel_tol=0, abs_tol=0), fid  # type: ignore[arg-type]
    assert {f for f in facts if f.startswith("risk.reason.")} == {f for f in expected if f.startswith("risk.reason.")}


def test_a_filter_keeps_only_its_own_customers_value_at_stake(tmp_path: Path) -> None:
    """Two live customers with a failed payment (a risk reason) and no other signal: B1 (Business, MRR 900) and S1 (SMB,
    MRR 100); S2 (SMB, MRR 50) churned. The SMB filter's at-risk facts count S1 alone when listed (value at stake
    100 of S1's MRR, never B1's 900) and its health facts rest on one live customer."""
    customers = [{"customer_id": "B1", "signup_date": "2024-01-05", "segment": "Business"},
                 {"customer_id": "S1", "signup_date": "2024-01-05", "segment": "SMB"},
                 {"customer_id": "S2", "signup_date": "2024-01-05", "segment": "SMB"}]
    subs = [{"subscription_id": "b", "customer_id": "B1", "start_date": "2024-01-05", "mrr": 900.0},
            {"subscription_id": "s", "customer_id": "S1", "start_date": "2024-01-05", "mrr": 100.0},
            {"subscription_id": "t", "customer_id": "S2", "start_date": "2024-01-05", "end_date": "2024-03-01", "mrr": 50.0}]
    invoices = [{"invoice_id": f"i{c}", "customer_id": c, "issued_at": "2024-06-01", "due_date": "2024-06-15", "amount": 10.0,
                 "status": "failed"}
                for c in ("B1", "S1")]
    whole = make_dataset(tmp_path, {"customers": customers, "subscriptions": subs, "invoices": invoices}, as_of="2024-06-30")
    by_id = {f.id: f for f in health_and_risk_facts(whole)}
    smb = {f.id: f for f in health_and_risk_facts(whole.rescoped(Scope(whole.as_of, whole.window, Filters(segment=("SMB",)))))}
    assert by_id["health.mean"].sample_size == 2 and smb["health.mean"].sample_size == 1
    assert smb["risk.customers"].value == 1.0  # S1's failed payment
    if smb["risk.listed"].value:
        assert smb["risk.listed"].value == 1.0 and smb["risk.value_at_stake"].value == 100.0
    else:
        assert smb["risk.value_at_stake"].value == 0.0
    assert by_id["risk.customers"].value == 2.0


def test_the_memoised_whole_base_basis_holds_a_fraction_of_the_live_snapshot_rows(demo_db: Path) -> None:
    """The memo keeps the whole base's basis between filters, so it must not hold the snapshot: at a million customers
    the live rows and the full health table (753 MB) crowded the memo's budget. Bound, by hand from the demo's per-row
    sizes (live snapshot row ~575 B; health frame ~50 B, components ~57 B, one value column's ranking arrays ~33 B):
    the basis weighs less than a third of the live snapshot rows it was scored from, and is what the memo stores."""
    source = open_source(demo_db)
    whole = Dataset.over(source, Scope.resolve(source, None))
    health_and_risk_facts(whole)
    basis = MEMO.peek(whole.memo_key("health-facts-basis"))
    assert basis is not None and basis is health_basis(whole)
    snapshot = snapshot_of(whole)
    alive = snapshot[~snapshot["churned"].fillna(False).astype(bool)]
    assert len(basis.table) == len(alive) > 1000
    assert size_of(basis) < size_of(alive) / 3
