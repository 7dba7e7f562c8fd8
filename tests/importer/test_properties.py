"""Properties: the fast CSV reader returns exactly what Python's csv module reads; amounts round-trip in any style."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lifecycle.importing.parsing import parse_money
from lifecycle.importing.readers import read_table

FIELD = st.text(alphabet=st.sampled_from(list('ab ,;"\n\r\té€0')), max_size=8)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(FIELD, min_size=3, max_size=3), min_size=1, max_size=6))
def test_csv_reader_agrees_with_the_csv_module(tmp_path: Path, rows: list[list[str]]) -> None:
    """Any rows written by csv.writer come back field for field (rows of only empty fields are skipped)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(["a", "b", "c"])
    writer.writerows(rows)
    path = tmp_path / "p.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    expected = [r for r in csv.reader(io.StringIO(buffer.getvalue(), newline=""))][1:]
    expected = [r for r in expected if any(f != "" for f in r)]
    if not expected:
        return
    table = read_table(path)
    got = [list(t) for t in zip(*(table.columns[h].tolist() for h in ["a", "b", "c"]))]
    assert got == expected


@settings(max_examples=100, deadline=None)
@given(cents=st.integers(min_value=-10**11, max_value=10**11), style=st.sampled_from(["us", "eu", "plain", "space"]))
def test_amounts_round_trip_in_every_grouping_style(cents: int, style: str) -> None:
    """Format an amount with two decimals in a style, parse it: the same number (to the cent)."""
    whole, frac = divmod(abs(cents), 100)
    grouped = f"{whole:,}"
    text = {"us": f"{grouped}.{frac:02d}", "eu": f"{grouped.replace(',', '.')},{frac:02d}",
            "plain": f"{whole}.{frac:02d}", "space": f"{grouped.replace(',', ' ')},{frac:02d}"}[style]
    if cents < 0:
        text = "-" + text
    value = parse_money(pd.Series([text], dtype="str")).values.iloc[0]
    assert round(value * 100) == cents
