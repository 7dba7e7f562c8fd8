"""Load, before serving, the code the analytical tools otherwise load on their first call.

The engine defers its heavy imports — SciPy for the CLV models (``lifecycle.clv._deferred``), scikit-learn, the
stemmers and stop-word lists for the voice-of-customer themes (``lifecycle.voice``), the metric modules of the
catalogue (``lifecycle.metrics.registry``), Parquet for the snapshot cache — so that a stdio server answers
``tools/list`` quickly. A long-running HTTP server pays for them once anyway, on the first call that needs each;
``lifecycle serve --http`` loads them at start instead (``--preload``, the default there), so that

- the first calls of a burst do not each wait for an import, and
- the server's resident memory after start is its working level: measured on the demo, the deferred imports are about
  130 MB (209 MB after start without them, 340 MB with), which would otherwise appear as "growth" during the first
  burst and never go away — code, unlike data, is not given back.

Charts (matplotlib), the Chinese word segmenter (jieba, with its dictionary) and the plan sentence splitter stay
deferred: only some calls need them. ``tests/server/test_preload.py`` checks that calling every tool after the preload
imports no further third-party package.
"""

from __future__ import annotations

import importlib

DEFERRED_MODULES: tuple[str, ...] = (
    "pandas",                           # every table the engine reads (a stdio server starts without it)
    "scipy.special",                    # lifecycle.clv._deferred: the CLV models' special functions
    "scipy.optimize",                   # lifecycle.clv._deferred: their fitting
    "sklearn.feature_extraction.text",  # lifecycle.voice.themes: TF-IDF of comments
    "sklearn.decomposition",            # lifecycle.voice.themes: NMF themes
    "threadpoolctl",                    # lifecycle.voice.themes
    "stop_words",                       # lifecycle.voice.words
    "snowballstemmer",                  # lifecycle.voice.words, prompts.grounding.subjects
    "pyarrow.parquet",                  # the snapshot cache (Parquet files, read through Arrow datasets)
    "pyarrow.dataset",
    "pyarrow.pandas_compat",
    "jinja2",                           # prompts.render: the prompt templates (lifecycle_facts, prompts)
)
"""Third-party modules the tools import on first use, loaded by ``preload``."""

ENGINE_MODULES: tuple[str, ...] = (
    "pandas.core.arrays.arrow.extension_types",  # compute_metrics
    "pandas.core.methods.to_dict",              # stage_distribution
    "pandas.core.reshape.reshape",
    "lifecycle.metrics.intervals",              # compute_metrics
    "lifecycle.metrics.cohorts",                # predict_clv
    "lifecycle.metrics.period_change",          # lifecycle_facts
    "lifecycle.stages.value",                   # stage_distribution
    "lifecycle.stages.verdict",
    "lifecycle.stages.funnel",                  # lifecycle_facts
    "lifecycle.health.live",                    # score_health
    "lifecycle.facts.bundle",                   # lifecycle_facts
    "lifecycle.facts.derived",
    "lifecycle.facts.needs",
    "lifecycle.facts.sources",
    "lifecycle.voice.needs",
)
"""The engine's own modules (and pandas' submodules) the tools import on their first call on the demo — found by
comparing ``sys.modules`` after the preload with after one call of each tool. Loaded by ``preload`` too: code loaded
in the middle of a burst puts long-lived objects (functions, classes, module dicts) between the burst's short-lived
ones, and each can pin a 1 MiB block (arena) of Python's small-object allocator that the burst would otherwise give
back. Measured in process on the demo before this list (20 clients × 3 calls): Python's allocator held 89 arenas
before the burst and 118 after it and the idle release, for only 1.6 MB more live objects. With the list, the load
benchmark's ratio (RSS a minute after the burst ÷ before) moved within its noise (1.23 → 1.22-1.23): most of the
pinning comes from elsewhere (docs/benchmarks.md, load section)."""


def preload() -> None:
    """Import ``DEFERRED_MODULES``, ``ENGINE_MODULES`` and every metric module of the catalogue (``registry()``); a module that is not
    installed is skipped (its tool then says what is missing, as without the preload)."""
    for name in DEFERRED_MODULES + ENGINE_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            continue
    from lifecycle.metrics.registry import registry

    registry()
