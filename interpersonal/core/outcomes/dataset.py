"""An NHS Talking Therapies outcomes data set on disk: three (or four) tables of a directory.

The fields mirror the NHS Talking Therapies data set (DOMAIN.md §4): referrals, care
contacts with their attendance codes, scored measures and, optionally, the courses (steps) of
each referral. A directory holds ``referrals``, ``contacts`` and ``scores``, and may hold
``courses``, each as ``NAME.parquet`` or ``NAME.csv`` (Parquet is preferred when both exist):

==========  ===============  ==========================================================
table       column           type
==========  ===============  ==========================================================
referrals   referral_id      string
            patient_id       string
            provider         string
            therapist_id     string
            therapy          string (``dit``, ``ipt``, ``ipt_brief``, ``cbt``, ``lit``…)
            referral_date    date
            end_date         date, empty while the referral is open
            end_code         integer, empty while open (46 completed, 47/48 unplanned…)
            problem_descriptor  optional: string, an ICD-10 code (``F40.1``…): which
                             anxiety-disorder-specific measure counts (rules.py)
            gender_identity, ethnic_category, preferred_language, employment_status
                             optional: strings, the patient's NHS Data Dictionary codes
                             (core.demographics); empty: not recorded
            interpreter_required  optional: boolean, empty when not asked
            disability_codes  optional: string, DISABILITY CODEs joined by ``;``
contacts    referral_id      string
            contact_date     date
            attendance_code  integer (NHS codes 2–7; 5/6 attended, 3 did not attend)
            is_treatment     boolean (false for assessments)
            course_id        optional: string, the course the contact belongs to
scores      referral_id      string
            measure          string (``phq9``, ``gad7``…)
            score_date       timestamp
            score            float (the instrument's total)
            course_id        optional: string
courses     course_id        string, unique in the data set (optional table)
            referral_id      string
            therapy          string
            step             optional: integer (2 low intensity, 3 high intensity)
            start_date       optional: date
            end_date         optional: date
            end_code         optional: integer
==========  ===============  ==========================================================

Without a ``courses`` table a referral is one course of its ``therapy`` (the data set reads
exactly as before courses existed). With one, ``referrals.therapy`` may be absent (it is then
empty): each course carries its therapy, and the report places a referral under the therapy of
its last course with at least 2 attended treatment contacts (service.py).

Extra columns are ignored. Compatible types are cast (any integer width to Int64,
categoricals to strings, a date ``score_date`` to a timestamp); anything else raises
:class:`DatasetError`, which names the file and the column. CSV dates are ISO 8601
(``2026-01-31``), timestamps ISO 8601 with or without a time, booleans ``true``/``false``
(or ``1``/``0``); an empty cell is missing.

Errors::

    ValueError
    └── DatasetError        (file, column, message)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import polars as pl

__all__ = ["COURSES_SCHEMA", "OPTIONAL", "SCHEMAS", "Dataset", "DatasetError", "read", "write"]

SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "referrals": {
        "referral_id": pl.String(),
        "patient_id": pl.String(),
        "provider": pl.String(),
        "therapist_id": pl.String(),
        "therapy": pl.String(),
        "referral_date": pl.Date(),
        "end_date": pl.Date(),
        "end_code": pl.Int64(),
    },
    "contacts": {
        "referral_id": pl.String(),
        "contact_date": pl.Date(),
        "attendance_code": pl.Int64(),
        "is_treatment": pl.Boolean(),
    },
    "scores": {
        "referral_id": pl.String(),
        "measure": pl.String(),
        "score_date": pl.Datetime("us"),
        "score": pl.Float64(),
    },
}


OPTIONAL: dict[str, dict[str, pl.DataType]] = {
    "referrals": {
        "problem_descriptor": pl.String(),
        # The patient's NHS Talking Therapies data set characteristics (core.demographics).
        "gender_identity": pl.String(), "ethnic_category": pl.String(), "preferred_language": pl.String(),
        "interpreter_required": pl.Boolean(), "disability_codes": pl.String(), "employment_status": pl.String(),
    },
    "contacts": {"course_id": pl.String()},
    "scores": {"course_id": pl.String()},
    "courses": {"step": pl.Int64(), "start_date": pl.Date(), "end_date": pl.Date(), "end_code": pl.Int64()},
}
"""Optional columns: read (and validated) when present, absent from the frame otherwise."""
COURSES_SCHEMA: dict[str, pl.DataType] = {"course_id": pl.String(), "referral_id": pl.String(), "therapy": pl.String()}
"""The required columns of the optional ``courses`` table (its optional ones: :data:`OPTIONAL`)."""
_REQUIRED = {**SCHEMAS, "courses": COURSES_SCHEMA}


class DatasetError(ValueError):
    """A table of the data set is missing or has a missing or mistyped column."""

    def __init__(self, file: str | Path, column: str | None, message: str) -> None:
        self.file = str(file)
        self.column = column
        self.message = message
        where = f"{self.file}: column {column!r}" if column else self.file
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True, slots=True)
class Dataset:
    """The tables as polars LazyFrames with the :data:`SCHEMAS` columns and those of the
    :data:`OPTIONAL` columns the source has; ``courses`` is None when the data set has none."""

    referrals: pl.LazyFrame
    contacts: pl.LazyFrame
    scores: pl.LazyFrame
    courses: pl.LazyFrame | None = None

    @classmethod
    def from_frames(
        cls,
        referrals: pl.DataFrame | pl.LazyFrame,
        contacts: pl.DataFrame | pl.LazyFrame,
        scores: pl.DataFrame | pl.LazyFrame,
        courses: pl.DataFrame | pl.LazyFrame | None = None,
    ) -> Dataset:
        """Validate and cast in-memory frames (as :func:`read` does for files)."""
        frames = {"referrals": referrals, "contacts": contacts, "scores": scores}
        if courses is not None:
            frames["courses"] = courses
        with_courses = courses is not None
        checked = {name: _conform(frame.lazy(), name, f"<{name}>", with_courses=with_courses) for name, frame in frames.items()}
        return cls(**checked)

    def collect(self) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        return self.referrals.collect(), self.contacts.collect(), self.scores.collect()

    def has(self, table: str, column: str) -> bool:
        """Whether ``table`` has the (optional) ``column``."""
        frame = getattr(self, table)
        return frame is not None and column in frame.collect_schema()

    def tables(self) -> dict[str, pl.LazyFrame]:
        """The tables present, by name."""
        found = {"referrals": self.referrals, "contacts": self.contacts, "scores": self.scores}
        if self.courses is not None:
            found["courses"] = self.courses
        return found


def _compatible(name: str, have: pl.DataType, want: pl.DataType) -> bool:
    if have == want:
        return True
    if want == pl.String():
        return isinstance(have, pl.Categorical | pl.Enum)
    if want == pl.Int64():
        return have.is_integer()
    if want == pl.Float64():
        return have.is_numeric()
    if isinstance(want, pl.Datetime):
        return isinstance(have, pl.Datetime | pl.Date)
    if want == pl.Date():
        return isinstance(have, pl.Datetime)
    return isinstance(have, pl.Null)


def _columns(table: str, present: Iterable[str], *, with_courses: bool) -> list[tuple[str, pl.DataType, bool]]:
    """(column, type, required) to read from ``table``: the required ones, and the optional ones
    ``present`` (``referrals.therapy`` is optional when the data set has a courses table)."""
    have = set(present)
    wanted = [(c, t, not (with_courses and table == "referrals" and c == "therapy")) for c, t in _REQUIRED[table].items()]
    wanted += [(c, t, False) for c, t in OPTIONAL.get(table, {}).items()]
    return [(c, t, required) for c, t, required in wanted if required or c in have]


def _conform(frame: pl.LazyFrame, table: str, file: str | Path, *, with_courses: bool = False) -> pl.LazyFrame:
    """Check the columns and types of ``frame`` against the table's schema; select and cast."""
    try:
        schema = frame.collect_schema()
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise DatasetError(file, None, f"cannot be read: {exc}") from exc
    exprs = []
    for column, want, required in _columns(table, schema, with_courses=with_courses):
        if column not in schema and not required:
            exprs.append(pl.lit(None, dtype=want).alias(column))
            continue
        if column not in schema:
            raise DatasetError(file, column, f"missing (the {table} table needs {', '.join(_REQUIRED[table])})")
        have = schema[column]
        if not (_compatible(column, have, want) or have == pl.Null()):
            raise DatasetError(file, column, f"must be {_describe(want)}, got {have}")
        if isinstance(have, pl.Datetime) and isinstance(want, pl.Datetime):
            expr = pl.col(column).dt.replace_time_zone(None) if have.time_zone else pl.col(column)
            exprs.append(expr.cast(want))
        else:
            exprs.append(pl.col(column).cast(want))
    return frame.select(exprs)


