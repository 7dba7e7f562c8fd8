"""Figure style and deterministic rendering to SVG (the report) and PNG (MCP ImageContent).

Why matplotlib: it is the well-kept, dependency-light Python plotting library that renders both vector SVG and
raster PNG from one figure offline, with no browser or JavaScript runtime (Plotly and Vega need one to export
static images). SVG keeps report charts crisp at any zoom and in print and small (text stays text: ``svg.fonttype =
none``, so the reader's fonts render Cyrillic and CJK labels); PNG is what MCP clients show inline.

Determinism: a fixed hash salt for SVG ids, no dates or software versions in the metadata, so the same results
give byte-identical files.
"""

from __future__ import annotations

import functools
import io
import warnings
from collections.abc import Callable
from functools import lru_cache
from typing import ParamSpec

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402

# A palette readable by colour-blind readers (Okabe–Ito), plus status colours used by the report's tiles too.
INK = "#1f2933"
MUTED = "#6b7785"
GRID = "#e3e8ee"
ACCENT = "#0b6bcb"
ACCENT_LIGHT = "#9cc3ea"
GOOD = "#1a7f4b"
WARN = "#b7791f"
BAD = "#c0392b"
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
BANDS = {"red": BAD, "yellow": "#e0b43c", "green": GOOD}

# CJK fonts tried after DejaVu Sans when present (matplotlib measures labels with them; browsers pick their own).
CJK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Droid Sans Fallback",
             "Microsoft YaHei", "PingFang SC")
P = ParamSpec("P")
PX = 1 / 96  # inches per CSS pixel
_METADATA_SVG = {"Date": None, "Creator": None, "Format": None, "Type": None}
_METADATA_PNG = {"Software": None}


@lru_cache(maxsize=1)
def font_families() -> list[str]:
    """DejaVu Sans followed by the CJK fallback fonts installed on this machine."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return ["DejaVu Sans", *[name for name in CJK_FONTS if name in installed]]


def style() -> dict[str, object]:
    """rcParams for every chart."""
    return {
        "font.family": ["sans-serif"], "font.sans-serif": font_families(), "font.size": 10,
        "axes.edgecolor": GRID, "axes.labelcolor": MUTED, "axes.titlesize": 12, "axes.titleweight": "bold",
        "axes.titlelocation": "left", "axes.titlecolor": INK, "axes.spines.top": False, "axes.spines.right": False,
        "xtick.color": MUTED, "ytick.color": INK, "axes.grid": False, "grid.color": GRID,
        "svg.fonttype": "none", "svg.hashsalt": "lifecycle-mcp", "figure.dpi": 96, "savefig.dpi": 96,
        "figure.facecolor": "white", "axes.facecolor": "white", "legend.frameon": False,
    }


def styled(draw: Callable[P, plt.Figure]) -> Callable[P, plt.Figure]:
    """Run a chart function under the report style (artists read rcParams when they are created)."""
    @functools.wraps(draw)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> plt.Figure:
        with plt.rc_context(style()), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Glyph .* missing from font")
            return draw(*args, **kwargs)
    return wrapper


def new_figure(width_px: int = 760, height_px: int = 360) -> tuple[plt.Figure, plt.Axes]:
    """A figure of the given CSS-pixel size with one axes (call inside a ``styled`` chart function)."""
    return plt.subplots(figsize=(width_px * PX, height_px * PX), layout="constrained")


def set_title(figure: plt.Figure, text: str) -> None:
    """The chart's title, left-aligned over the whole figure (long titles are not clipped by the axes)."""
    figure.suptitle(text, x=0.01, ha="left", fontsize=12, fontweight="bold", color=INK)


def _save(figure: plt.Figure, fmt: str, **kwargs: object) -> bytes:
    buffer = io.BytesIO()
    with plt.rc_context(style()), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        figure.savefig(buffer, format=fmt, **kwargs)
    plt.close(figure)
    return buffer.getvalue()


def to_svg(figure: plt.Figure) -> bytes:
    """The figure as SVG (text as text, no dates or versions in it) and close it."""
    return _save(figure, "svg", metadata=_METADATA_SVG)


def to_png(figure: plt.Figure, dpi: int = 110) -> bytes:
    """The figure as PNG (no software version in it) and close it."""
    return _save(figure, "png", dpi=dpi, metadata=_METADATA_PNG)
