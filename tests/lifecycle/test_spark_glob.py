"""Spark SQL has no GLOB: the Spark source runs SQLite's ``x GLOB ?`` as ``x RLIKE ?`` with the pattern rewritten
(``lifecycle.sources.spark.glob_regex``). The reference is SQLite itself: every (pattern, value) pair must match
under the regular expression exactly when SQLite's GLOB matches it."""

from __future__ import annotations

import re
import sqlite3

import pytest

from lifecycle.doctor import ISO_DATE_GLOB
from lifecycle.sources.spark import _spark_text, glob_regex

PATTERNS = [ISO_DATE_GLOB, "a*", "*b", "a?c", "[abc]x", "[^abc]x", "[a-c]*", "a.b", "a+b", "(x)", "*.csv", "[]]x", "a$"]
VALUES = ["", "a", "ab", "abc", "axc", "a.c", "a.b", "axb", "a+b", "aab", "(x)", "bx", "dx", "zx", "]x", "a$",
          "file.csv", "file_csv", "2024-01-31", "2024-01-31T09:30:00", "2024/01/31", "x2024-01-31", "2024-1-31",
          "A", "ABC", "a\nb", "b"]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_the_regex_matches_exactly_what_sqlites_glob_matches(pattern: str) -> None:
    db = sqlite3.connect(":memory:")
    expected = {value: bool(db.execute("SELECT ? GLOB ?", (value, pattern)).fetchone()[0]) for value in VALUES}
    regex = re.compile(glob_regex(pattern))
    assert {value: bool(regex.match(value)) for value in VALUES} == expected
    assert any(expected.values()) or pattern == "[]]x"


def test_a_glob_statement_is_written_with_rlike_and_its_pattern_parameter_is_found_among_the_others() -> None:
    """The second of three bound parameters is the pattern; a ``?`` inside a string literal is no parameter."""
    text, globs = _spark_text("SELECT count(*) FROM t WHERE a = ? AND c NOT GLOB ? AND d = 'x?y' LIMIT ?")
    assert "GLOB" not in text and "RLIKE ?" in text and "'x?y'" in text
    assert globs == (1,) and text.count("?") == 4  # three parameters and the literal's character


def test_a_statement_without_glob_is_compiled_as_every_other() -> None:
    assert _spark_text("SELECT a FROM t WHERE b = ?") == ("SELECT a FROM t WHERE b = ?", ())
