"""Themes of a scope's NPS comments and ticket subjects, counted by stage, segment and band, with their trend.

The fixture (as_of 2025-06-30; window 2024-07-01..2025-06-30; previous window 2023-07-01..2024-06-30): six customers
signed up 2023-01-01, C1–C3 SMB and C4–C6 Enterprise, each paying from signup; C6's subscription ended 2024-12-01, so
C6 is churned on as_of. NPS comments in the window (customer, score): export fails — C1 3, C2 5, C4 6, C6 2; price too
high — C3 7, C4 8, C5 8, C6 6; onboarding took weeks — C1 9, C2 10, C3 9, C5 10; and "ok" (C5, 9). In the previous
window: two export comments (C1 4, C2 4). By hand, in the window: 13 comments; export 4, price 4, onboarding 4 (previous
window 2, 0, 0); bands: detractor 0–6 → 3, 5, 6, 2, 6 = 5, passive 7–8 → 3, promoter 9–10 → 5; churned (C6) wrote 2
(export 1, price 1); SMB wrote 6, Enterprise 7.
"""

from __future__ import annotations

from pathlib import Path

from lifecycle.dataset import Dataset
from lifecycle.filters import Filters
from lifecycle.scope import Scope
from lifecycle.voice.needs import VoiceSource, customer_voice
from tests.builders import make_dataset

EXPORT = ["CSV export fails every time", "The CSV export fails on large files", "Export to CSV fails again",
          "CSV export keeps failing", "CSV export fails", "Export of CSV fails"]
PRICE = ["The price is too high", "Price went up again, too high", "High price for a small team", "Price too high for us"]
ONBOARDING = ["Onboarding took weeks", "Onboarding was slow and took weeks", "Weeks of onboarding before we started",
              "Onboarding took three weeks"]


def tables() -> dict[str, list[dict[str, object]]]:
    ids = [f"C{i}" for i in range(1, 7)]
    customers = [{"customer_id": c, "signup_date": "2023-01-01", "segment": "SMB" if i < 3 else "Enterprise"}
                 for i, c in enumerate(ids)]
    subscriptions = [{"subscription_id": f"S{c}", "customer_id": c, "start_date": "2023-01-01", "mrr": 100.0,
                      "end_date": "2024-12-01" if c == "C6" else None} for c in ids]
    rows = [("C1", "2024-08-01", 3, EXPORT[0]), ("C2", "2024-09-01", 5, EXPORT[1]), ("C4", "2025-01-10", 6, EXPORT[2]),
            ("C6", "2024-10-01", 2, EXPORT[3]), ("C3", "2024-08-15", 7, PRICE[0]), ("C4", "2025-02-01", 8, PRICE[1]),
            ("C5", "2025-03-01", 8, PRICE[2]), ("C6", "2024-11-01", 6, PRICE[3]), ("C1", "2025-04-01", 9, ONBOARDING[0]),
            ("C2", "2025-05-01", 10, ONBOARDING[1]), ("C3", "2025-06-01", 9, ONBOARDING[2]),
            ("C5", "2025-06-30", 10, ONBOARDING[3]), ("C5", "2025-06-20", 9, "ok"),
            ("C1", "2024-01-05", 4, EXPORT[4]), ("C2", "2024-02-05", 4, EXPORT[5]),
            ("C3", "2025-07-01", 0, "after as_of: never read")]
    nps = [{"response_id": f"N{k:02d}", "customer_id": c, "responded_at": day, "score": score, "comment": text}
           for k, (c, day, score, text) in enumerate(rows)]
    tickets = [{"ticket_id": f"T{k}", "customer_id": c, "opened_at": f"2025-0{k + 1}-02T10:00:00", "priority": p,
                "subject": "SSO login fails"} for k, (c, p) in enumerate([("C1", "high"), ("C4", "high"), ("C5", "low")])]
    return {"customers": customers, "subscriptions": subscriptions, "nps_responses": nps, "tickets": tickets}


def dataset(tmp_path: Path, **kwargs: object) -> Dataset:
    return make_dataset(tmp_path, tables(), "2025-06-30", **kwargs)  # type: ignore[arg-type]


def theme_with(report, word: str):  # type: ignore[no-untyped-def]
    return next(t for t in report.themes if any(word in term for term in t.terms))


def test_theme_counts_and_trend_match_the_hand_count(tmp_path: Path) -> None:
    report = customer_voice(dataset(tmp_path), "nps")
    assert (report.texts, report.previous_texts) == (13, 2)
    assert {(theme_with(report, w).count, theme_with(report, w).previous_count) for w in ("export", "price", "onboarding")} \
        == {(4, 2), (4, 0), (4, 0)}
    assert theme_with(report, "export").count == 4 and theme_with(report, "export").previous_count == 2
    assert theme_with(report, "onboarding").customers == 4
    assert (str(report.previous.start), str(report.previous.end)) == ("2023-07-01", "2024-06-30")


