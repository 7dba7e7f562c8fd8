"""The lifecycle report on the demo: findings that the verifier verifies in every language, targets and status on
every fact that has a band, KPI tiles with status, charts with alt text, a locked-down self-contained HTML file."""

from __future__ import annotations

import html
import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest

from lifecycle.dataset import Dataset
from lifecycle.facts import FactBundle, build_facts
from prompts.report.charts import report_charts
from prompts.report.document import report_html, report_markdown
from prompts.report.findings import overview_findings, stage_findings
from prompts.verify import verify_draft

AS_OF = date(2025, 12, 31)


@pytest.fixture(scope="module")
def demo(demo_db: Path) -> tuple[Dataset, FactBundle]:
    dataset = Dataset.open(demo_db, AS_OF)
    return dataset, build_facts(dataset)


@pytest.mark.parametrize("language", ["en", "ru", "zh"])
def test_every_finding_passes_the_verifier(demo: tuple[Dataset, FactBundle], language: str) -> None:
    _, bundle = demo
    findings = overview_findings(bundle, language)
    for stage in ("awareness", "evaluation", "purchase_onboarding", "adoption", "growth_expansion", "loyalty_advocacy"):
        findings += stage_findings(bundle, stage, language)
    kinds = {f.kind for f in findings}
    assert {"bottleneck", "funnel", "gap", "change", "risk", "driver"} <= kinds
    text = "\n".join(f.text for f in findings)
    report = verify_draft(text, bundle, language)
    assert report.ok, report.markdown()
    assert len(report.claims) >= 40  # the findings state numbers, and every one is verified


def test_the_bottleneck_is_the_most_stagnant_stage_on_the_demo(demo: tuple[Dataset, FactBundle]) -> None:
    """Stagnation per stage on the demo: purchase_onboarding 50.0%, adoption 58.5%, growth_expansion 12.2% → adoption."""
    _, bundle = demo
    facts = bundle.by_id()
    necks = [f for f in bundle.facts if f.id.startswith("funnel.bottleneck.")]
    assert [f.id for f in necks] == ["funnel.bottleneck.adoption"]
    assert necks[0].value == facts["stagnation_rate.adoption"].value


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.rows: list[list[str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_html_report_opens_with_tiles_funnel_and_findings_and_shows_every_target_with_status(demo: tuple[Dataset, FactBundle]) -> None:
    dataset, bundle = demo
    charts = report_charts(dataset, "en")
    page = report_html("Report", bundle, charts)
    parser = _Page()
    parser.feed(page)
    assert "<script" not in page and "default-src 'none'" in page
    tiles = [a for t, a in parser.tags if t == "div" and "kpi" in (a.get("class") or "").split()]
    assert len(tiles) >= 6 and all(re.search(r"\bstatus-(below|within|above|none)\b", a["class"] or "") for a in tiles)
    assert any("status-below" in (a["class"] or "") for a in tiles)  # activation and NPS miss their bands on the demo
    images = [a for t, a in parser.tags if t == "img"]
    assert len(images) >= 5 and all(a.get("alt") and (a.get("src") or "").startswith("data:image/svg+xml") for a in images)
    assert page.index('id="overview"') < page.index('data-chart="funnel"') < page.index('id="flow"')
    targeted = [f for f in bundle.facts if f.target]
    assert targeted
    for fact in targeted:  # the appendix row of each fact with a band shows the band and the status
        row = re.search(rf'<tr id="f-{re.escape(fact.id)}">(.*?)</tr>', page, re.S)
        assert row and html.escape(fact.target) in row.group(1) and f"status-{fact.status}" in row.group(1), fact.id


def test_markdown_report_leads_with_findings_and_links_chart_files(demo: tuple[Dataset, FactBundle]) -> None:
    dataset, bundle = demo
    charts = report_charts(dataset, "ru")
    files = {c.key: f"all.chart-{c.key}.svg" for c in charts}
    text = report_markdown("Отчёт", bundle, charts, files, "ru")
    assert text.index("## Обзор") < text.index("### Выводы") < text.index("## Приложение")
    assert "](all.chart-funnel.svg)" in text and "58,5\u00a0%" in text
    assert all(c.svg.startswith(b"<?xml") and b"<script" not in c.svg for c in charts)


def test_the_cohort_heatmap_shows_every_signup_month_of_the_data(demo: tuple[Dataset, FactBundle]) -> None:
    """The demo's customers sign up in each of its 24 months (2024-01 .. 2025-12): 24 cohort rows, not the window's 12."""
    dataset, _ = demo
    months = dataset.customers()["signup_date"].dt.strftime("%Y-%m").nunique()
    chart = next(c for c in report_charts(dataset, "en") if c.key == "cohorts")
    assert months == 24 and chart.alt.endswith(f": {months} (2024-01 – 2025-12)")
