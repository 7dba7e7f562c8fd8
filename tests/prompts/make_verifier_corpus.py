"""Writes verifier_corpus.jsonl: labelled numeric claims in en/ru/zh, one claim per sentence.

Labels are fixed by construction (which number and which citation each sentence was written with), never by
running the verifier. Facts are those of ``corpus_bundle()`` in test_verifier_corpus.py.
Run: .venv/bin/python tests/prompts/make_verifier_corpus.py
"""

from __future__ import annotations

import json
from pathlib import Path

# fact id -> per language: (correct text, wrong-value text, wrong-unit text, fabricated text)
CLAIMS = {
    "activation_rate": {
        "en": ("64.2%", "71.5%", "64.2 days", "83%"), "ru": ("64,2 %", "71,5 %", "64,2 дня", "83 %"), "zh": ("64.2%", "71.5%", "64.2天", "83%")},
    "nrr": {
        "en": ("104.3%", "112%", "104.3 days", "118.5%"), "ru": ("104,3%", "112%", "104,3 дня", "118,5 %"), "zh": ("104.3%", "112%", "104.3天", "118.5%")},
    "mrr": {
        "en": ("$182,346", "$195,000", "182,346 days", "$240,000"), "ru": ("182 346 $", "195 000 $", "182 346 дней", "240 000 $"),
        "zh": ("18.2万美元", "19.5万美元", "182346天", "24万美元")},
    "time_to_value_days": {
        "en": ("5.4 days", "3.1 days", "5.4%", "9 days"), "ru": ("5,4 дня", "3,1 дня", "5,4 %", "9 дней"), "zh": ("5.4天", "3.1天", "5.4%", "9天")},
    "nps": {
        "en": ("27.5", "41", "27.5%", "62"), "ru": ("27,5", "41", "27,5 %", "62"), "zh": ("27.5", "41", "27.5%", "62")},
    "arpa": {
        "en": ("$912.73", "$1,050", "912.73%", "$640"), "ru": ("912,73 $", "1 050 $", "912,73 %", "640 $"), "zh": ("912.73美元", "1050美元", "912.73%", "640美元")},
    "quick_ratio": {
        "en": ("2.35×", "4.1×", "2.35%", "3.8×"), "ru": ("2,35×", "4,1×", "2,35 %", "3,8×"), "zh": ("2.35倍", "4.1倍", "2.35%", "3.8倍")},
    "median_tenure_days": {
        "en": ("410 days", "365 days", "410%", "530 days"), "ru": ("410 дней", "365 дней", "410 %", "530 дней"), "zh": ("410天", "365天", "410%", "530天")},
    "customers_total": {
        "en": ("1,987", "2,150", "1,987%", "3,400"), "ru": ("1 987", "2 150", "1 987 %", "3 400"), "zh": ("1987", "2150", "1987%", "3400")},
    "referral_rate": {
        "en": ("8.3%", "12%", "8.3 days", "19.5%"), "ru": ("8,3 %", "12 %", "8,3 дня", "19,5 %"), "zh": ("8.3%", "12%", "8.3天", "19.5%")},
    "logo_churn_rate": {
        "en": ("2.1%", "3.4%", "2.1 days", "6.7%"), "ru": ("2,1 %", "3,4 %", "2,1 дня", "6,7 %"), "zh": ("2.1%", "3.4%", "2.1天", "6.7%")},
    "cac": {
        "en": ("$1,450", "$1,980", "1,450 days", "$2,750"), "ru": ("1 450 $", "1 980 $", "1 450 дней", "2 750 $"), "zh": ("1450美元", "1980美元", "1450天", "2750美元")},
    "ltv_to_cac": {
        "en": ("3.1×", "4.6×", "3.1%", "5.2×"), "ru": ("3,1×", "4,6×", "3,1 %", "5,2×"), "zh": ("3.1倍", "4.6倍", "3.1%", "5.2倍")},
}

SENTENCES = {
    "en": "Our {label} currently stands at {num}{cite}, which shapes the plan for this stage.",
    "ru": "Сейчас показатель «{label}» составляет {num}{cite}, и это определяет план для этапа.",
    "zh": "目前{label}为{num}{cite}，这决定了该阶段的计划。",
}
LABELS = {"en": "metric", "ru": "метрика", "zh": "指标"}

# Hand-written extras: seed statistics and invented figures that must be caught; correct band citations.
EXTRAS = [
    ("en", "Growing existing customers is 5-7x cheaper than acquiring new ones.", "fabricated"),
    ("en", "Reducing churn by 5% can increase profits by 25-95%.", "fabricated"),
    ("en", "Aim to lift activation to 75% within the next quarter [F:activation_rate].", "wrong_value"),
    ("en", "We expect roughly 300 new referrals next year.", "fabricated"),
    ("en", "The activation target band is 60–80% [F:activation_rate].", "correct"),
    ("ru", "Снижение оттока на 5 % может увеличить прибыль на 25–95 %.", "fabricated"),
    ("ru", "Целевой диапазон NRR — 100–120 % [F:nrr].", "correct"),
    ("ru", "Мы ожидаем около 1,2 млн $ дополнительной выручки.", "fabricated"),
    ("zh", "拓展现有客户的成本比获取新客户低5-7倍。", "fabricated"),
    ("zh", "预计明年收入将达到1.2亿美元。", "fabricated"),
    ("zh", "激活率的目标区间为60–80% [F:activation_rate]。", "correct"),
    ("zh", "净推荐值目标为30–50 [F:nps]。", "correct"),
]


def main() -> None:
    rows = []
    for fact_id, languages in CLAIMS.items():
        for lang, (correct, wrong_value, wrong_unit, fabricated) in languages.items():
            template = SENTENCES[lang]
            label = LABELS[lang]
            cases = (
                ("correct", correct, f" [F:{fact_id}]"),
                ("wrong_value", wrong_value, f" [F:{fact_id}]"),
                ("wrong_unit", wrong_unit, f" [F:{fact_id}]"),
                ("uncited", correct, ""),
                ("fabricated", fabricated, ""),
            )
            for kind, number, cite in cases:
                rows.append({"lang": lang, "fact": fact_id, "label": kind,
                             "text": template.format(label=label, num=number, cite=cite), "number": number})
    for lang, text, kind in EXTRAS:
        rows.append({"lang": lang, "fact": None, "label": kind, "text": text, "number": None})
    out = Path(__file__).with_name("verifier_corpus.jsonl")
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"{len(rows)} labelled claims → {out}")


if __name__ == "__main__":
    main()
