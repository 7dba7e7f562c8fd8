"""The text parsers, one behaviour per test; expected values are worked out by hand in each docstring."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from lifecycle.importing.dates import epoch_to_datetime, excel_serial_to_datetime, parse_date, parse_datetime
from lifecycle.importing.derive import derive
from lifecycle.importing.mapping import Derivation, snake_case
from lifecycle.importing.parsing import (
    AmbiguousColumn,
    decimal_separator,
    infer_kind,
    parse_boolean,
    parse_category,
    parse_integer,
    parse_money,
    parse_number,
)
from lifecycle.schema import ColumnKind


def texts(*values: str) -> pd.Series:
    return pd.Series(list(values), dtype="str")


def floats(parsed) -> list:
    return [None if pd.isna(v) else float(v) for v in parsed.values]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (("$1,234.50", "12"), [1234.5, 12.0]),
        (("1.234,50", "7"), [1234.5, 7.0]),
        (("€ 12", "3,5"), [12.0, 3.5]),
        (("(12.00)", "4.10"), [-12.0, 4.1]),
        (("1 234,50", "0,5"), [1234.5, 0.5]),
        (("1\u00a0234,50", "1"), [1234.5, 1.0]),
        (("1'234.50", "2.25"), [1234.5, 2.25]),
        (("USD 99", "99 EUR", "-$3.50", "$-4"), [99.0, 99.0, -3.5, -4.0]),
        (("", "5"), [None, 5.0]),
    ],
    ids=["us-grouping", "eu-grouping", "euro-sign", "accounting-negative", "space-grouping", "nbsp-grouping", "swiss",
         "codes-and-signs", "empty-is-missing"],
)
def test_money_formats(values: tuple[str, ...], expected: list) -> None:
    assert floats(parse_money(texts(*values))) == expected


def test_money_with_misplaced_grouping_is_invalid() -> None:
    """'12,34.5' has a comma that cannot group thousands once '.' is the decimal separator."""
    parsed = parse_money(texts("12,34.5", "1.5"))
    assert parsed.invalid.tolist() == [True, False]
    assert "not an amount" in parsed.reason(0)


def test_decimal_separator_refuses_a_column_of_only_ambiguous_values() -> None:
    """'1,234' and '2,000' both have one comma followed by exactly three digits: 1234 or 1.234? No proof."""
    separator, position, why = decimal_separator(texts("1,234", "2,000"))
    assert (separator, position) == (None, 0)
    assert "--decimal" in why


def test_decimal_separator_is_proven_by_one_value_in_the_column() -> None:
    """'12,5' can only be a decimal comma, so '1.234' in the same column groups thousands: 1234."""
    assert decimal_separator(texts("1.234", "12,5"))[0] == ","
    assert floats(parse_money(texts("1.234", "12,5"))) == [1234.0, 12.5]


def test_decimal_separator_refuses_a_column_mixing_conventions() -> None:
    """'1.5' proves '.', '2,5' proves ',': the column is refused at the second, later value."""
    with pytest.raises(AmbiguousColumn) as info:
        parse_money(texts("1.5", "2,5"))
    assert info.value.position == 1


def test_explicit_decimal_separator_wins_over_ambiguity() -> None:
    assert floats(parse_money(texts("1,234"), decimal=",")) == [1.234]
    assert floats(parse_money(texts("1,234"), decimal=".")) == [1234.0]


def test_number_accepts_exponents_and_integers() -> None:
    assert floats(parse_number(texts("1e3", "0.5", "-2"))) == [1000.0, 0.5, -2.0]


def test_integer_rejects_fractions_and_accepts_whole_decimals() -> None:
    """'3.0' is the whole number 3; '3.5' is not whole."""
    parsed = parse_integer(texts("3.0", "3.5", "12"))
    assert parsed.values.tolist()[0] == 3 and parsed.values.tolist()[2] == 12
    assert parsed.invalid.tolist() == [False, True, False]


def test_boolean_words() -> None:
    parsed = parse_boolean(texts("Yes", "no", "1", "FALSE", "maybe", ""))
    assert [None if v is pd.NA else int(v) for v in parsed.values] == [1, 0, 1, 0, None, None]
    assert parsed.invalid.tolist() == [False, False, False, False, True, False]


def test_category_matches_case_spaces_and_hyphens() -> None:
    parsed = parse_category(texts("In App", "in-app", "EMAIL", "fax"), ("email", "in_app"))
    assert parsed.values.tolist()[:3] == ["in_app", "in_app", "email"]
    assert parsed.invalid.tolist() == [False, False, False, True]
    assert "allowed: email, in_app" in parsed.reason(3)


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        (("1", "-20", ""), ColumnKind.INTEGER),
        (("007", "12"), ColumnKind.TEXT),
        (("1.5", "2"), ColumnKind.NUMBER),
        (("1.234",), ColumnKind.TEXT),
        (("yes", "No"), ColumnKind.BOOLEAN),
        (("2024-01-31", "2024-02-01"), ColumnKind.DATE),
        (("2024-01-31T10:00:00Z", "2024-01-31 11:00"), ColumnKind.DATETIME),
        (("2024-13-01",), ColumnKind.TEXT),
        (("", ""), ColumnKind.TEXT),
        (("12", "abc"), ColumnKind.TEXT),
    ],
    ids=["integers", "leading-zeros-stay-text", "numbers", "ambiguous-number-stays-text", "booleans", "dates",
         "datetimes", "invalid-date-is-text", "empty", "mixed"],
)
def test_infer_kind_only_when_every_value_parses(values: tuple[str, ...], kind: ColumnKind) -> None:
    assert infer_kind(texts(*values)) == kind


def test_excel_serial_45322_is_2024_01_31() -> None:
    """Day 0 is 1899-12-30; 2024-01-31 minus 1899-12-30 is 45322 days; 0.5 adds noon."""
    assert str(excel_serial_to_datetime(np.array([45322.0]))[0]) == "2024-01-31T00:00:00"
    assert str(excel_serial_to_datetime(np.array([45322.5]))[0]) == "2024-01-31T12:00:00"


def test_epoch_seconds_and_milliseconds() -> None:
    """1706695200 s = 2024-01-01 (1704067200) + 30 days (2592000) + 10 h (36000) = 2024-01-31T10:00:00Z."""
    result = epoch_to_datetime(np.array([1706695200, 1706695200000]))
    assert [str(v) for v in result] == ["2024-01-31T10:00:00", "2024-01-31T10:00:00"]


def test_datetime_with_zone_is_stored_in_utc() -> None:
    """10:00 at +02:00 is 08:00 UTC; 03:00 at -05:00 is 08:00 UTC."""
    parsed = parse_datetime(texts("2024-01-31T10:00:00+02:00", "2024-01-31 03:00:00-0500", "2024-01-31T08:00:00 UTC"))
    assert parsed.values.tolist() == ["2024-01-31T08:00:00"] * 3


def test_naive_datetime_in_a_named_timezone() -> None:
    """Berlin is UTC+1 in January: 10:00 local is 09:00 UTC. 02:30 on 2024-03-31 does not exist there (DST)."""
    assert parse_datetime(texts("2024-01-31T10:00:00"), timezone="Europe/Berlin").values.tolist() == ["2024-01-31T09:00:00"]
    assert parse_datetime(texts("2024-03-31T02:30:00"), timezone="Europe/Berlin").invalid.tolist() == [True]


def test_date_column_keeps_the_calendar_day_as_written() -> None:
    assert parse_date(texts("2024-01-31T23:30:00-05:00")).values.tolist() == ["2024-01-31"]


def test_slash_dates_need_proof_or_a_flag() -> None:
    with pytest.raises(AmbiguousColumn):
        parse_date(texts("03/04/2024"))
    assert parse_date(texts("03/04/2024"), dayfirst=True).values.tolist() == ["2024-04-03"]
    assert parse_date(texts("03/04/2024", "04/13/2024")).values.tolist() == ["2024-03-04", "2024-04-13"]


def test_explicit_order_rejects_values_impossible_in_that_order() -> None:
    parsed = parse_date(texts("01/31/2024"), dayfirst=True)
    assert parsed.invalid.tolist() == [True]
    assert "day first" in parsed.reason(0)


def test_named_months_and_compact_dates() -> None:
    assert parse_date(texts("31 Jan 2024", "Feb 1, 2024")).values.tolist() == ["2024-01-31", "2024-02-01"]
    assert parse_date(texts("20240131")).values.tolist() == ["2024-01-31"]


def test_bare_numbers_mixed_with_dates_are_invalid() -> None:
    parsed = parse_date(texts("45322", "2024-01-01"))
    assert parsed.invalid.tolist() == [True, False]


def test_date_format_option() -> None:
    assert parse_date(texts("31.01.2024"), date_format="%d.%m.%Y").values.tolist() == ["2024-01-31"]


def test_monthly_amount_normalises_intervals() -> None:
    """MRR: 120/year × 2 seats = 20/month; 10/week = 10 × 52/12 = 43.333333; 30/month every 3 months = 10."""
    columns = {"Amount": texts("120.00", "10.00", "30.00"), "Quantity": texts("2", "1", "1"),
               "Interval": texts("year", "week", "month"), "Interval Count": texts("1", "1", "3")}
    derivation = Derivation("monthly_amount", {"amount": "Amount", "quantity": "Quantity", "interval": "Interval",
                                                "interval_count": "Interval Count"})
    result = derive(derivation, columns, 3)
    values = [float(v) for v in result.text]
    assert values[0] == 20.0 and math.isclose(values[1], 43.333333, abs_tol=1e-6) and values[2] == 10.0
    assert result.problems == []


def test_monthly_amount_reports_the_export_column_of_a_bad_interval() -> None:
    columns = {"Amount": texts("10"), "Interval": texts("fortnight")}
    result = derive(Derivation("monthly_amount", {"amount": "Amount", "interval": "Interval"}), columns, 1)
    assert [p.column for p in result.problems] == ["Interval"]


def test_join_and_coalesce_and_when() -> None:
    columns = {"First": texts("Ann", ""), "Last": texts("Lee", "Bo"), "Stage": texts("Closed Won", "Open"), "Close": texts("2024-01-02", "2024-02-03")}
    assert derive(Derivation("join", {"columns": ["First", "Last"]}), columns, 2).text.tolist() == ["Ann Lee", "Bo"]
    assert derive(Derivation("coalesce", {"columns": ["First", "Last"]}), columns, 2).text.tolist() == ["Ann", "Bo"]
    when = Derivation("when", {"value": "Close", "column": "Stage", "in": ["closed won"]})
    assert derive(when, columns, 2).text.tolist() == ["2024-01-02", ""]


@pytest.mark.parametrize(("header", "name"), [("Customer ID", "customer_id"), ("createdAt", "created_at"),
                                                ("Amount ($)", "amount"), ("properties.plan", "properties_plan")])
def test_snake_case(header: str, name: str) -> None:
    assert snake_case(header) == name
