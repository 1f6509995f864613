"""An NHS Talking Therapies outcomes data set on disk: three tables of a directory.

The fields mirror the NHS Talking Therapies data set (DOMAIN.md §4): referrals, care
contacts with their attendance codes, and scored measures. A directory holds
``referrals``, ``contacts`` and ``scores``, each as ``NAME.parquet`` or ``NAME.csv``
(Parquet is preferred when both exist):

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
contacts    referral_id      string
            contact_date     date
            attendance_code  integer (NHS codes 2–7; 5/6 attended, 3 did not attend)
            is_treatment     boolean (false for assessments)
scores      referral_id      string
            measure          string (``phq9``, ``gad7``…)
            score_date       timestamp
            score            float (the instrument's total)
==========  ===============  ==========================================================

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

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import polars as pl

__all__ = ["SCHEMAS", "Dataset", "DatasetError", "read", "write"]

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
    """The three tables as polars LazyFrames with exactly the :data:`SCHEMAS` columns."""

    referrals: pl.LazyFrame
    contacts: pl.LazyFrame
    scores: pl.LazyFrame

    @classmethod
    def from_frames(
        cls,
        referrals: pl.DataFrame | pl.LazyFrame,
        contacts: pl.DataFrame | pl.LazyFrame,
        scores: pl.DataFrame | pl.LazyFrame,
    ) -> Dataset:
        """Validate and cast in-memory frames (as :func:`read` does for files)."""
        frames = {"referrals": referrals, "contacts": contacts, "scores": scores}
        checked = {name: _conform(frame.lazy(), name, f"<{name}>") for name, frame in frames.items()}
        return cls(**checked)

    def collect(self) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        return self.referrals.collect(), self.contacts.collect(), self.scores.collect()


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


def _conform(frame: pl.LazyFrame, table: str, file: str | Path) -> pl.LazyFrame:
    """Check the columns and types of ``frame`` against ``SCHEMAS[table]``; select and cast."""
    try:
        schema = frame.collect_schema()
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise DatasetError(file, None, f"cannot be read: {exc}") from exc
    exprs = []
    for column, want in SCHEMAS[table].items():
        if column not in schema:
            raise DatasetError(file, column, f"missing (the {table} table needs {', '.join(SCHEMAS[table])})")
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


def _read_csv(path: Path, table: str) -> pl.LazyFrame:
    try:
        raw = pl.read_csv(path, infer_schema=False)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise DatasetError(path, None, f"cannot be read as CSV: {exc}") from exc
    columns = []
    for column, want in SCHEMAS[table].items():
        if column not in raw.columns:
            raise DatasetError(path, column, f"missing (the {table} table needs {', '.join(SCHEMAS[table])})")
        try:
            columns.append(_parse_csv_column(raw[column], want).alias(column))
        except (pl.exceptions.PolarsError, ValueError) as exc:
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DatasetError(path, column, f"must be {_describe(want)}: {first_line}") from exc
    return pl.DataFrame(columns).lazy()


def _find(directory: Path, table: str) -> Path:
    for suffix in (".parquet", ".csv"):
        path = directory / f"{table}{suffix}"
        if path.is_file():
            return path
    raise DatasetError(directory / f"{table}.parquet", None, f"not found (nor {table}.csv) in {directory}")


def read(directory: str | Path) -> Dataset:
    """Read and validate the data set in ``directory`` (see the module docstring).

    Parquet tables are scanned lazily (nothing is loaded until a report collects); CSV
    tables are parsed eagerly so that a bad cell is reported with its file and column.
    Raises :class:`DatasetError`.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise DatasetError(directory, None, "is not a directory")
    frames: dict[str, pl.LazyFrame] = {}
    for table in SCHEMAS:
        path = _find(directory, table)
        if path.suffix == ".csv":
            frames[table] = _read_csv(path, table)
        else:
            frames[table] = _conform(pl.scan_parquet(path), table, path)
    return Dataset(**frames)


def write(data: Dataset, directory: str | Path, *, format: Literal["parquet", "csv"] = "parquet") -> None:
    """Write the three tables to ``directory`` (created if needed) as Parquet or CSV."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for table in SCHEMAS:
        frame: pl.LazyFrame = getattr(data, table)
        path = directory / f"{table}.{format}"
        if format == "parquet":
            frame.sink_parquet(path)
        else:
            frame.sink_csv(path, date_format="%Y-%m-%d", datetime_format="%Y-%m-%dT%H:%M:%S%.f")
