"""Turn a column of text into calendar days or UTC instants — vectorised, never guessing the order of a date.

Accepted forms (per value, all in one column allowed):

- ISO 8601: ``2024-01-31``, ``2024-01-31T10:00:00``, ``2024-01-31 10:00``, with a zone ``Z``, ``UTC``, ``+02:00``
  or ``+0200``; ``2024/01/31`` and single-digit months/days (``2024-1-5``) too.
- Day/month/year with ``/``, ``.`` or ``-``: ``31/01/2024`` or ``01/31/2024`` (optionally followed by a time,
  24-hour or with AM/PM: ``01/31/2024 2:30 PM``). The
  order is decided once per column: ``--dayfirst``/``--monthfirst`` (or ``dayfirst = true/false`` in the mapping)
  when given; otherwise a value whose first number is over 12 proves day-first and one whose second number is
  over 12 proves month-first. A column with only ambiguous values (``03/04/2024``) — or with proof both ways — is
  refused with a message asking for the flag.
- A whole column of numbers (and only then): ``YYYYMMDD`` (``20240131``); Excel serial days between 25569 and
  73415 (1970-01-01 … 2100-12-31; day 0 = 1899-12-30, so 45322 → 2024-01-31; a fraction is the time of day); or,
  for integers of 9+ digits, Unix epoch seconds (< 10^11) or milliseconds.
- ``31 Jan 2024``, ``31 January 2024``, ``Jan 31, 2024``, ``January 31 2024``.

Datetimes are stored in UTC as ``YYYY-MM-DDTHH:MM:SS`` (fractions of a second are dropped): a value with a zone is
converted (``2024-01-31T10:00:00+02:00`` → ``2024-01-31T08:00:00``); one without a zone is taken as UTC, or as
local time in the mapping's ``timezone`` option. Days are stored ``YYYY-MM-DD``: a day column given a timestamp
keeps the calendar day as written (the time and zone are dropped). Future dates are not errors here, but a date
outside 1900-01-01 … 2999-12-31 (``9999-12-31`` placeholders, year ``0000``) is a row error: the engine's ``as_of``
is bounded to the same years, so such a value could never be computed with.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from lifecycle.importing.parsing import AmbiguousColumn, Parsed

EXCEL_EPOCH = np.datetime64("1899-12-30", "D")
EXCEL_MIN, EXCEL_MAX = 25569, 73415  # 1970-01-01 and 2100-12-31 as Excel serial days
_ISO_FAST = r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
_YMD = r"^(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})(?P<rest>.*)$"
_DMY = r"^(?P<a>\d{1,2})[-/.](?P<b>\d{1,2})[-/.](?P<y>\d{4})(?P<rest>.*)$"
_REST = r"^(?:(?:[T ]|,\s*)\s*(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,]\d+)?)?(?:\s*(?P<ampm>[AaPp]\.?[Mm]\.?))?)?\s*(?P<zone>Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$"
_NAMED_FORMATS = ("%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y", "%b %d %Y", "%B %d %Y", "%d-%b-%Y")
EARLIEST, LATEST = np.datetime64("1900-01-01", "s"), np.datetime64("3000-01-01", "s")  # the engine's as_of bounds
OUT_OF_RANGE = ("outside the supported years 1900-2999 (a placeholder such as 9999-12-31? leave the field empty, or list "
                "the placeholder in the mapping's [options] null_values)")
UNRECOGNISED = ("not a recognised date (use YYYY-MM-DD, DD/MM/YYYY or MM/DD/YYYY, an Excel serial day, "
                "or set date_format in the mapping [options])")


def parse_date(text: pd.Series, dayfirst: bool | None = None, date_format: str | None = None) -> Parsed:
    """Calendar days as ``YYYY-MM-DD`` text (see the module docstring for the accepted forms and the order rule)."""
    instants, invalid, why = _in_range(*_instants(text, dayfirst, date_format, timezone=None, day_only=True))
    return Parsed(_format(instants, "D"), invalid, why)


def parse_datetime(text: pd.Series, dayfirst: bool | None = None, date_format: str | None = None,
                   timezone: str | None = None) -> Parsed:
    """UTC instants as ``YYYY-MM-DDTHH:MM:SS`` text; naive values are UTC unless ``timezone`` names their zone."""
    instants, invalid, why = _in_range(*_instants(text, dayfirst, date_format, timezone, day_only=False))
    return Parsed(_format(instants, "s"), invalid, why)


def _in_range(instants: pd.Series, invalid: np.ndarray, why: str | pd.Series) -> tuple[pd.Series, np.ndarray, str | pd.Series]:
    """Mark parsed values outside [EARLIEST, LATEST) invalid (``OUT_OF_RANGE``) and drop them."""
    values = instants.to_numpy(dtype="datetime64[s]")
    outside = ~np.isnat(values) & ((values < EARLIEST) | (values >= LATEST))
    if not outside.any():
        return instants, invalid, why
    reasons = pd.Series(why, index=instants.index, dtype="str") if isinstance(why, str) else why.copy()
    reasons[outside] = OUT_OF_RANGE
    kept = instants.copy()
    kept[outside] = np.datetime64("NaT")
    return kept, invalid | outside, reasons


def excel_serial_to_datetime(serial: np.ndarray) -> np.ndarray:
    """Excel serial days (1900 system, day 0 = 1899-12-30, which absorbs the 1900 leap-year bug) → datetime64[s]."""
    seconds = np.round(serial.astype(np.float64) * 86400.0).astype(np.int64)
    return EXCEL_EPOCH.astype("datetime64[s]") + seconds.astype("timedelta64[s]")


def epoch_to_datetime(values: np.ndarray) -> np.ndarray:
    """Unix epoch integers → datetime64[s]: seconds below 10^11 (until year 5138), milliseconds otherwise."""
    seconds = np.where(values < 10**11, values, values // 1000)
    return seconds.astype("datetime64[s]")


def _format(instants: pd.Series, unit: str) -> pd.Series:
    """ISO text per value (``YYYY-MM-DD`` for unit ``D``, else ``YYYY-MM-DDTHH:MM:SS``), NA for NaT — via Arrow's cast."""
    array = instants.to_numpy(dtype="datetime64[s]")
    if unit == "D":
        text = pa.array(array.astype("datetime64[D]"), from_pandas=True).cast(pa.string())
    else:
        text = pc.replace_substring(pa.array(array, from_pandas=True).cast(pa.string()), " ", "T")
    return pd.Series(text.to_pandas(), index=instants.index)


