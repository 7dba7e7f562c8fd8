"""What customers say they need: themes of a scope's NPS comments or ticket subjects, by stage, segment and band.

``customer_voice(dataset, source)`` reads the texts of ``source`` — ``nps`` (``nps_responses.comment``, banded by
the score: promoter 9–10, passive 7–8, detractor 0–6) or ``tickets`` (``tickets.subject``, banded by priority) —
written in the scope's window and in the previous window of the same length, finds their recurring themes once
over both (``lifecycle.voice.themes.find_themes``, texts in (day, id) order) and keeps, for each text, its theme and
its writer's groups: ``stage`` on as_of (``churned`` for churned customers; ``lifecycle.stages.history.stages_at``)
and ``segment`` (``customers.segment``). Counts are texts in the window; the trend is the same count in the previous
window (``None`` when that window holds no text of the source at all — no data is not "nobody said it").

Texts are kept as written (control and bidi characters dropped, whitespace folded, at most ``MAX_QUOTE_CHARS``):
they are still untrusted, and the layers that show them fence them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from lifecycle.dataset import Dataset
from lifecycle.scope import Window
from lifecycle.voice.themes import MAX_THEMES, MIN_TEXTS, find_themes

MAX_QUOTE_CHARS = 200
NPS_BANDS = (("detractor", 0, 6), ("passive", 7, 8), ("promoter", 9, 10))


class VoiceSource(StrEnum):
    """Where customer text comes from."""

    NPS = "nps"
    TICKETS = "tickets"

    @property
    def table(self) -> str:
        return {"nps": "nps_responses", "tickets": "tickets"}[self.value]

    @property
    def text_column(self) -> str:
        return {"nps": "comment", "tickets": "subject"}[self.value]

    @property
    def time_column(self) -> str:
        return {"nps": "responded_at", "tickets": "opened_at"}[self.value]

    @property
    def id_column(self) -> str:
        return {"nps": "response_id", "tickets": "ticket_id"}[self.value]

    @property
    def noun(self) -> str:
        return {"nps": "NPS comments", "tickets": "support tickets"}[self.value]


DIMENSIONS = ("stage", "segment", "band")


@dataclass(frozen=True)
class Quote:
    """A representative text of a theme (untrusted: clean and fence before showing it)."""

    text: str
    customer_id: str
    day: str
    stage: str | None
    band: str | None


@dataclass(frozen=True)
class ThemeSummary:
    """One theme over the scope: texts with it in the window (``count``, of ``VoiceReport.texts``), distinct writers,
    and the count in the previous window (``None`` when that window has no texts of the source)."""

    key: str
    label: str
    terms: tuple[str, ...]
    count: int
    customers: int
    previous_count: int | None


@dataclass(frozen=True)
class VoiceReport:
    """The themes of one source's texts for a scope, with every text's theme and groups (``frame``).

    ``frame`` columns: text_id, customer_id, day (datetime64), text, in_window (bool), theme (key or NA), strength
    (0 = the theme's most typical text), stage, segment, band.
    """

    source: VoiceSource
    window: Window
    previous: Window
    frame: pd.DataFrame
    themes: tuple[ThemeSummary, ...]
    reason: str | None = None

    @cached_property
    def texts(self) -> int:
        """Texts of the source written in the window (counted once: the facts read it for every theme)."""
        return int(np.count_nonzero(self.frame["in_window"].to_numpy(dtype=bool)))

    @cached_property
    def previous_texts(self) -> int:
        """Texts of the source written in the previous window of the same length (the frame's other texts)."""
        return len(self.frame) - self.texts

    def theme(self, key: str) -> ThemeSummary:
        for theme in self.themes:
            if theme.key == key:
                return theme
        raise KeyError(key)

    def group_totals(self, dimension: str) -> dict[str, int]:
        """Texts in the window per value of ``dimension`` (stage, segment or band), largest first (ties by name)."""
        tally: dict[str, int] = {}
        for value in self._ranked.values(dimension):
            if value is not None:
                tally[value] = tally.get(value, 0) + 1
        return dict(sorted(tally.items(), key=lambda kv: (-kv[1], kv[0])))

    def counts(self, dimension: str, value: str | None = None) -> dict[str, int]:
        """Texts in the window per theme key (all themes, zeros included) — all texts, or those whose ``dimension``
        equals ``value``."""
        ranked = self._ranked
        if value is None:
            found: dict[str, int] = {}
            for theme in ranked.themes:
                if theme is not None:
                    found[theme] = found.get(theme, 0) + 1
        else:
            found = ranked.theme_counts(dimension).get(value, {})
        return {t.key: found.get(t.key, 0) for t in self.themes}

    def counts_by(self, dimension: str, key: str) -> dict[str, int]:
        """Texts of theme ``key`` in the window per value of ``dimension`` (missing values left out)."""
        ranked = self._ranked
        found: dict[str, int] = {}
        values = ranked.values(dimension)
        for i in ranked.by_theme.get(key, ()):
            value = values[i]
            if value is not None:
                found[value] = found.get(value, 0) + 1
        return found

    def quotes(self, key: str, limit: int = 3, dimension: str | None = None, value: str | None = None) -> list[Quote]:
        """Up to ``limit`` distinct texts of theme ``key`` written in the window (optionally only by writers whose
        ``dimension`` is ``value``), most typical first (largest weight of the theme; ties: earlier text); a text
        counts once whatever its case (``str.casefold``)."""
        ranked = self._ranked
        return [Quote(ranked.text[i], str(ranked.customer_id[i]), pd.Timestamp(ranked.day[i]).date().isoformat(),
                      _opt(ranked.stage[i]), _opt(ranked.band[i])) for i in self._quoted(key, limit, dimension, value)]

    def quote_texts(self, key: str, limit: int = 3, dimension: str | None = None, value: str | None = None) -> list[str]:
        """The texts of ``quotes(key, limit, dimension, value)`` — what the facts carry — without building the quotes."""
        text = self._ranked.text
        return [text[i] for i in self._quoted(key, limit, dimension, value)]

    def _quoted(self, key: str, limit: int, dimension: str | None, value: str | None) -> list[int]:
        """The positions ``quotes`` reads: theme ``key``'s texts in ranked order (those of writers whose ``dimension``
        is ``value``: ``_RankedTexts.by_value_and_theme``), the first of each case-folded text, up to ``limit``."""
        ranked = self._ranked
        if dimension is None:
            candidates: Sequence[int] = ranked.by_theme.get(key, ())
        else:  # no value: no writer has it
            candidates = () if value is None else ranked.by_value_and_theme(dimension).get((value, key), ())
        seen: set[str] = set()
        out: list[int] = []
        text = ranked.text
        for i in candidates:
            norm = text[i].casefold()
            if norm in seen:
                continue
            seen.add(norm)
            out.append(i)
            if len(out) == limit:
                break
        return out

    @cached_property
    def _ranked(self) -> _RankedTexts:
        """The window's texts once, most typical first (the order ``quotes`` reads them in), as Python lists: the
        counts, totals and quotes of every stage and theme read these instead of filtering and sorting the frame
        per call."""
        return _RankedTexts.of(self.frame)


@dataclass
class _RankedTexts:
    """The texts written in the window, in the frame's order, as columns of Python values; ``by_theme``: each theme's
    positions among them, most typical first — by (strength, day, text_id), stable: the order a stable sort of all the
    window's texts by those columns gives a theme's texts, without sorting the rest. The counts and totals do not
    depend on the order; the quotes read ``by_theme``.

    ``frame`` is the report's whole frame and ``rows`` the positions of the window's texts in it: the columns are read
    as lists and picked, not filtered as a frame."""

    frame: pd.DataFrame
    rows: list[int]
    text: list[str]
    customer_id: list[object]
    day: np.ndarray  # datetime64, one per text: made a Timestamp only for the few texts quoted
    stage: list[object]
    band: list[object]
    themes: list[str | None]
    by_theme: dict[str, list[int]]
    _values: dict[str, list[str | None]] = field(default_factory=dict)
    _theme_counts: dict[str, dict[str | None, dict[str, int]]] = field(default_factory=dict)
    _by_value_and_theme: dict[str, dict[tuple[str, str], list[int]]] = field(default_factory=dict)

    @classmethod
    def of(cls, frame: pd.DataFrame) -> _RankedTexts:
        rows = np.flatnonzero(frame["in_window"].to_numpy(dtype=bool)).tolist()
        themes = _picked(_texts_or_none(frame["theme"]), rows) if "theme" in frame.columns else [None] * len(rows)
        by_theme: dict[str, list[int]] = {}
        for i, theme in enumerate(themes):
            if theme is not None:
                by_theme.setdefault(theme, []).append(i)
        if by_theme and "strength" in frame.columns:
            rank = _rank_keys(frame, rows)
            for members in by_theme.values():
                members.sort(key=rank.__getitem__)  # stable: equal keys keep the frame's order
        text, customer_id, stage, band = (_picked(frame[c].tolist(), rows) for c in ("text", "customer_id", "stage", "band"))
        day = frame["day"].to_numpy()[np.asarray(rows, dtype=np.intp)]
        return cls(frame, rows, text, customer_id, day, stage, band, themes, by_theme)

    def values(self, dimension: str) -> list[str | None]:
        """``dimension``'s value per text as text (None: missing), as ``Series.astype("string")`` gives it."""
        if dimension not in self._values:
            self._values[dimension] = _picked(_texts_or_none(self.frame[dimension]), self.rows)
        return self._values[dimension]

    def theme_counts(self, dimension: str) -> dict[str | None, dict[str, int]]:
        """Per value of ``dimension`` (as ``values`` gives it): texts per theme key, in one pass over the texts."""
        if dimension not in self._theme_counts:
            tally: dict[str | None, dict[str, int]] = {}
            for theme, value in zip(self.themes, self.values(dimension), strict=True):
                if theme is not None:
                    found = tally.setdefault(value, {})
                    found[theme] = found.get(theme, 0) + 1
            self._theme_counts[dimension] = tally
        return self._theme_counts[dimension]

    def by_value_and_theme(self, dimension: str) -> dict[tuple[str, str], list[int]]:
        """Per (value of ``dimension``, theme key): the positions of its texts in ``by_theme``'s order — each theme's
        texts by writers with that value, most typical first (missing values left out)."""
        if dimension not in self._by_value_and_theme:
            values = self.values(dimension)
            found: dict[tuple[str, str], list[int]] = {}
            for theme, members in self.by_theme.items():
                for i in members:
                    value = values[i]
                    if value is not None:
                        found.setdefault((value, theme), []).append(i)
            self._by_value_and_theme[dimension] = found
        return self._by_value_and_theme[dimension]


def _picked(values: list, rows: list[int]) -> list:  # type: ignore[type-arg]
    return [values[i] for i in rows]


def _rank_keys(frame: pd.DataFrame, rows: list[int]) -> list[Any]:
    """A sort key per text at ``rows``: (strength, day, text_id) — text ids compare as ``str``, code point by code
    point, as Arrow's UTF-8 byte order does — so a stable sort by it is a stable ``sort_values`` on those columns. With
    a missing value in a key (never in a report's frame) the key is the text's rank in that sort, done by pandas."""
    picked = np.asarray(rows, dtype=np.intp)
    strength = frame["strength"].to_numpy()[picked]
    day = frame["day"].to_numpy()[picked]
    text_id = frame["text_id"].to_numpy(dtype=object)[picked]
    # the picked values only are checked for a missing one (an integer column has none)
    if (strength.dtype.kind not in "iu" or day.dtype.kind != "M" or np.isnat(day).any()
            or pd.isna(text_id).any()):
        order = frame.iloc[rows].assign(_row=range(len(rows))).sort_values(["strength", "day", "text_id"])["_row"].tolist()
        rank: list[Any] = [0] * len(rows)
        for position, row in enumerate(order):
            rank[int(row)] = position
        return rank
    # days as ticks of one unit: the order of the days
    return list(zip(strength.tolist(), day.view("int64").tolist(), text_id.tolist(), strict=True))


def _texts_or_none(column: pd.Series) -> list[str | None]:
    """The column's values as text (``astype("string")``), None where missing."""
    return column.astype("string").to_numpy(dtype=object, na_value=None).tolist()


def _opt(value: object) -> str | None:
    return None if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)) else str(value)