def _describe(dtype: pl.DataType) -> str:
    if dtype == pl.String():
        return "text"
    if dtype == pl.Int64():
        return "a whole number"
    if dtype == pl.Float64():
        return "a number"
    if dtype == pl.Boolean():
        return "true or false"
    if dtype == pl.Date():
        return "a date (YYYY-MM-DD)"
    return "a timestamp (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS)"


def _parse_csv_column(values: pl.Series, want: pl.DataType) -> pl.Series:
    s = values.str.strip_chars()
    s = pl.select(pl.when(s == "").then(None).otherwise(s)).to_series()
    if want == pl.String():
        return values
    if want == pl.Date():
        return s.str.to_date("%Y-%m-%d", strict=True)
    if isinstance(want, pl.Datetime):
        return s.str.to_datetime(strict=True, time_unit="us").dt.replace_time_zone(None)
    if want == pl.Boolean():
        lowered = s.str.to_lowercase()
        bad = lowered.is_not_null() & ~lowered.is_in(["true", "false", "1", "0"])
        if bad.any():
            raise ValueError(f"not true/false: {s.filter(bad)[0]!r}")
        return pl.select(pl.when(lowered.is_null()).then(None).otherwise(lowered.is_in(["true", "1"]))).to_series()
    return s.cast(want, strict=True)


