"""Reading and writing the outcomes data set: Parquet and CSV, with clear errors (DOMAIN.md §4)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from outcomes_cohort import Course, cohort

from interpersonal.core.outcomes import dataset, service
from interpersonal.core.outcomes.dataset import SCHEMAS, DatasetError


def sample() -> dataset.Dataset:
    return cohort(Course("r1"), Course("r2", ended=False), Course("r3", phq9=(16,)))


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_round_trip_gives_the_same_tables_and_report(tmp_path: Path, fmt: str) -> None:
    data = sample()
    dataset.write(data, tmp_path, format=fmt)  # type: ignore[arg-type]

    back = dataset.read(tmp_path)

    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{t}.{fmt}" for t in ("contacts", "referrals", "scores")]
    for table in SCHEMAS:
        got, want = getattr(back, table).collect(), getattr(data, table).collect()
        assert got.schema == want.schema
        assert got.equals(want)
    assert service.report(back) == service.report(data)


def test_csv_written_by_hand_with_empty_cells_for_open_referrals(tmp_path: Path) -> None:
    (tmp_path / "referrals.csv").write_text(
        "referral_id,patient_id,provider,therapist_id,therapy,referral_date,end_date,end_code,extra\n"
        "r1,p1,P1,T1,dit,2026-01-05,2026-03-01,46,ignored\n"
        "r2,p2,P1,T1,ipt,2026-01-06,,,ignored\n"
    )
    (tmp_path / "contacts.csv").write_text(
        "referral_id,contact_date,attendance_code,is_treatment\nr1,2026-01-20,5,true\nr1,2026-01-27,6,True\nr2,2026-01-20,3,false\n"
    )
    (tmp_path / "scores.csv").write_text(
        "referral_id,measure,score_date,score\n"
        "r1,phq9,2026-01-20T09:00:00,16\nr1,phq9,2026-01-27 09:00,6\nr1,gad7,2026-01-20,12\nr1,gad7,2026-01-27,5.0\n"
    )

    data = dataset.read(tmp_path)

    referrals = data.referrals.collect()
    assert referrals["end_date"].to_list() == [date(2026, 3, 1), None]
    assert referrals["end_code"].to_list() == [46, None]
    assert "extra" not in referrals.columns
    assert data.contacts.collect()["is_treatment"].to_list() == [True, True, False]
    assert service.report(data)["overall"]["reliable_recovery"] == 1


def test_parquet_preferred_and_compatible_types_cast(tmp_path: Path) -> None:
    data = sample()
    dataset.write(data, tmp_path)
    dataset.write(data, tmp_path, format="csv")
    contacts = data.contacts.collect().with_columns(pl.col("attendance_code").cast(pl.Int8), pl.col("referral_id").cast(pl.Categorical))
    contacts.write_parquet(tmp_path / "contacts.parquet")

    back = dataset.read(tmp_path)

    assert back.contacts.collect_schema() == pl.Schema(SCHEMAS["contacts"])


def write_sample(tmp_path: Path) -> None:
    dataset.write(sample(), tmp_path)


def test_missing_column_names_the_file_and_column(tmp_path: Path) -> None:
    write_sample(tmp_path)
    pl.read_parquet(tmp_path / "scores.parquet").drop("score_date").write_parquet(tmp_path / "scores.parquet")

    with pytest.raises(DatasetError, match=r"scores\.parquet: column 'score_date': missing") as info:
        dataset.read(tmp_path)
    assert (Path(info.value.file).name, info.value.column) == ("scores.parquet", "score_date")


def test_wrong_type_in_parquet_names_the_file_and_column(tmp_path: Path) -> None:
    write_sample(tmp_path)
    frame = pl.read_parquet(tmp_path / "contacts.parquet").with_columns(pl.col("attendance_code").cast(pl.String))
    frame.write_parquet(tmp_path / "contacts.parquet")

    with pytest.raises(DatasetError, match=r"contacts\.parquet: column 'attendance_code': must be a whole number, got String"):
        dataset.read(tmp_path)


@pytest.mark.parametrize(
    ("table", "column", "bad"),
    [("referrals", "referral_date", "05/01/2026"), ("contacts", "attendance_code", "five"), ("contacts", "is_treatment", "maybe"),
     ("scores", "score", "high"), ("scores", "score_date", "yesterday")],
)
def test_bad_csv_cell_names_the_file_and_column(tmp_path: Path, table: str, column: str, bad: str) -> None:
    dataset.write(sample(), tmp_path, format="csv")
    frame = pl.read_csv(tmp_path / f"{table}.csv", infer_schema=False).with_columns(pl.lit(bad).alias(column))
    frame.write_csv(tmp_path / f"{table}.csv")

    with pytest.raises(DatasetError, match=rf"{table}\.csv: column '{column}': must be") as info:
        dataset.read(tmp_path)
    assert info.value.column == column


def test_missing_table_and_missing_directory(tmp_path: Path) -> None:
    write_sample(tmp_path)
    (tmp_path / "contacts.parquet").unlink()

    with pytest.raises(DatasetError, match=r"contacts\.parquet: not found \(nor contacts\.csv\)"):
        dataset.read(tmp_path)
    with pytest.raises(DatasetError, match="is not a directory"):
        dataset.read(tmp_path / "nowhere")


def test_from_frames_validates_in_memory_tables() -> None:
    referrals = sample().referrals.collect().drop("therapy")
    with pytest.raises(DatasetError, match=r"<referrals>: column 'therapy': missing"):
        dataset.Dataset.from_frames(referrals, sample().contacts, sample().scores)