_SPACE = re.compile(r"\s+")


def _folded(text: str) -> str:
    """``text`` on one line: control and invisible format characters (bidi overrides among them) dropped, whitespace
    folded, at most ``MAX_QUOTE_CHARS`` characters."""
    if text.isascii() and text.isprintable():  # nothing to drop (ASCII has no Cf; its Cc are not printable)
        visible = text
    else:
        visible = "".join(" " if ch in "\t\n\r" else ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf")
                          or ch in "\t\n\r")
    folded = _SPACE.sub(" ", visible).strip()
    return folded if len(folded) <= MAX_QUOTE_CHARS else folded[: MAX_QUOTE_CHARS - 1] + "…"


def _band(source: VoiceSource, rows: pd.DataFrame) -> pd.Series:
    if source is VoiceSource.NPS:
        score = rows["score"].astype("Float64")
        names = np.full(len(rows), None, dtype=object)
        for name, low, high in NPS_BANDS:
            names[((score >= low) & (score <= high)).fillna(False).to_numpy(dtype=bool)] = name
        return pd.Series(pd.array(names, dtype="string"), index=rows.index)
    return rows["priority"].astype("string").str.lower()


def _texts(dataset: Dataset, source: VoiceSource, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """The texts written in ``[start, end)`` by the scope's customers, folded, in (day, text id) order: the whole base's,
    folded once per data, as_of and period (``lifecycle.memo``), and a filtered scope keeps its customers' rows (those
    ``Dataset.table`` keeps) — a text is folded the same whoever else is in scope, and the order is a stable sort."""
    if dataset.identity is None:
        return _texts_of(dataset, source, start, end)
    from lifecycle.filters import Filters
    from lifecycle.membership import is_member
    from lifecycle.memo import remember
    from lifecycle.metrics.event_aggregates import population
    from lifecycle.scope import Scope

    whole = dataset if dataset.filters.is_empty() else dataset.rescoped(Scope(dataset.as_of, dataset.window, Filters()))
    key = ("voice-texts", source.value, dataset.identity, dataset.as_of, start, end)
    frame = remember(key, lambda: _texts_of(whole, source, start, end))
    ids = population(dataset)
    if ids is None:
        return frame
    return frame[is_member(frame["customer_id"], ids)].reset_index(drop=True)


def _texts_of(dataset: Dataset, source: VoiceSource, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    extra = ("score",) if source is VoiceSource.NPS else ("priority",)
    columns = (source.id_column, "customer_id", source.time_column, source.text_column, *extra)
    rows = dataset.table(source.table, columns=columns)
    when = rows[source.time_column]
    text = rows[source.text_column].astype("string").fillna("").str.strip()
    rows = rows[(when >= start) & (when < end) & (text != "")]
    out = pd.DataFrame({
        "text_id": rows[source.id_column].astype("string"), "customer_id": rows["customer_id"].astype("string"),
        "day": rows[source.time_column].dt.normalize(),
        "text": rows[source.text_column].astype("string").map(_folded).astype("string"),
        "band": _band(source, rows),
    })
    return out.sort_values(["day", "text_id"], kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class _WriterGroups:
    """``_writer_groups`` ready for look-ups: ``at(ids)`` is ``frame.reindex(ids)[column].to_numpy()`` of both columns
    — each column's object array picked by one ``get_indexer``, a missing writer given the value ``reindex`` fills
    (the column's NA: ``pd.NA`` for ``string``, NaN for ``str`` and object) — without building the reindexed frame."""

    frame: pd.DataFrame
    columns: tuple[tuple[np.ndarray, object], ...] | None  # None: a column of another dtype — reindex the frame

    @classmethod
    def of(cls, groups: pd.DataFrame) -> _WriterGroups:
        columns = []
        for name in ("stage", "segment"):
            dtype = groups[name].dtype
            if isinstance(dtype, pd.StringDtype):
                columns.append((groups[name].to_numpy(), dtype.na_value))
            elif dtype == np.dtype(object):
                columns.append((groups[name].to_numpy(), np.nan))
            else:
                return cls(groups, None)
        return cls(groups, tuple(columns))

    def at(self, customer_ids: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """Stage and segment of each of ``customer_ids`` (the column's NA where the id is not a customer in scope)."""
        if self.columns is None:
            found = self.frame.reindex(customer_ids)
            return found["stage"].to_numpy(), found["segment"].to_numpy()
        at = self.frame.index.get_indexer(customer_ids)
        missing = at < 0
        picked = []
        for values, na in self.columns:
            column = values.take(at) if len(values) else np.empty(len(at), dtype=object)
            if missing.any():
                column[missing] = na
            picked.append(column)
        return picked[0], picked[1]


def _writer_groups_of(dataset: Dataset) -> _WriterGroups:
    """``_writer_groups``, once per scope (memoised with the data's identity): both sources' reports read it."""
    from lifecycle.memo import remember

    key = dataset.memo_key("voice-writer-groups")
    if key is None:
        return _WriterGroups.of(_writer_groups(dataset))
    return remember(key, lambda: _WriterGroups.of(_writer_groups(dataset)))


def _writer_groups(dataset: Dataset) -> pd.DataFrame:
    """Stage on as_of (``churned`` when churned) and segment of every customer in scope, indexed by customer_id."""
    from lifecycle.stages.history import stages_at

    stages = stages_at(dataset, dataset.stage_model, dataset.as_of)
    stage = stages["stage"].astype("string").where(~stages["churned"], "churned")
    customers = dataset.customers()
    segment = pd.Series(customers["segment"].astype("string").to_numpy(), index=customers["customer_id"].astype("string"))
    return pd.DataFrame({"stage": stage, "segment": segment.reindex(stage.index)})


def customer_voice(dataset: Dataset, source: VoiceSource | str, *, max_themes: int = MAX_THEMES,
                   min_texts: int = MIN_TEXTS) -> VoiceReport:
    """The themes of ``source``'s texts for ``dataset``'s scope (see the module docstring).

    With no texts in the window the report has no themes and a ``reason``; texts of customers outside the scope's
    filters are not read (``Dataset.table`` applies them).
    """
    source = VoiceSource(source)
    window = dataset.window
    previous = window.previous()
    if not dataset.has(source.table):
        return _empty(source, window, previous, f"no {source.table} table in the dataset")
    start, end = pd.Timestamp(previous.start), pd.Timestamp(window.end) + pd.Timedelta(days=1)
    texts = _texts(dataset, source, start, end)
    window_mask = texts["day"].to_numpy() >= np.datetime64(window.start)  # a missing day (NaT) is not in it
    stage, segment = _writer_groups_of(dataset).at(texts["customer_id"])  # both columns by one look-up of the writers
    # the report's columns built as one frame at the end (each column set on a frame costs ~0.2 ms; five per report)
    columns = {**{name: texts[name] for name in texts.columns}, "in_window": window_mask, "stage": stage, "segment": segment}
    if not window_mask.any():
        return _empty(source, window, previous, f"no {source.noun} with text in the period",
                      pd.DataFrame(columns, index=texts.index))
    fit = find_themes(texts["text"].tolist(), max_themes=max_themes, min_texts=min_texts)
    strength = np.full(len(texts), len(texts), dtype="int64")  # a text without a theme ranks after every other
    for theme in fit.themes:
        strength[list(theme.texts)] = np.arange(len(theme.texts))
    frame = pd.DataFrame({**columns, "theme": pd.array([None if t is None else fit.themes[t].key for t in fit.assignment],
                                                       dtype="string"), "strength": strength}, index=texts.index)
    in_window = window_mask.tolist()
    writers = frame["customer_id"].tolist()
    has_previous = not all(in_window)
    summaries = []
    for theme in fit.themes:  # theme.texts: the positions of its texts in frame
        current = [i for i in theme.texts if in_window[i]]
        customers = {writers[i] for i in current if isinstance(writers[i], str)}
        summaries.append(ThemeSummary(theme.key, theme.label, theme.terms, len(current), len(customers),
                                      len(theme.texts) - len(current) if has_previous else None))
    summaries.sort(key=lambda s: (-s.count, s.label))
    reason = None if summaries else (f"no theme recurs in at least {min_texts} of the {len(frame)} {source.noun}")
    return VoiceReport(source, window, previous, frame, tuple(summaries), reason)


def _empty(source: VoiceSource, window: Window, previous: Window, reason: str,
           frame: pd.DataFrame | None = None) -> VoiceReport:
    columns = ("text_id", "customer_id", "day", "text", "in_window", "theme", "strength", "stage", "segment", "band")
    if frame is None:
        frame = pd.DataFrame({c: pd.Series([], dtype="object") for c in columns})
        frame["in_window"] = frame["in_window"].astype(bool)
    else:
        frame = frame.assign(theme=pd.array([None] * len(frame), dtype="string"), strength=0)
    return VoiceReport(source, window, previous, frame, (), reason)
