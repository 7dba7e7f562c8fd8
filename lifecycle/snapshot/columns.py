"""Names of snapshot columns that are derived from the data (cheap to import: no pandas, no SQL)."""

from __future__ import annotations

import re


def feature_column(event_name: str) -> str:
    """The snapshot column flagging use of core feature ``event_name``: ``used_<name>`` (non-word chars → ``_``)."""
    return "used_" + re.sub(r"\W", "_", event_name)
