"""The health table of a scope, shared by ``score_health``, ``list_at_risk`` and the ``customer://`` resource.

``lifecycle.health.live_health`` (live customers scored against 30 days earlier), memoised per data source
identity, configuration and scope, with progress reported to the client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lifecycle.scope import Scope
from tools.runtime import Work
from tools.scope import memo

if TYPE_CHECKING:
    from lifecycle.health import LiveHealth


def scope_health(work: Work, scope: Scope) -> LiveHealth:
    """Health of the scope's live customers (memoised)."""
    from lifecycle.health import live_health  # the engine loads with the first call, not with the server

    def compute() -> LiveHealth:
        return live_health(work.dataset(scope.as_of, scope.filters, scope.window), work.step)

    return memo(work, "health", scope.key(), compute)
