"""The offline plan's HTML report as a reader's browser renders it: system Chromium, headless, 1280 px wide.

Runs the installed console script on the demo (en, ru, zh), opens each report in Chromium over the DevTools
protocol, and asserts on the rendered DOM: no console errors under the strict CSP, KPI tiles with a status class,
every chart with a non-zero size and alt text, the overview ending within the first 800 px, the first screen
showing tiles, funnel and bottleneck; and that the committed README screenshots are what the tests render.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.browser.chromium import RenderedReport, render
from tests.browser.screenshots import LANGUAGES, screenshot_path, write_plan

pytestmark = pytest.mark.slow

BOTTLENECK = {"en": "bottleneck", "ru": "Узкое место", "zh": "瓶颈"}


@pytest.fixture(scope="module")
def rendered(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, RenderedReport]:
    out = tmp_path_factory.mktemp("reports")
    return {language: render(write_plan(out / language, language, demo_db), pdf=language == "en") for language in LANGUAGES}


@pytest.mark.parametrize("language", LANGUAGES)
def test_report_renders_without_console_errors_under_the_csp(rendered: dict[str, RenderedReport], language: str) -> None:
    page = rendered[language]
    assert not page.page_errors
    assert [m for m in page.console if m[0] in ("error", "warning")] == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_kpi_tiles_carry_a_status_class(rendered: dict[str, RenderedReport], language: str) -> None:
    tiles = rendered[language].tiles
    assert len(tiles) >= 6
    assert all(any(c.startswith("status-") for c in t["cls"].split()) for t in tiles)
    assert {"status-below", "status-within"} <= {c for t in tiles for c in t["cls"].split()}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_chart_has_a_size_and_alt_text_and_there_are_at_least_five(rendered: dict[str, RenderedReport], language: str) -> None:
    images = rendered[language].images
    assert len(images) >= 5
    for image in images:
        assert image["complete"] and image["natural"] > 0 and image["width"] > 0 and image["height"] > 0, image
        assert image["alt"].strip(), image


@pytest.mark.parametrize("language", LANGUAGES)
def test_overview_fits_the_first_screen_with_tiles_funnel_and_bottleneck(rendered: dict[str, RenderedReport], language: str) -> None:
    page = rendered[language]
    assert 0 < page.overview["bottom"] <= 800
    funnel = next(i for i in page.images if i["chart"] == "funnel")
    assert funnel["bottom"] <= 800 and all(t["bottom"] <= 800 for t in page.tiles)
    assert BOTTLENECK[language] in page.first_screen_text


def test_report_prints_to_pdf(rendered: dict[str, RenderedReport]) -> None:
    assert rendered["en"].pdf_bytes > 10_000


@pytest.mark.parametrize("language", LANGUAGES)
def test_committed_screenshot_is_what_the_test_renders(rendered: dict[str, RenderedReport], language: str) -> None:
    """Same size, and ≥ 99 % of pixels within 8 levels per channel (anti-aliasing may differ across Chromium builds).
    Regenerate with: .venv/bin/python -m tests.browser.screenshots"""
    from PIL import Image, ImageChops

    committed = Image.open(screenshot_path(language)).convert("RGB")
    current = Image.open(io.BytesIO(rendered[language].screenshot)).convert("RGB")
    assert committed.size == current.size == (1280, 800)
    difference = ImageChops.difference(committed, current).convert("L").point(lambda v: 255 if v > 8 else 0)
    changed = sum(difference.histogram()[255:]) / (1280 * 800)
    assert changed <= 0.01, f"{changed:.1%} of pixels differ; regenerate with: .venv/bin/python -m tests.browser.screenshots"