def _read_csv(path: Path, table: str, *, with_courses: bool = False) -> pl.LazyFrame:
    try:
        raw = pl.read_csv(path, infer_schema=False)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise DatasetError(path, None, f"cannot be read as CSV: {exc}") from exc
    columns = []
    for column, want, required in _columns(table, raw.columns, with_courses=with_courses):
        if column not in raw.columns and not required:
            columns.append(pl.Series(column, [None] * raw.height, dtype=want))
            continue
        if column not in raw.columns:
            raise DatasetError(path, column, f"missing (the {table} table needs {', '.join(_REQUIRED[table])})")
        try:
            columns.append(_parse_csv_column(raw[column], want).alias(column))
        except (pl.exceptions.PolarsError, ValueError) as exc:
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DatasetError(path, column, f"must be {_describe(want)}: {first_line}") from exc
    return pl.DataFrame(columns).lazy()


def _find(directory: Path, table: str) -> Path:
    found = _maybe_find(directory, table)
    if found is None:
        raise DatasetError(directory / f"{table}.parquet", None, f"not found (nor {table}.csv) in {directory}")
    return found


def _maybe_find(directory: Path, table: str) -> Path | None:
    for suffix in (".parquet", ".csv"):
        path = directory / f"{table}{suffix}"
        if path.is_file():
            return path
    return None


def read(directory: str | Path) -> Dataset:
    """Read and validate the data set in ``directory`` (see the module docstring).

    Parquet tables are scanned lazily (nothing is loaded until a report collects); CSV
    tables are parsed eagerly so that a bad cell is reported with its file and column.
    Raises :class:`DatasetError`.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise DatasetError(directory, None, "is not a directory")
    paths: dict[str, Path] = {table: _find(directory, table) for table in SCHEMAS}
    if (courses := _maybe_find(directory, "courses")) is not None:
        paths["courses"] = courses
    with_courses = "courses" in paths
    frames: dict[str, pl.LazyFrame] = {}
    for table, path in paths.items():
        if path.suffix == ".csv":
            frames[table] = _read_csv(path, table, with_courses=with_courses)
        else:
            frames[table] = _conform(pl.scan_parquet(path), table, path, with_courses=with_courses)
    return Dataset(**frames)


def write(data: Dataset, directory: str | Path, *, format: Literal["parquet", "csv"] = "parquet") -> None:
    """Write the tables of ``data`` to ``directory`` (created if needed) as Parquet or CSV."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for table, frame in data.tables().items():
        path = directory / f"{table}.{format}"
        if format == "parquet":
            frame.sink_parquet(path)
        else:
            frame.sink_csv(path, date_format="%Y-%m-%d", datetime_format="%Y-%m-%dT%H:%M:%S%.f")
