"""The exception tree of the lifecycle engine.

    LifecycleError                  every error this package raises on purpose
    ├── DatasetError                the dataset cannot be opened or is not a lifecycle database
    │   ├── DatasetNotFoundError
    │   ├── DatabaseFileError       not an SQLite file, or another application's database
    │   ├── DatabaseBusyError       another process holds the database's write lock
    │   └── SchemaVersionError      written by a newer version, or cannot be migrated
    ├── UnknownTableError           a table name outside the canonical data model
    ├── ImportError_                base of import failures (named so it does not shadow the builtin)
    │   ├── ImportFileError         the file cannot be read at all (missing, empty, wrong encoding, bad format)
    │   │   └── ImportLimitError    the file exceeds a read limit (bytes, columns, nesting, field length)
    │   ├── ImportValidationError   one or more cells/rows are invalid; carries the list of CellErrors
    │   ├── MappingError            a column mapping (TOML or preset) is malformed or does not fit the file
    │   └── CurrencyError           money in another or several currencies without a rate table, or a bad rate table
    ├── ConfigError                 a TOML configuration (stage rules, health weights, targets) is invalid
    ├── QueryError                  bad arguments to an engine query (unknown metric, filter value, ...)
    │   └── QueryTimeoutError       a query ran past its time limit
    └── ModelFitError               a CLV model did not converge (carries advice)

Library code raises these; the CLI and the MCP layer turn each into one clear sentence with a next step
(``user_message``). Nothing else should reach a user.
"""

from __future__ import annotations

from dataclasses import dataclass


class LifecycleError(Exception):
    """Base of every deliberate error; ``user_message`` is what a person (or a model) is shown."""

    @property
    def user_message(self) -> str:
        return str(self)


class DatasetError(LifecycleError):
    """The dataset cannot be opened or is not a lifecycle database."""


class DatasetNotFoundError(DatasetError):
    def __init__(self, path: str) -> None:
        super().__init__(f"no dataset at {path}: run `lifecycle demo` for the demo data or `lifecycle import` to load your own")
        self.path = path


class DatabaseFileError(DatasetError):
    """The file is not an SQLite database, or is an SQLite database of another application."""

    def __init__(self, path: str, why: str) -> None:
        super().__init__(f"{path}: {why}")
        self.path = path
        self.why = why


class DatabaseBusyError(DatasetError):
    """Another process kept the database's write lock for longer than this one would wait."""

    def __init__(self, path: str, holder: str, waited_s: float) -> None:
        super().__init__(
            f"{path}: another import is writing to this database ({holder}); waited {waited_s:.0f} s. "
            "Run the import again when it has finished, or wait longer with --wait SECONDS"
        )
        self.path = path
        self.holder = holder
        self.waited_s = waited_s


class DatasetUnreadableError(DatasetError):
    """The data source exists but cannot be read (a damaged file, not a database)."""


class SchemaVersionError(DatasetError):
    """The database was written by a newer version of Lifecycle MCP or cannot be migrated."""


class UnknownTableError(LifecycleError):
    def __init__(self, name: str, valid: tuple[str, ...]) -> None:
        super().__init__(f"unknown table {name!r}; valid tables: {', '.join(valid)}")
        self.name = name
        self.valid = valid


class ImportError_(LifecycleError):
    """Base of import failures."""


class ImportFileError(ImportError_):
    """The file cannot be read at all."""

    def __init__(self, path: str, why: str, line: int | None = None) -> None:
        super().__init__(f"{path}:{line}: {why}" if line is not None else f"{path}: {why}")
        self.path = path
        self.why = why
        self.line = line


class ImportLimitError(ImportFileError):
    """The file exceeds one of the read limits (``lifecycle.importing.limits``); ``limit`` names the setting."""

    def __init__(self, path: str, why: str, limit: str, line: int | None = None) -> None:
        super().__init__(path, why, line)
        self.limit = limit


@dataclass(frozen=True)
class CellError:
    """One invalid cell (or row, when ``column`` is None), located as ``file:line: column 'x': why (value)``."""

    path: str
    line: int
    column: str | None
    why: str
    value: str | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}:"
        col = f" column '{self.column}':" if self.column else ""
        shown = "" if self.value is None else f" (value {_shown(self.value)})"
        return f"{where}{col} {self.why}{shown}"


def _shown(value: str, limit: int = 60) -> str:
    text = value if len(value) <= limit else value[:limit] + f"… [{len(value)} chars]"
    return repr(text)


class ImportValidationError(ImportError_):
    """Some rows are invalid; nothing was written. ``errors`` lists them in file order."""

    def __init__(self, path: str, errors: list[CellError], total_invalid_rows: int | None = None, advice: str | None = None) -> None:
        self.path = path
        self.errors = errors
        self.total_invalid_rows = total_invalid_rows if total_invalid_rows is not None else len({e.line for e in errors})
        shown = "\n".join(str(e) for e in errors[:20])
        more = "" if len(errors) <= 20 else f"\n… and {len(errors) - 20} more errors"
        super().__init__(
            f"{path}: {self.total_invalid_rows} invalid row(s); nothing was imported.\n{shown}{more}\n"
            + (f"{advice}\n" if advice else "")
            + "Fix the file, or re-run with --skip-invalid to import the valid rows and write the rejected ones to a CSV."
        )


class MappingError(ImportError_):
    """A column mapping is malformed or does not fit the file."""


class CurrencyError(ImportError_):
    """Money in a currency the dataset does not hold (or in several) without a rate table, or a bad rate table."""


class ConfigError(LifecycleError):
    """A TOML configuration is invalid."""


class QueryError(LifecycleError):
    """Bad arguments to an engine query."""


class QueryTimeoutError(QueryError):
    """A query ran past its time limit."""


class ModelFitError(LifecycleError):
    """A CLV model did not converge; the message says what to try."""