def _empty(n: int, index: pd.Index) -> pd.Series:
    return pd.Series(np.full(n, np.datetime64("NaT"), dtype="datetime64[s]"), index=index)


def _instants(text: pd.Series, dayfirst: bool | None, date_format: str | None, timezone: str | None,
              day_only: bool) -> tuple[pd.Series, np.ndarray, str | pd.Series]:
    """Parse to UTC-naive datetime64 values; returns (values, invalid mask, reason)."""
    t = text.str.strip()
    present = (t != "").to_numpy(dtype=bool)
    out = _empty(len(t), t.index)
    if not present.any():
        return out, np.zeros(len(t), dtype=bool), ""
    if date_format:
        return _with_format(t, present, date_format, timezone, day_only)
    if _all_numeric(t, present):
        return _numeric(t, present, day_only)
    why = pd.Series(UNRECOGNISED, index=t.index, dtype="str")
    iso = t.str.fullmatch(_ISO_FAST).to_numpy(dtype=bool, na_value=False) & present
    if iso.any():
        out[iso] = _iso(t[iso], timezone, day_only)
    rest = present & ~iso
    if rest.any():
        values, reasons = _components(t[rest], dayfirst, timezone, day_only)
        out[rest] = values
        why[rest] = reasons
    invalid = present & np.isnat(out.to_numpy(dtype="datetime64[s]"))
    return out, invalid, why


def _with_format(t: pd.Series, present: np.ndarray, date_format: str, timezone: str | None,
                 day_only: bool) -> tuple[pd.Series, np.ndarray, str]:
    """Parse with the mapping's strptime ``date_format`` (``%z`` in it reads zones; otherwise ``timezone`` or UTC)."""
    out = _empty(len(t), t.index)
    zoned = "%z" in date_format or "%Z" in date_format
    parsed = pd.to_datetime(t[present], format=date_format, errors="coerce", utc=zoned)
    if zoned:
        values = _utc_naive(parsed)
    elif timezone is not None and not day_only:
        values = _localise(parsed, timezone)
    else:
        values = parsed.astype("datetime64[s]")
    if day_only:
        values = values.dt.normalize()
    out[present] = values
    invalid = present & np.isnat(out.to_numpy(dtype="datetime64[s]"))
    return out, invalid, f"does not match the mapping's date_format {date_format!r}"


