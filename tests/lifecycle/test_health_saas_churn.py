"""A snapshot-style table with a churn label (saas_churn, 2,000 accounts) scored by a user-defined profile.

The CSV's columns are imported as extra columns (``x_*``, as the importer names a user's own fields) and mapped
into a profile whose directions come from domain priors, not from the labels: adoption of each product, CSAT,
help-centre articles and marketing clicks are good; support minutes are bad; tenure is good. The ranking
quality measured here is recorded in docs/health-and-risk.md; the test asserts only the invariant that the
direction is right (AUC > 0.5).
"""

from __future__ import annotations

import tomllib

import pandas as pd
import pytest

from lifecycle.health import score_health
from lifecycle.health.evaluation import precision_at_k, roc_auc
from lifecycle.health.profile import PROFILES_DIR, HealthProfile, profile_from_dict
from tests.conftest import SHARED_DATA

CHURN_CSV = SHARED_DATA / "saas_churn" / "churn.csv"

PROFILE_TOML = """
name = "saas_churn"
description = "Columns of the saas_churn table mapped onto the seed components."

[components.usage]
weight = 40
[components.usage.signals.articles_viewed]
column = "x_articles_viewed"
weight = 25
direction = "higher_is_better"
bad = 0
good = 8
[components.usage.signals.payroll]
column = "x_product_payroll"
weight = 25
scoring = "lookup"
scores = { Active = 100, Free-Trial = 50, No = 0 }
[components.usage.signals.accounting]
column = "x_product_accounting"
weight = 25
scoring = "lookup"
scores = { Active = 100, Free-Trial = 50, No = 0 }
[components.usage.signals.travel_expense]
column = "x_product_travel_expense"
weight = 25
scoring = "lookup"
scores = { Active = 100, Free-Trial = 50, No = 0 }

[components.engagement]
weight = 30
[components.engagement.signals.csat]
column = "x_csat_score"
weight = 50
direction = "higher_is_better"
bad = 5
good = 10
[components.engagement.signals.emails_clicked]
column = "x_marketing_emails_clicked"
weight = 50
direction = "higher_is_better"
bad = 0
good = 25

[components.relationship]
weight = 20
[components.relationship.signals.tenure]
column = "x_months_active"
weight = 100
direction = "higher_is_better"
bad = 0
good = 12

[components.support]
weight = 10
[components.support.signals.support_minutes]
column = "x_minutes_customer_support"
weight = 100
direction = "lower_is_better"
bad = 30
good = 0
"""


def churn_snapshot() -> pd.DataFrame:
    """One row per account: customer_id from the row number, every CSV column as x_<name>, churned as a boolean."""
    table = pd.read_csv(CHURN_CSV)
    snapshot = table.drop(columns="churned").add_prefix("x_")
    snapshot.insert(0, "customer_id", [f"acct-{i:04d}" for i in range(len(table))])
    snapshot["churned"] = table["churned"].astype(bool).to_numpy()
    return snapshot


def churn_profile() -> HealthProfile:
    data = tomllib.loads(PROFILE_TOML)
    data["risk"] = tomllib.loads((PROFILES_DIR / "default.toml").read_text(encoding="utf-8"))["risk"]
    return profile_from_dict(data, where="saas_churn.toml")


@pytest.mark.skipif(not CHURN_CSV.exists(), reason="shared saas_churn data not present")
def test_health_from_a_churn_labelled_table_ranks_churners_first() -> None:
    snapshot = churn_snapshot()
    table = score_health(snapshot, churn_profile())
    risk = 100.0 - table.frame["health"]
    churned = snapshot.set_index("customer_id")["churned"]
    assert table.frame["health"].notna().all()
    auc = roc_auc(risk, churned)
    assert auc is not None and auc > 0.5, auc
    assert precision_at_k(risk, churned, 200) is not None
