"""Primary keys of imported rows: derived keys for key-less exports, and duplicate keys within one file.

Derived key (every table but ``customers``, whose key is the customer id every other table refers to — when the
export has no key column):

    key = first 24 hex digits of sha256( v1 \\x1f v2 \\x1f … \\x1f vk )  (UTF-8)

where v1…vk are the row's stored values other than the key — the canonical columns in schema order, then the
extra ``x_`` columns ordered by name — as their stored text (dates ``YYYY-MM-DD``, instants
``YYYY-MM-DDTHH:MM:SS`` UTC, numbers in shortest round-trip form, missing as ``""``). The same event exported as
CSV or JSON therefore gets the same key, re-importing a file updates rows instead of duplicating them, and two
events that differ only in a property stay two rows. Rows identical in every stored value get the same key and
are collapsed (they cannot be told apart). Re-importing a key-less export with a different set of extra columns
gives new keys, so keep the same columns (or add an id column).

Tables whose identical rows are separate records (``repeats_are_distinct``: orders, invoices, subscriptions — two
identical purchases on one day are two purchases, as the published CDNOW summaries count them) number the repeats:
the second copy's key is the first 24 hex digits of sha256(``<plain key> \x1f #2``), the third's of ``… \x1f #3``;
the first copy keeps the plain key, so re-importing the file gives every row its old key.

Duplicate keys within one file: rows whose stored content is identical are collapsed into one (counted in the
report); rows sharing a key with different content are an error naming both lines."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

KEY_HEX_DIGITS = 24
SEPARATOR = "\x1f"


def derived_keys(canonical_texts: list[pd.Series]) -> pd.Series:
    """The derived key of every row from its canonical texts (see the module docstring)."""
    arrays = [_arrow_text(t) for t in canonical_texts]
    joined = pc.binary_join_element_wise(*arrays, pa.scalar(SEPARATOR, pa.large_string())).cast(pa.large_binary())
    sha256 = hashlib.sha256
    digests = [sha256(row).hexdigest()[:KEY_HEX_DIGITS] for row in joined.to_pylist()]
    return pd.Series(digests, dtype="str")


def number_repeats(keys: pd.Series) -> pd.Series:
    """Keys of repeated identical rows made distinct: the n-th copy (n >= 2) gets sha256(plain key \x1f #n), first 24
    hex digits (module docstring)."""
    occurrence = keys.groupby(keys.to_numpy(dtype=object), sort=False).cumcount().to_numpy()
    repeats = np.flatnonzero(occurrence > 0)
    if not len(repeats):
        return keys
    out = keys.to_numpy(dtype=object).copy()
    for position in repeats:
        tagged = f"{out[position]}{SEPARATOR}#{occurrence[position] + 1}".encode()
        out[position] = hashlib.sha256(tagged).hexdigest()[:KEY_HEX_DIGITS]
    return pd.Series(out, dtype="str")


def row_signatures(texts: list[pd.Series]) -> pd.Series:
    """A text per row that is equal exactly when all the given columns are equal (used to detect identical rows)."""
    arrays = [_arrow_text(t) for t in texts]
    return pd.Series(pc.binary_join_element_wise(*arrays, pa.scalar(SEPARATOR, pa.large_string())).to_pandas(), dtype="str")


def _arrow_text(text: pd.Series) -> pa.Array:
    """The column as an Arrow large_string array with missing values as ``""`` (zero-copy for Arrow-backed text)."""
    return pc.fill_null(pa.array(text, type=pa.large_string(), from_pandas=True), "")


def duplicates(keys: pd.Series, signatures: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Classify rows sharing a key: returns (collapsed, conflicting, first_position).

    ``collapsed`` marks later copies identical to an earlier row with the same key (dropped silently);
    ``conflicting`` marks every row of a key that appears with different content; ``first_position[i]`` is the
    position of the first row with row i's key (to name both lines in the message).
    """
    n = len(keys)
    collapsed = np.zeros(n, dtype=bool)
    conflicting = np.zeros(n, dtype=bool)
    first = np.arange(n)
    shared = keys.duplicated(keep=False).to_numpy(dtype=bool)
    if not shared.any():
        return collapsed, conflicting, first
    frame = pd.DataFrame({"key": keys.to_numpy(dtype=object), "sig": signatures.to_numpy(dtype=object), "pos": np.arange(n)})[shared]
    same_row = frame.duplicated(["key", "sig"], keep="first").to_numpy(dtype=bool)
    collapsed[frame["pos"].to_numpy()[same_row]] = True
    variants = frame.groupby("key")["sig"].transform("nunique").to_numpy() > 1
    conflicting[frame["pos"].to_numpy()[variants]] = True
    firsts = frame.groupby("key")["pos"].transform("min").to_numpy()
    first[frame["pos"].to_numpy()] = firsts
    return collapsed, conflicting & ~collapsed, first
