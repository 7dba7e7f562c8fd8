"""Regenerate the README's report screenshots: the offline plan on the demo, first screen at 1280 × 800, en/ru/zh.

    .venv/bin/python -m tests.browser.screenshots        # writes docs/img/report-overview-{en,ru,zh}.png

The browser tests render the same pages the same way (``overview_screenshot``) and compare them with these files.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from tests.browser.chromium import render

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / "docs" / "img"
LANGUAGES = ("en", "ru", "zh")
AS_OF = "2025-12-31"


def lifecycle_script() -> Path:
    """The ``lifecycle`` console script of the running venv."""
    return Path(sys.executable).with_name("lifecycle")


def write_plan(out: Path, language: str, db: Path | None = None) -> Path:
    """Run the README's main command (offline) in ``language`` into ``out``; the HTML report's path."""
    command = [str(lifecycle_script()), "plan", "--offline", "--as-of", AS_OF, "--language", language, "--out", str(out)]
    if db is not None:
        command += ["--db", str(db)]
    subprocess.run(command, check=True, capture_output=True, text=True, timeout=600)
    return out / "all.html"


def screenshot_path(language: str) -> Path:
    return IMAGES / f"report-overview-{language}.png"


def main() -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for language in LANGUAGES:
            page = render(write_plan(Path(tmp) / language, language))
            screenshot_path(language).write_bytes(page.screenshot)
            print(f"wrote {screenshot_path(language).relative_to(ROOT)}")


if __name__ == "__main__":
    main()
