"""Work on the whole base started ahead, in a thread on a second connection, while the caller does its own.

``lifecycle metrics`` overlaps its halves on two cores: SQLite runs a statement without holding the interpreter lock,
so a thread that fills the process memo (``lifecycle.memo``: one computation per key, concurrent callers wait) under
the keys the metrics ask for lets the caller read what it built — the same values, computed once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from lifecycle.dataset import Dataset
from lifecycle.filters import Filters
from lifecycle.scope import Scope


def whole_base_ahead(dataset: Dataset, work: Callable[[Dataset], object], name: str) -> Callable[[], None]:
    """Start ``work`` on the whole base of ``dataset`` (its as_of and window, no filters, its configuration) opened
    anew by ``Dataset.over`` in a daemon thread named ``name``, and return the function that waits for it.

    The work runs only while the data is the one ``dataset`` opened (same identity); a failure to open or in ``work``
    is swallowed — the caller's own computation meets and reports it. Only on SQLite sources opened through
    ``Dataset.over`` (a memo key, a connection per thread); elsewhere nothing starts and the waiter returns at once."""
    source, identity = dataset.source, dataset.identity
    if source is None or identity is None or dataset.connection.dialect != "sqlite":
        return lambda: None
    whole, config = Scope(dataset.as_of, dataset.window, Filters()), dataset.config

    def build() -> None:
        try:
            ahead = Dataset.over(source, whole, config)
        except Exception:  # noqa: BLE001 - the caller computes it itself and reports what fails
            return
        try:
            if ahead.identity == identity:  # the data was not replaced meanwhile
                work(ahead)
        except Exception:  # noqa: BLE001 - as above
            pass
        finally:
            ahead.close()

    thread = threading.Thread(target=build, name=name, daemon=True)
    thread.start()
    return thread.join
