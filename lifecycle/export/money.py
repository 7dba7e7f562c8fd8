"""The currency a dataset's money is in: the one its imports recorded, else the configured label."""

from __future__ import annotations

from typing import Any

from lifecycle.store import CURRENCY_KEY


def currency_of(dataset: Any) -> str:
    """The ISO 4217 code of ``dataset``'s money: the dataset currency the imports recorded in ``_meta`` (see
    docs/importing.md#currencies), else the configuration's ``revenue.currency`` (default USD)."""
    connection = dataset.connection
    if connection.has_table("_meta"):
        rows = connection.rows("SELECT value FROM _meta WHERE key = ?", (CURRENCY_KEY,))
        if rows and rows[0][0]:
            return str(rows[0][0])
    return dataset.config.revenue.currency
