"""The grounding verifier measured on a labelled corpus (tests/prompts/verifier_corpus.jsonl).

Acceptance: precision ≥ 0.95 on flagged claims and recall = 1.0 on fabricated numbers. The measured numbers are
written to docs/verifier.md by hand from this test's output (`pytest -s tests/prompts/test_verifier_corpus.py`).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from lifecycle.facts import Fact, FactBundle
from prompts.verify import verify_draft

CORPUS = Path(__file__).with_name("verifier_corpus.jsonl")


def corpus_bundle() -> FactBundle:
    def fact(fid: str, value: float, unit: str, display: str, target: str | None = None) -> Fact:
        return Fact(fid, fid, value, unit, display, 100, target)

    return FactBundle("2025-12-31", {"start": "2025-01-01", "end": "2025-12-31"}, {}, (
        fact("activation_rate", 0.642, "ratio", "64.2%", "60–80%+"),
        fact("nrr", 1.043, "ratio", "104.3%", "100–120%+"),
        fact("mrr", 182345.5, "money", "$182,346"),
        fact("time_to_value_days", 5.4, "days", "5.4 days", "< 7 days"),
        fact("nps", 27.5, "score", "27.5", "30–50+"),
        fact("arpa", 912.73, "money", "$912.73"),
        fact("quick_ratio", 2.35, "multiple", "2.35×"),
        fact("median_tenure_days", 410.0, "days", "410.0 days"),
        fact("customers_total", 1987.0, "count", "1,987"),
        fact("referral_rate", 0.083, "ratio", "8.3%", "10–30%+"),
        fact("logo_churn_rate", 0.021, "ratio", "2.1%"),
        fact("cac", 1450.0, "money", "$1,450"),
        fact("ltv_to_cac", 3.1, "multiple", "3.10×"),
    ))


def run_corpus() -> tuple[Counter, list[dict]]:
    bundle = corpus_bundle()
    outcome: Counter = Counter()
    misses = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        report = verify_draft(item["text"], bundle, language=item["lang"])
        flagged = not report.ok
        truth = item["label"] != "correct"
        outcome[(truth, flagged)] += 1
        outcome[(item["label"], flagged)] += 1
        if truth != flagged:
            misses.append({**item, "report": report.counts()})
    return outcome, misses


def test_corpus_has_at_least_150_claims_in_three_languages_and_five_categories() -> None:
    items = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    assert len(items) >= 150
    assert {i["lang"] for i in items} == {"en", "ru", "zh"}
    assert {i["label"] for i in items} == {"correct", "wrong_value", "wrong_unit", "uncited", "fabricated"}


def test_verifier_precision_is_at_least_095_and_every_fabricated_number_is_caught() -> None:
    outcome, misses = run_corpus()
    true_pos, false_pos = outcome[(True, True)], outcome[(False, True)]
    false_neg = outcome[(True, False)]
    precision = true_pos / (true_pos + false_pos)
    recall = true_pos / (true_pos + false_neg)
    fabricated_recall = outcome[("fabricated", True)] / (outcome[("fabricated", True)] + outcome[("fabricated", False)])
    print(f"\nverifier corpus: precision={precision:.3f} recall={recall:.3f} fabricated_recall={fabricated_recall:.3f} "
          f"TP={true_pos} FP={false_pos} FN={false_neg} TN={outcome[(False, False)]}")
    for miss in misses:
        print("MISS", miss)
    assert precision >= 0.95
    assert fabricated_recall == 1.0
