"""The system Chromium (Debian's ``chromium`` package) driven over the DevTools protocol by Playwright, for rendering
the lifecycle report as a reader's browser does. No browser download: Playwright launches ``/usr/bin/chromium``.

``ensure_chromium`` installs the browser and a CJK font (``fonts-wqy-microhei``, so Chinese renders) with apt when
missing — the project's own setup for a fresh CI machine, one installer at a time: the test workers (pytest-xdist)
queue on a lock file and apt waits for dpkg's own lock instead of failing on it; ``render`` opens a report headless at 1280 px wide and
returns what the tests assert on (console messages, tiles, charts, the overview's box) and the first screen as PNG.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = Path(os.environ.get("LIFECYCLE_CHROMIUM", "/usr/bin/chromium"))
PACKAGES = ("chromium", "fonts-wqy-microhei")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run")
VIEWPORT = {"width": 1280, "height": 800}
INSTALL_LOCK = Path(tempfile.gettempdir()) / "lifecycle-chromium-install.lock"
APT_LOCK_WAIT = 900  # seconds: an apt run of another process (or another test worker's install) may take minutes


class ChromiumUnavailable(RuntimeError):
    """Chromium is missing and could not be installed (not root, or apt failed)."""


def _cjk_font_installed() -> bool:
    if shutil.which("fc-list") is None:
        return False
    listing = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False).stdout
    return bool(listing.strip())


def _missing() -> list[str]:
    return [p for p, ok in (("chromium", CHROMIUM.exists()), ("fonts-wqy-microhei", _cjk_font_installed())) if not ok]


def ensure_chromium() -> Path:
    """The Chromium executable, installed with apt-get (with a CJK font) when missing.

    Two test workers finding it missing at once would both run apt-get, and the second fails on dpkg's lock ("Could not
    get lock /var/lib/dpkg/lock-frontend", seen on a fresh CI machine): the install runs under a lock file shared by
    every process of the machine, what is missing is read again once it is held, and apt waits up to
    ``APT_LOCK_WAIT`` seconds for dpkg's lock held by anything else (``DPkg::Lock::Timeout``, apt ≥ 1.9.11).
    """
    seen_missing = _missing()
    if not seen_missing:
        return CHROMIUM
    from filelock import FileLock

    with FileLock(str(INSTALL_LOCK), timeout=APT_LOCK_WAIT):
        missing = _missing()  # another worker may have installed them while this one waited
        if missing:
            _apt_install(missing)
    if not CHROMIUM.exists():
        raise ChromiumUnavailable(f"{CHROMIUM} still missing after installing {' '.join(seen_missing)}")
    _forget_matplotlib_font_cache()  # the font arrived after this process's matplotlib may have listed the fonts
    return CHROMIUM


def _apt_install(missing: list[str]) -> None:
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        raise ChromiumUnavailable(f"{', '.join(missing)} missing; install with: apt-get install -y {' '.join(PACKAGES)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    wait = ["-o", f"DPkg::Lock::Timeout={APT_LOCK_WAIT}"]
    install = ["apt-get", *wait, "install", "-y", "--no-install-recommends", *missing]
    if subprocess.run(install, capture_output=True, env=env, check=False).returncode != 0:
        subprocess.run(["apt-get", *wait, "update"], capture_output=True, env=env, check=False)
        result = subprocess.run(install, capture_output=True, text=True, env=env, check=False)
        if result.returncode != 0:
            raise ChromiumUnavailable(f"apt-get install {' '.join(missing)} failed: {result.stderr[-500:]}")


def _forget_matplotlib_font_cache() -> None:
    """A font installed after matplotlib cached the font list is found only after the cache is rebuilt."""
    try:
        from matplotlib import font_manager

        font_manager.fontManager = font_manager._load_fontmanager(try_read_cache=False)  # type: ignore[attr-defined]
        from charts.figure import font_families

        font_families.cache_clear()
    except Exception:  # noqa: BLE001 — the charts then measure CJK text with DejaVu; the browser still renders it
        pass


@dataclass
class RenderedReport:
    """What Chromium made of a report page."""

    console: list[tuple[str, str]] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    tiles: list[dict[str, Any]] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)
    overview: dict[str, float] = field(default_factory=dict)
    first_screen_text: str = ""
    screenshot: bytes = b""
    pdf_bytes: int = 0


PROBE = """() => {
  const box = (el) => { const r = el.getBoundingClientRect(); return {top: r.top, bottom: r.bottom, width: r.width, height: r.height}; };
  return {
    tiles: [...document.querySelectorAll('.kpi')].map(el => ({cls: el.className, ...box(el)})),
    images: [...document.images].map(el => ({alt: el.alt, natural: el.naturalWidth, complete: el.complete, chart: el.closest('figure')?.dataset.chart || '', ...box(el)})),
    overview: box(document.querySelector('#overview')),
    text: document.querySelector('#overview').innerText,
  };
}"""


def render(html_file: Path, pdf: bool = False) -> RenderedReport:
    """Open ``html_file`` in headless Chromium at 1280 × 800 (fresh profile) and probe it."""
    from playwright.sync_api import sync_playwright

    executable = ensure_chromium()
    out = RenderedReport()
    with tempfile.TemporaryDirectory(prefix="lifecycle-chromium-") as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=str(executable), headless=True, args=list(FLAGS), viewport=VIEWPORT,
            device_scale_factor=1, locale="en-US", offline=True)
        try:
            page = context.new_page()
            page.on("console", lambda message: out.console.append((message.type, message.text)))
            page.on("pageerror", lambda error: out.page_errors.append(str(error)))
            page.goto(html_file.resolve().as_uri(), wait_until="load")
            page.wait_for_function("() => [...document.images].every(i => i.complete)")
            probe = page.evaluate(PROBE)
            out.tiles, out.images, out.overview, out.first_screen_text = probe["tiles"], probe["images"], probe["overview"], probe["text"]
            out.screenshot = page.screenshot(clip={"x": 0, "y": 0, **VIEWPORT})
            if pdf:
                page.emulate_media(media="print")
                out.pdf_bytes = len(page.pdf(format="A4"))
        finally:
            context.close()
    return out