def test_texts_are_grouped_by_stage_segment_and_band(tmp_path: Path) -> None:
    report = customer_voice(dataset(tmp_path), "nps")
    assert report.group_totals("band") == {"detractor": 5, "promoter": 5, "passive": 3}
    assert report.group_totals("segment") == {"Enterprise": 7, "SMB": 6}
    assert report.group_totals("stage")["churned"] == 2
    churned = report.counts("stage", "churned")
    assert (churned[theme_with(report, "export").key], churned[theme_with(report, "price").key],
            churned[theme_with(report, "onboarding").key]) == (1, 1, 0)


def test_quotes_are_distinct_texts_of_the_theme_from_the_window(tmp_path: Path) -> None:
    report = customer_voice(dataset(tmp_path), "nps")
    export = theme_with(report, "export")
    quotes = report.quotes(export.key, limit=10)
    assert sorted(q.text for q in quotes) == sorted(EXPORT[:4])
    assert [q.text for q in report.quotes(export.key, dimension="stage", value="churned")] == [EXPORT[3]]
    assert all(q.band == "detractor" for q in quotes)


def test_filters_limit_the_texts_to_the_scope(tmp_path: Path) -> None:
    """SMB (C1–C3) wrote 6 comments in the window: export 2, price 1, onboarding 3."""
    report = customer_voice(dataset(tmp_path, filters=Filters(segment=("SMB",))), "nps")
    assert report.texts == 6
    assert set(report.frame["customer_id"]) <= {"C1", "C2", "C3"}


def test_a_filtered_scope_after_the_whole_base_keeps_only_its_customers_texts(tmp_path: Path) -> None:
    """The whole base's folded texts are memoised and a filtered scope keeps its customers' rows: asked after the
    whole base (13 comments in the window), SMB still has its 6 (hand count above), in the same order as alone."""
    base = dataset(tmp_path)
    whole = customer_voice(base, "nps")
    assert base.source is not None
    smb = Dataset.over(base.source, Scope(base.as_of, base.window, Filters(segment=("SMB",))), base.config)
    report = customer_voice(smb, "nps")
    assert (whole.texts, report.texts) == (13, 6)
    assert set(report.frame["customer_id"]) <= {"C1", "C2", "C3"}
    alone = customer_voice(Dataset(smb.connection, smb.scope, smb.config), "nps")  # no identity: nothing memoised
    assert report.frame.drop(columns=["theme", "strength"]).equals(alone.frame.drop(columns=["theme", "strength"]))


def test_ticket_subjects_are_banded_by_priority(tmp_path: Path) -> None:
    report = customer_voice(dataset(tmp_path), VoiceSource.TICKETS)
    assert report.texts == 3 and report.group_totals("band") == {"high": 2, "low": 1}
    assert [t.count for t in report.themes] == [3]
    assert report.themes[0].previous_count is None  # no ticket at all in the previous window: no trend, not zero


def test_no_text_gives_a_reason_not_a_zero(tmp_path: Path) -> None:
    data = tables()
    data["nps_responses"] = []
    report = customer_voice(make_dataset(tmp_path, data, "2025-06-30"), "nps")
    assert report.themes == () and report.reason == "no nps_responses table in the dataset"
    late = customer_voice(dataset(tmp_path / "late", window=("2025-06-30", "2025-06-30")), "tickets")
    assert late.themes == () and late.reason == "no support tickets with text in the period"


def test_quotes_come_most_typical_first_then_by_day_then_by_text_id() -> None:
    """A hand-made report of one theme: b (strength 0), then strength 1 by day — 03-01: text ids "10" before "c" (ids
    compare as text), 03-02: a; z was written in the previous window and is never quoted. Days are the texts' own."""
    from datetime import date

    import pandas as pd

    from lifecycle.scope import Window
    from lifecycle.voice.needs import ThemeSummary, VoiceReport

    rows = [("z", "2024-03-01", 0, False), ("a", "2024-03-02", 1, True), ("c", "2024-03-01", 1, True),
            ("b", "2024-03-02", 0, True), ("10", "2024-03-01", 1, True)]
    frame = pd.DataFrame({
        "text_id": pd.array([r[0] for r in rows], dtype="string"), "customer_id": pd.array(["k"] * 5, dtype="string"),
        "day": pd.to_datetime([r[1] for r in rows]).as_unit("us"), "text": pd.array([f"text {r[0]}" for r in rows], dtype="string"),
        "in_window": [r[3] for r in rows], "theme": pd.array(["t"] * 5, dtype="string"), "strength": [r[2] for r in rows],
        "stage": ["adoption"] * 5, "segment": ["SMB"] * 5, "band": pd.array(["high"] * 5, dtype="string")})
    window = Window(date(2024, 3, 1), date(2024, 3, 31))
    report = VoiceReport(VoiceSource.TICKETS, window, window.previous(), frame, (ThemeSummary("t", "t", ("t",), 4, 1, 1),))
    quotes = report.quotes("t", limit=10)
    assert [(q.text, q.day) for q in quotes] == [("text b", "2024-03-02"), ("text 10", "2024-03-01"),
                                                 ("text c", "2024-03-01"), ("text a", "2024-03-02")]
    assert report.counts_by("band", "t") == {"high": 4} and report.group_totals("stage") == {"adoption": 4}


