"""The health table of a scope, shared by ``score_health``, ``list_at_risk`` and the ``customer://`` resource.

``lifecycle.health.live_health`` (live customers scored against 30 days earlier), memoised per data source
identity, configuration and scope, with progress reported to the client. The whole base is scored once per as_of;
a filtered scope takes its customers' rows of that table (``live_health(..., whole=...)``: a mask, the same numbers),
so a new filter costs a selection, not a scoring of the scope.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lifecycle.filters import Filters
from lifecycle.scope import Scope
from tools.runtime import Work
from tools.scope import memo

if TYPE_CHECKING:
    from lifecycle.health import LiveHealth


def scope_health(work: Work, scope: Scope) -> LiveHealth:
    """Health of the scope's live customers (memoised; a filtered scope derived from the whole base's)."""
    from lifecycle.health import live_health  # the engine loads with the first call, not with the server

    if not scope.filters.is_empty():  # a mask over the memoised whole base: cheap, so not memoised itself (the memo
        whole = scope_health(work, Scope(scope.as_of, scope.window, Filters()))  # would fill with one table per filter)
        return live_health(work.dataset(scope.as_of, scope.filters, scope.window), work.step, whole=whole)

    def compute() -> LiveHealth:
        return live_health(work.dataset(scope.as_of, scope.filters, scope.window), work.step)

    return memo(work, "health", scope.key(), compute)
