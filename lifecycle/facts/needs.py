"""Facts of the customers' own words: recurring themes of NPS comments and ticket subjects, overall and per stage.

From ``lifecycle.voice.needs.customer_voice`` (one report per source: ``nps``, ``tickets``), with stable ids:

- ``needs.<source>.texts`` — texts written in the period (None with the reason when the table is absent),
  ``needs.<source>.texts_previous`` — the same in the previous period of the same length;
- per theme (the ``THEMES_PER_SOURCE`` largest): ``needs.<source>.<theme>.count`` (texts with the theme; up to
  ``QUOTES_OVERALL`` representative texts in ``quotes``), ``.share`` (of the period's texts), ``.previous_count`` (None when the previous period has no texts of the source) and, for the ``BANDED_THEMES`` largest,
  ``.band.<band>.count`` (NPS: detractor / passive / promoter; tickets: priority);
- per stage of the writers on as_of (``churned`` included): ``needs.<stage>.<source>.texts`` and the stage's
  ``TOP_THEMES_PER_STAGE`` largest themes with at least ``MIN_STAGE_TEXTS`` texts,
  ``needs.<stage>.<source>.<theme>.count`` with ``QUOTES_PER_STAGE`` quotes from that stage's writers.

Sections: the overall facts ``needs`` and ``overview``; a stage's facts its framework section (``risk`` for churned
customers, ``flow`` for stages outside the framework) and ``needs:<stage>``, which the prompts' "needs" parts list. Quotes and theme labels are the customers' words: untrusted, fenced by every renderer.
"""

from __future__ import annotations

from lifecycle.dataset import Dataset
from lifecycle.facts.fact import Fact, format_value
from lifecycle.metrics.registry import FRAMEWORK_SECTIONS
from lifecycle.metrics.results import Unit
from lifecycle.voice.needs import VoiceReport, VoiceSource, customer_voice

NEEDS = "needs"
TOP_THEMES_PER_STAGE = 3
MIN_STAGE_TEXTS = 2
BANDED_THEMES = 3
THEMES_PER_SOURCE = 8
QUOTES_OVERALL = 3
QUOTES_PER_STAGE = 2


def stage_sections(stage: str) -> tuple[str, ...]:
    """The sections a stage's needs feed: its framework section (``risk`` for churned, ``flow`` for stages outside the
    framework) and ``needs:<stage>``."""
    own = stage if stage in FRAMEWORK_SECTIONS else ("risk" if stage == "churned" else "flow")
    return (own, f"{NEEDS}:{stage}")


def _count(fid: str, label: str, value: float | None, sections: tuple[str, ...], n: int | None = None,
           note: str | None = None, detail: bool = False, quotes: tuple[str, ...] = ()) -> Fact:
    return Fact(fid, label, value, Unit.COUNT.value, format_value(value, Unit.COUNT), n, sections=sections, note=note,
                detail=detail, quotes=quotes)


def needs_facts(dataset: Dataset) -> list[Fact]:
    """The facts of both sources (see the module docstring)."""
    facts: list[Fact] = []
    for source in VoiceSource:
        facts += voice_facts(customer_voice(dataset, source))
    return facts


def voice_facts(report: VoiceReport) -> list[Fact]:
    """The facts of one source's report: texts, themes overall with trend, bands and quotes, themes per stage."""
    src, noun = report.source.value, report.source.noun
    overall = (NEEDS, "overview")
    texts_label = f"{noun[0].upper()}{noun[1:]} with text written in the period"
    if not report.themes and report.reason and report.frame.empty:
        return [_count(f"needs.{src}.texts", texts_label, None, overall, note=report.reason)]
    facts = [_count(f"needs.{src}.texts", texts_label, float(report.texts), overall, note=report.reason),
             _count(f"needs.{src}.texts_previous", f"{texts_label[:-len('in the period')]}in the previous period",
                    float(report.previous_texts), overall, detail=True)]
    for rank, theme in enumerate(report.themes[:THEMES_PER_SOURCE]):
        base = f"needs.{src}.{theme.key}"
        about = f'{noun} about "{theme.label}"'
        quotes = tuple(report.quote_texts(theme.key, QUOTES_OVERALL))
        share = theme.count / report.texts if report.texts else None
        previous = None if theme.previous_count is None else float(theme.previous_count)
        facts += [
            _count(f"{base}.count", f"{about[0].upper()}{about[1:]}: texts in the period", float(theme.count), overall,
                   report.texts, quotes=quotes),
            Fact(f"{base}.share", f"{about[0].upper()}{about[1:]}: share of the period's {noun}", share, Unit.RATIO.value,
                 format_value(share, Unit.RATIO), report.texts, sections=overall, detail=True),
            _count(f"{base}.previous_count", f"{about[0].upper()}{about[1:]}: texts in the previous period", previous,
                   overall, report.previous_texts, detail=True,
                   note=None if previous is not None else f"no {noun} in the previous period: no trend"),
        ]
        if rank < BANDED_THEMES:
            for band, n in _band_counts(report, theme.key).items():
                facts.append(_count(f"{base}.band.{band}.count", f"{about[0].upper()}{about[1:]} from {band} writers",
                                    float(n), overall, detail=True))
    facts += _stage_facts(report)
    return facts


def _band_counts(report: VoiceReport, key: str) -> dict[str, int]:
    counts = report.counts_by("band", key)
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _stage_facts(report: VoiceReport) -> list[Fact]:
    src, noun = report.source.value, report.source.noun
    facts: list[Fact] = []
    for stage, total in report.group_totals("stage").items():
        sections = stage_sections(stage)
        who = "churned customers" if stage == "churned" else f"customers now in {stage}"
        facts.append(_count(f"needs.{stage}.{src}.texts", f"{noun[0].upper()}{noun[1:]} written in the period by {who}",
                            float(total), sections, detail=True))
        counts = report.counts("stage", stage)
        ranked = sorted((t for t in report.themes if counts[t.key] >= MIN_STAGE_TEXTS), key=lambda t: (-counts[t.key], t.label))
        for theme in ranked[:TOP_THEMES_PER_STAGE]:
            quotes = tuple(report.quote_texts(theme.key, QUOTES_PER_STAGE, "stage", stage))
            facts.append(_count(f"needs.{stage}.{src}.{theme.key}.count",
                                f'{noun[0].upper()}{noun[1:]} about "{theme.label}" by {who}', float(counts[theme.key]),
                                sections, total, detail=True, quotes=quotes))
    return facts