def test_a_writer_who_is_not_a_customer_in_scope_has_no_stage_or_segment(tmp_path: Path) -> None:
    """C9 is no customer (no row in customers) and wrote "Price too high for us" in the window: by hand the window then
    holds 14 comments, the price theme 5 of them; the stage and segment tallies stay those of the 13 comments of
    customers (segment Enterprise 7, SMB 6; churned 2), and C9's quote carries no stage."""
    data = tables()
    data["nps_responses"].append({"response_id": "N99", "customer_id": "C9", "responded_at": "2025-05-05", "score": 8,
                                  "comment": "Price too high, again"})
    report = customer_voice(make_dataset(tmp_path, data, "2025-06-30"), "nps")
    assert report.texts == 14 and theme_with(report, "price").count == 5
    assert report.group_totals("segment") == {"Enterprise": 7, "SMB": 6}
    assert sum(report.group_totals("stage").values()) == 13 and report.group_totals("stage")["churned"] == 2
    by_stage = report.counts("stage", "churned")
    assert sum(by_stage.values()) == 2
    nine = [q for q in report.quotes(theme_with(report, "price").key, limit=10) if q.customer_id == "C9"]
    assert [(q.text, q.stage) for q in nine] == [("Price too high, again", None)]


def test_quotes_of_a_stage_are_its_writers_distinct_texts_in_rank_order_and_quote_texts_match() -> None:
    """A hand-made report of one theme in rank order (all strength 0, one day, text ids a..f): stage adoption wrote
    "Slow export" (a), "slow EXPORT" (c: the same text but for case) and "Export hangs" (e); stage risk wrote "Export
    broken" (b) and "export broken" (d); f has no stage. So adoption's quotes are a then e (c repeats a), risk's b
    only (d repeats it), a stage nobody has none, and no value none; ``quote_texts`` gives the same texts."""
    from datetime import date

    import pandas as pd

    from lifecycle.scope import Window
    from lifecycle.voice.needs import ThemeSummary, VoiceReport

    rows = [("a", "Slow export", "adoption"), ("b", "Export broken", "risk"), ("c", "slow EXPORT", "adoption"),
            ("d", "export broken", "risk"), ("e", "Export hangs", "adoption"), ("f", "Export again", None)]
    frame = pd.DataFrame({
        "text_id": pd.array([r[0] for r in rows], dtype="string"), "customer_id": pd.array(["k"] * 6, dtype="string"),
        "day": pd.to_datetime(["2024-03-05"] * 6).as_unit("us"), "text": pd.array([r[1] for r in rows], dtype="string"),
        "in_window": [True] * 6, "theme": pd.array(["t"] * 6, dtype="string"), "strength": [0] * 6,
        "stage": [r[2] for r in rows], "segment": ["SMB"] * 6, "band": pd.array(["high"] * 6, dtype="string")})
    window = Window(date(2024, 3, 1), date(2024, 3, 31))
    report = VoiceReport(VoiceSource.TICKETS, window, window.previous(), frame, (ThemeSummary("t", "t", ("t",), 6, 1, 0),))
    expected = {"adoption": ["Slow export", "Export hangs"], "risk": ["Export broken"], "loyalty_advocacy": []}
    for stage, texts in expected.items():
        assert [q.text for q in report.quotes("t", 10, "stage", stage)] == texts
        assert report.quote_texts("t", 10, "stage", stage) == texts
    assert report.quote_texts("t", 1, "stage", "adoption") == ["Slow export"]
    assert report.quote_texts("t", 10, "stage", None) == [] and report.quotes("t", 10, "stage", None) == []
    assert report.quote_texts("t", 10) == ["Slow export", "Export broken", "Export hangs", "Export again"]
    assert (report.texts, report.previous_texts) == (6, 0)
