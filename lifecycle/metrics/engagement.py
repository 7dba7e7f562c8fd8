"""Communication and engagement metrics over touches: open rate, click rate, click-to-open rate, engagement by key.

Counting rule: a touch is *sent* in the window by ``sent_at``; it is *opened* when ``opened_at`` or
``clicked_at`` is set by ``as_of`` (a click proves an open even when image blocking hid the open pixel);
it is *clicked* when ``clicked_at`` is set by ``as_of``. The headline values cover the ``email`` channel
(the metric names say email); ``breakdown`` gives every channel present, sorted by name.
Sources: seed 000 (communication adaptation by stage), seed 002 (health score: engagement 20–25 %, email
opens), email-marketing standard definitions (open rate = opens ÷ sends; CTOR = clicks ÷ opens).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from lifecycle.dataset import Dataset, next_day_iso
from lifecycle.filters import Filters
from lifecycle.membership import is_member
from lifecycle.memo import remember
from lifecycle.metrics.ahead import whole_base_ahead
from lifecycle.metrics.common import per_scope, small_sample_note, target, with_notes
from lifecycle.metrics.event_aggregates import aggregate, in_scope, population, typed
from lifecycle.metrics.registry import MetricDefinition, MetricGroup
from lifecycle.metrics.results import MetricResult, TargetBand, Unit, ratio_result
from lifecycle.scope import Scope

HEADLINE_CHANNEL = "email"


@dataclass(frozen=True)
class EngagementRow:
    """Engagement of one group of customers (e.g. one lifecycle stage) over touches sent in the window."""

    key: str
    name: str
    customers: int  # customers carrying this key value
    sends: int
    opens: int
    clicks: int

    @property
    def open_rate(self) -> float | None:
        """opens ÷ sends (None without sends)."""
        return self.opens / self.sends if self.sends else None

    @property
    def click_rate(self) -> float | None:
        """clicks ÷ sends (None without sends)."""
        return self.clicks / self.sends if self.sends else None

    @property
    def click_to_open_rate(self) -> float | None:
        """clicks ÷ opens (None without opens)."""
        return self.clicks / self.opens if self.opens else None

    def to_dict(self) -> dict[str, object]:
        return {"key": self.key, "name": self.name, "customers": self.customers, "sends": self.sends, "opens": self.opens,
                "clicks": self.clicks, "open_rate": self.open_rate, "click_rate": self.click_rate,
                "click_to_open_rate": self.click_to_open_rate}


def touch_summary(dataset: Dataset) -> pd.DataFrame:
    """Per (customer, channel) in scope, touches sent in the window: ``sends``, ``opens`` and ``clicks`` (counting rule in
    the module doc), counted in the database — one ``GROUP BY`` compiled by the expression layer for the connection's
    engine, memoised per data identity, as_of and window for every customer and narrowed to the scope's customers
    (``event_aggregates.in_scope``), so no touch row is read into memory. A time is *set by as_of* when its ISO text is
    non-empty and sorts before the day after as_of — what ``Dataset.table`` keeps unmasked."""
    if not dataset.has("touches"):
        return typed(pd.DataFrame({"customer_id": [], "channel": [], "sends": [], "opens": [], "clicks": []}),
                     counts=("sends", "opens", "clicks"))
    cutoff = next_day_iso(dataset.as_of)
    end = min(cutoff, next_day_iso(dataset.window.end))

    def set_by_as_of(column: str) -> str:
        return f"(t.{column} IS NOT NULL AND t.{column} <> '' AND t.{column} < ?)"

    clicked = set_by_as_of("clicked_at")
    sql = ("SELECT t.customer_id AS customer_id, t.channel AS channel, COUNT(*) AS sends, "
           f"SUM(CASE WHEN {set_by_as_of('opened_at')} OR {clicked} THEN 1 ELSE 0 END) AS opens, "
           f"SUM(CASE WHEN {clicked} THEN 1 ELSE 0 END) AS clicks "
           "FROM touches t WHERE t.sent_at >= ? AND t.sent_at < ? GROUP BY t.customer_id, t.channel")
    params = (cutoff, cutoff, cutoff, dataset.window.start.isoformat(), end)  # opened, clicked, clicked; the window
    frame = aggregate(dataset, sql, params, counts=("sends", "opens", "clicks"), persist=True, table="touches")
    return in_scope(dataset, frame)


def touch_summary_ahead(dataset: Dataset) -> Callable[[], None]:
    """Start the whole base's ``touch_summary`` on a second connection, in a thread, and return the function that
    waits for it.

    Its statement (a ``GROUP BY`` over every touch sent in the window: ~1 s of CPU at 100k customers, 1.2M touches)
    runs in SQLite without the interpreter lock, so the caller's own work meanwhile runs on the other core —
    ``lifecycle metrics`` reads the tables the checkpoints need before it forks, with one core idle. The summary is
    filed in the process memo under the key every scope of this data asks for (``aggregate``: data identity, statement
    and parameters; a filtered scope narrows the whole base's rows), so the email metrics read what it built — the same
    frame, computed once. A failure here is left for the metrics' own computation to meet and report
    (``whole_base_ahead``: only on SQLite sources opened through ``Dataset.over``; elsewhere nothing starts)."""
    return whole_base_ahead(dataset, touch_summary, "lifecycle-touches-ahead")


def _channel_totals(summary: pd.DataFrame) -> pd.DataFrame:
    """Sends, opens and clicks per channel (lower-cased; touches without a channel left out), by channel name."""
    channels = summary["channel"].astype("string").str.lower()
    return summary.assign(channel=channels).dropna(subset=["channel"]).groupby("channel", sort=True)[
        ["sends", "opens", "clicks"]].sum()


TOUCH_COUNTS = ("sends", "opens", "clicks")


def _scope_channel_totals(dataset: Dataset) -> pd.DataFrame:
    """``_channel_totals`` of the scope's touch summary; for a filtered scope summed from the whole base's (customer,
    channel) rows, their channels lower-cased and coded once per data, as_of and window (``lifecycle.memo``), masked to
    the scope's customers — the same sums, per channel in name order, without re-reading a frame per filter."""
    ids = population(dataset) if dataset.identity is not None else None
    if ids is None:
        return _channel_totals(touch_summary(dataset))
    coded = remember(("coded-touch-summary", dataset.identity, dataset.as_of, dataset.window),
                     lambda: _coded_touches(dataset.rescoped(Scope(dataset.as_of, dataset.window, Filters()))))
    keep = is_member(coded.customer_ids, ids) & (coded.codes >= 0)
    codes = coded.codes[keep]
    present = np.bincount(codes, minlength=len(coded.channels)) > 0
    sums = {name: np.rint(np.bincount(codes, weights=counts[keep], minlength=len(coded.channels))[present]).astype("int64")
            for name, counts in zip(TOUCH_COUNTS, coded.counts, strict=True)}
    return pd.DataFrame(sums, index=coded.channels[present])


@dataclass(frozen=True)
class _CodedTouches:
    customer_ids: pd.Series
    codes: np.ndarray  # per row: the position of its lower-cased channel in ``channels`` (−1: no channel)
    counts: tuple[np.ndarray, ...]  # sends, opens, clicks per row
    channels: pd.Index  # sorted, as ``groupby`` orders them


def _coded_touches(whole: Dataset) -> _CodedTouches:
    summary = touch_summary(whole)
    lowered = summary["channel"].astype("string").str.lower()
    codes, channels = pd.factorize(lowered, sort=True)
    return _CodedTouches(summary["customer_id"], np.asarray(codes, dtype="int64"),
                         tuple(summary[c].to_numpy(dtype="float64") for c in TOUCH_COUNTS),
                         pd.Index(channels, dtype=lowered.dtype, name="channel"))


CHANNEL_RATES = ("email_open_rate", "email_click_rate", "click_to_open_rate")
"""The rates read off a scope's (sends, opens, clicks) per channel (``seed_channel_counts`` fills them for groups)."""


def seed_channel_counts(datasets: Sequence[Dataset]) -> None:
    """Each of ``datasets``' (sends, opens, clicks) per channel — what ``_counts_by_channel`` gives it — from one pass
    over the whole base's coded (customer, channel) rows (``lifecycle.metrics.grouped``: disjoint filtered scopes of
    one as_of and window, compare_segments' groups): each row labelled with the scope whose population holds its
    customer (``grouped.groups_codes``), counts summed per (scope, channel) by one ``bincount``; a scope keeps the
    channels it has rows of, in name order. The same sums, from the same rows, as the scope's own path; overlapping
    scopes keep their own path."""
    from lifecycle.metrics.grouped import groups_codes

    if not datasets or not datasets[0].has("touches") or datasets[0].identity is None:
        return
    first = datasets[0]
    coded = remember(("coded-touch-summary", first.identity, first.as_of, first.window),
                     lambda: _coded_touches(first.rescoped(Scope(first.as_of, first.window, Filters()))))
    groups = groups_codes(datasets, coded.customer_ids)  # the groups' coder when they were joined (grouped.join)
    if groups is None:
        return
    width, size = len(coded.channels), len(datasets) * len(coded.channels)
    keep = (groups >= 0) & (coded.codes >= 0)
    flat = groups[keep] * width + coded.codes[keep]
    rows = np.bincount(flat, minlength=size).reshape(len(datasets), width)
    sums = [np.rint(np.bincount(flat, weights=counts[keep], minlength=size)).astype("int64").reshape(len(datasets), width)
            for counts in coded.counts]
    for position, dataset in enumerate(datasets):
        present = np.flatnonzero(rows[position] > 0)
        totals = {str(coded.channels[j]): (int(sums[0][position, j]), int(sums[1][position, j]), int(sums[2][position, j]))
                  for j in present}
        per_scope(dataset, "touch_channel_counts", lambda: totals)  # noqa: B023  # called at once


def _counts_by_channel(dataset: Dataset) -> dict[str, tuple[int, int, int]]:
    """The scope's (sends, opens, clicks) per channel (``_scope_channel_totals``), in channel name order, as ints."""
    totals = _scope_channel_totals(dataset)
    rows = zip(*(totals[c].tolist() for c in TOUCH_COUNTS), strict=True)
    return {str(key): (int(sends), int(opens), int(clicks)) for key, (sends, opens, clicks) in zip(totals.index, rows, strict=True)}


def _rate(dataset: Dataset, metric_id: str, sends: int, opens: int, clicks: int, numerator: str,
          denominator: str | None) -> MetricResult:
    counted = {"sends": sends, "opens": opens, "clicks": clicks}
    base = sends if denominator is None else counted[denominator]
    what = "touches sent" if denominator is None else "opened touches"
    result = ratio_result(metric_id, float(counted[numerator]), float(base), Unit.RATIO, dataset.scope,
                          target(dataset, metric_id), empty_reason=f"no {what} in the period")
    return with_notes(result, small_sample_note(dataset, base, what))


def _by_channel(dataset: Dataset, metric_id: str, numerator: str, denominator: str | None) -> MetricResult:
    totals = per_scope(dataset, "touch_channel_counts", lambda: _counts_by_channel(dataset))

    def rate(channel: str) -> MetricResult:
        return _rate(dataset, metric_id, *totals.get(channel, (0, 0, 0)), numerator, denominator)

    headline = rate(HEADLINE_CHANNEL)
    breakdown = tuple((key, rate(key)) for key in totals)
    if headline.value is None and breakdown:
        headline = with_notes(headline, "the headline covers email; see the breakdown for other channels")
    return replace(headline, breakdown=breakdown)


def email_open_rate(dataset: Dataset) -> MetricResult:
    """Email open rate: email touches sent in the window opened by as_of ÷ email touches sent in the window.

    Opened = ``opened_at`` or ``clicked_at`` set by as_of. ``breakdown``: the same rate per channel.
    Unit: ratio. Edge cases: no email touches in the period → None. Source: email-marketing open rate;
    seed 002 (engagement signals: email opens).
    """
    return _by_channel(dataset, "email_open_rate", "opens", None)


def email_click_rate(dataset: Dataset) -> MetricResult:
    """Email click rate: email touches sent in the window clicked by as_of ÷ email touches sent in the window.

    ``breakdown``: the same rate per channel. Unit: ratio. Edge cases: no email touches → None. Source:
    email-marketing click-through rate.
    """
    return _by_channel(dataset, "email_click_rate", "clicks", None)


def click_to_open_rate(dataset: Dataset) -> MetricResult:
    """Click-to-open rate: clicked ÷ opened, over email touches sent in the window.

    ``breakdown``: the same rate per channel. Unit: ratio. Edge cases: no opened email touches → None.
    Source: email-marketing CTOR.
    """
    return _by_channel(dataset, "click_to_open_rate", "clicks", "opens")


def engagement_by(dataset: Dataset, key: pd.Series, name: str) -> list[EngagementRow]:
    """Sends, opens and clicks of touches sent in the window (all channels), grouped by ``key`` (a value per customer id).

    ``key`` is indexed by customer id — e.g. each customer's lifecycle stage. Customers absent from ``key``
    or with a missing value are left out; a key value with customers but no touches gets a row with zero
    sends (its rates None). Rows are sorted by key value. Counting rule as in the module doc.
    """
    labels = key.dropna().astype(str)
    labels.index = labels.index.astype(str)
    labels = labels[~labels.index.duplicated(keep="last")]
    summary = touch_summary(dataset)
    # each key value coded by its rank among the sorted values; a summary row's code is its customer's (by one look-up
    # of the customer ids), rows of customers without a value left out; counts summed per code as integers
    values, codes = np.unique(labels.to_numpy(dtype=object), return_inverse=True)
    at = labels.index.get_indexer(summary["customer_id"].astype(str))
    kept = at >= 0
    group = codes[at[kept]]
    sums = {c: np.zeros(len(values), dtype=np.int64) for c in TOUCH_COUNTS}
    for column, total in sums.items():  # a missing count adds nothing (as the groupby's sum skips it)
        np.add.at(total, group, summary[column].to_numpy(dtype="int64", na_value=0)[kept])
    customers = np.bincount(codes, minlength=len(values))
    return [EngagementRow(key=str(value), name=name, customers=int(customers[i]), sends=int(sums["sends"][i]),
                          opens=int(sums["opens"][i]), clicks=int(sums["clicks"][i]))
            for i, value in enumerate(values)]


def _definition(metric_id: str, name: str, formula: str, numerator: str, denominator: str, compute, sections: tuple[str, ...] = (),
                target: TargetBand | None = None) -> MetricDefinition:
    return MetricDefinition(id=metric_id, name=name, group=MetricGroup.ENGAGEMENT, formula=formula, unit=Unit.RATIO,
                            numerator=numerator, denominator=denominator, required_tables=("touches",),
                            source="email-marketing standard definitions; seed 002 (engagement signals)", compute=compute,
                            target=target, sections=sections, description=(compute.__doc__ or "").strip().splitlines()[0])


DEFINITIONS: tuple[MetricDefinition, ...] = (
    _definition("email_open_rate", "Email open rate", "email touches sent in the period opened (or clicked) by as_of ÷ email touches sent",
                "opened email touches", "email touches sent in the period", email_open_rate, sections=("awareness",)),
    _definition("email_click_rate", "Email click rate", "email touches sent in the period clicked by as_of ÷ email touches sent",
                "clicked email touches", "email touches sent in the period", email_click_rate, sections=("awareness",)),
    _definition("click_to_open_rate", "Click-to-open rate", "clicked ÷ opened, email touches sent in the period",
                "clicked email touches", "opened email touches", click_to_open_rate),
)