def _iso(t: pd.Series, timezone: str | None, day_only: bool) -> pd.Series:
    if day_only:
        return pd.to_datetime(t.str.slice(0, 10), format="%Y-%m-%d", errors="coerce").astype("datetime64[s]")
    zoned = t.str.contains(r"(?:Z|[+-]\d{2}:?\d{2})$", regex=True) & t.str.contains(":", regex=False)
    if timezone is None or not (~zoned).any():
        return _utc_naive(pd.to_datetime(t, format="ISO8601", utc=True, errors="coerce"))
    result = pd.Series(np.full(len(t), np.datetime64("NaT"), dtype="datetime64[s]"), index=t.index)
    if zoned.any():
        result[zoned] = _utc_naive(pd.to_datetime(t[zoned], format="ISO8601", utc=True, errors="coerce"))
    naive = pd.to_datetime(t[~zoned], format="ISO8601", errors="coerce")
    result[~zoned] = _localise(naive, timezone)
    return result


def _utc_naive(values: pd.Series) -> pd.Series:
    return values.dt.tz_convert(None).astype("datetime64[s]")


def _localise(naive: pd.Series, timezone: str) -> pd.Series:
    """Local wall-clock times in ``timezone`` → UTC; times skipped or repeated by a DST change become NaT (invalid)."""
    local = naive.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT")
    return _utc_naive(local)


def _components(t: pd.Series, dayfirst: bool | None, timezone: str | None, day_only: bool) -> tuple[pd.Series, pd.Series]:
    """Parse the non-ISO values: Y/M/D, D/M/Y or M/D/Y (order decided per column), then named-month forms."""
    why = pd.Series(UNRECOGNISED, index=t.index, dtype="str")
    ymd = t.str.extract(_YMD)
    dmy = t.str.extract(_DMY)
    is_ymd = ymd["y"].notna().to_numpy()
    is_dmy = dmy["y"].notna().to_numpy() & ~is_ymd
    year, month, day, rest = ymd["y"].copy(), ymd["m"].copy(), ymd["d"].copy(), ymd["rest"].copy()
    if is_dmy.any():
        first = dmy["a"].astype("float64").to_numpy()
        second = dmy["b"].astype("float64").to_numpy()
        dayfirst_now = _decide_order(t, is_dmy, first, second, dayfirst)
        year[is_dmy] = dmy["y"][is_dmy]
        month[is_dmy] = (dmy["b"] if dayfirst_now else dmy["a"])[is_dmy]
        day[is_dmy] = (dmy["a"] if dayfirst_now else dmy["b"])[is_dmy]
        rest[is_dmy] = dmy["rest"][is_dmy]
        order = "day first" if dayfirst_now else "month first"
        why[is_dmy] = f"not a valid date when read {order}"
    matched = is_ymd | is_dmy
    out = pd.Series(np.full(len(t), np.datetime64("NaT"), dtype="datetime64[s]"), index=t.index)
    if matched.any():
        out[matched] = _assemble(year[matched], month[matched], day[matched], rest[matched], timezone, day_only)
    if (~matched).any():
        out[~matched] = _named(t[~matched])
    return out, why


def _decide_order(t: pd.Series, is_dmy: np.ndarray, first: np.ndarray, second: np.ndarray, dayfirst: bool | None) -> bool:
    """The column's order for ``a/b/yyyy`` values: the flag if given, else the proof in the data, else refuse."""
    if dayfirst is not None:
        return dayfirst
    proves_day = is_dmy & (first > 12)
    proves_month = is_dmy & (second > 12)
    if proves_day.any() and proves_month.any():
        a, b = int(np.argmax(proves_day)), int(np.argmax(proves_month))
        raise AmbiguousColumn(
            max(a, b),
            f"the column mixes day-first ({t.iloc[a]!r}) and month-first ({t.iloc[b]!r}) dates; "
            "fix the file or pass --dayfirst / --monthfirst to reject the other kind",
        )
    if proves_day.any():
        return True
    if proves_month.any():
        return False
    ambiguous = is_dmy & (first != second)
    if ambiguous.any():
        position = int(np.argmax(ambiguous))
        raise AmbiguousColumn(
            position,
            f"ambiguous date: {t.iloc[position]!r} could be day/month or month/day and no value in the column "
            "settles it (none has a number over 12 in the first or second place); re-run with --dayfirst or --monthfirst",
        )
    return True


def _assemble(year: pd.Series, month: pd.Series, day: pd.Series, rest: pd.Series, timezone: str | None,
              day_only: bool) -> pd.Series:
    date_text = year + "-" + month.str.zfill(2) + "-" + day.str.zfill(2)
    parts = rest.str.extract(_REST)
    rest_ok = (rest.str.strip() == "") | parts["h"].notna() | parts["zone"].notna()
    rest_ok &= rest.str.fullmatch(_REST).fillna(False).astype(bool)
    if day_only:
        values = pd.to_datetime(date_text, format="%Y-%m-%d", errors="coerce").astype("datetime64[s]")
        return values.where(rest_ok.to_numpy(dtype=bool))
    hour = parts["h"].fillna("0").astype("int64")
    meridiem = parts["ampm"].fillna("").str.lower().str.replace(".", "", regex=False)
    rest_ok &= (meridiem == "") | ((hour >= 1) & (hour <= 12))
    hour = hour.where(meridiem == "", hour % 12 + (meridiem == "pm").astype("int64") * 12)  # 12 AM = 0h, 12 PM = 12h
    clock = hour.astype("str").str.zfill(2) + ":" + parts["mi"].fillna("00") + ":" + parts["s"].fillna("00")
    zone = parts["zone"].fillna("").replace({"Z": "+00:00", "UTC": "+00:00", "GMT": "+00:00"})
    iso = date_text + "T" + clock + zone
    values = _iso(iso, timezone, day_only=False)
    return values.where(rest_ok.to_numpy(dtype=bool))


def _named(t: pd.Series) -> pd.Series:
    """``31 Jan 2024``-style values (month names are unambiguous)."""
    out = pd.Series(np.full(len(t), np.datetime64("NaT"), dtype="datetime64[s]"), index=t.index)
    for fmt in _NAMED_FORMATS:
        missing = np.isnat(out.to_numpy(dtype="datetime64[s]"))
        if not missing.any():
            break
        out[missing] = pd.to_datetime(t[missing], format=fmt, errors="coerce").astype("datetime64[s]")
    return out


def _all_numeric(t: pd.Series, present: np.ndarray) -> bool:
    return bool(t[present].str.fullmatch(r"\d+(?:\.\d+)?").all())


def _numeric(t: pd.Series, present: np.ndarray, day_only: bool) -> tuple[pd.Series, np.ndarray, str]:
    """A whole column of numbers: YYYYMMDD, Excel serial days, or epoch seconds/milliseconds — else all invalid."""
    out = _empty(len(t), t.index)
    values = t[present]
    if values.str.fullmatch(r"(?:19|20|21)\d{6}").all():
        parsed = pd.to_datetime(values, format="%Y%m%d", errors="coerce").astype("datetime64[s]")
        out[present] = parsed
        return out, present & np.isnat(out.to_numpy(dtype="datetime64[s]")), "not a valid YYYYMMDD date"
    numbers = values.astype("float64").to_numpy()
    if ((numbers >= EXCEL_MIN) & (numbers <= EXCEL_MAX)).all():
        instants = excel_serial_to_datetime(numbers)
        if day_only:
            instants = instants.astype("datetime64[D]").astype("datetime64[s]")
        out[present] = instants
        return out, np.zeros(len(t), dtype=bool), ""
    is_integer = values.str.fullmatch(r"\d{9,14}").to_numpy(dtype=bool)
    if is_integer.all():
        integers = values.astype("int64").to_numpy()
        instants = epoch_to_datetime(integers)
        plausible = (instants >= np.datetime64("1970-01-01")) & (instants < np.datetime64("2101-01-01"))
        if day_only:
            instants = instants.astype("datetime64[D]").astype("datetime64[s]")
        out[present] = np.where(plausible, instants, np.datetime64("NaT"))
        return out, present & np.isnat(out.to_numpy(dtype="datetime64[s]")), "an epoch timestamp outside 1970–2100"
    why = (f"a bare number in a date column: only a whole column of Excel serial days ({EXCEL_MIN}–{EXCEL_MAX}), "
           "YYYYMMDD values or epoch seconds/milliseconds is read as dates")
    return out, present.copy(), why
