"""synth.generate: deterministic by seed, the dataset's exact columns and types, plausible values."""

from __future__ import annotations

import polars as pl
import pytest

from interpersonal.core.outcomes import synth

SCHEMAS = {
    "referrals": pl.Schema({**synth.REFERRALS_SCHEMA, "problem_descriptor": pl.String()}),
    "contacts": pl.Schema({**synth.CONTACTS_SCHEMA, "course_id": pl.String()}),
    "scores": pl.Schema({**synth.SCORES_SCHEMA, "course_id": pl.String()}),
    "courses": synth.COURSES_SCHEMA,
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    directory = tmp_path_factory.mktemp("synth")
    calls = []
    synth.generate(courses=2500, seed=3, out=directory, progress=lambda done, total: calls.append((done, total)))
    tables = {name: pl.read_parquet(directory / f"{name}.parquet") for name in SCHEMAS}
    return directory, tables, calls


def test_same_seed_same_bytes_of_data_and_another_seed_differs(generated, tmp_path):
    _, tables, _ = generated
    synth.generate(courses=2500, seed=3, out=tmp_path / "again")
    synth.generate(courses=2500, seed=4, out=tmp_path / "other")
    for name, table in tables.items():
        assert pl.read_parquet(tmp_path / "again" / f"{name}.parquet").equals(table), name
        assert not pl.read_parquet(tmp_path / "other" / f"{name}.parquet").equals(table), name


def test_exact_column_names_and_types(generated):
    _, tables, _ = generated
    assert {"referrals.parquet", "contacts.parquet", "scores.parquet", "courses.parquet"} <= {p.name for p in generated[0].iterdir()}
    for name, schema in SCHEMAS.items():
        assert dict(tables[name].schema) == schema, name
    assert dict(tables["referrals"].schema) == {
        "referral_id": pl.String, "patient_id": pl.String, "provider": pl.String, "therapist_id": pl.String,
        "therapy": pl.String, "referral_date": pl.Date, "end_date": pl.Date, "end_code": pl.Int64,
        "problem_descriptor": pl.String,
    }


def test_progress_reaches_the_total(generated):
    _, _, calls = generated
    assert calls
    assert calls[-1] == (2500, 2500)


def test_referrals(generated):
    _, t, _ = generated
    r = t["referrals"]
    assert r.height == 2500
    assert r["referral_id"].n_unique() == 2500
    assert set(r["therapy"].unique()) == set(synth.THERAPIES)
    assert 10 <= r["provider"].n_unique() <= synth.N_PROVIDERS
    assert r["therapist_id"].n_unique() <= 2500 / 40 + synth.N_PROVIDERS
    span = (r["referral_date"].max() - r["referral_date"].min()).days
    assert 700 <= span < 731
    open_share = r["end_date"].is_null().mean()
    assert 0.05 <= open_share <= 0.15
    assert (r["end_date"].is_null() == r["end_code"].is_null()).all()
    assert set(r["end_code"].drop_nulls().unique()) <= {12, 13, 46, 47, 48}
    assert r.filter(pl.col("end_date") < pl.col("referral_date")).height == 0


def test_contacts(generated):
    _, t, _ = generated
    c, r = t["contacts"], t["referrals"]
    assert set(c["attendance_code"].unique()) == {2, 3, 4, 5, 6, 7}
    missed = c.filter(pl.col("is_treatment"))["attendance_code"].is_in([2, 3, 4, 7]).mean()
    assert 0.08 <= missed <= 0.18
    # one assessment per referral (unless it falls after the extract date), after the referral
    # and before any treatment contact
    assessed = c.filter(~pl.col("is_treatment")).join(r, on="referral_id")
    assert assessed["referral_id"].n_unique() == assessed.height >= 0.98 * r.height
    assert (assessed["contact_date"] > assessed["referral_date"]).all()
    first_treatment = c.filter(pl.col("is_treatment")).group_by("referral_id").agg(pl.col("contact_date").min())
    both = first_treatment.join(assessed, on="referral_id", suffix="_assessment")
    assert (both["contact_date"] > both["contact_date_assessment"]).all()
    waits = (both["contact_date"] - both["referral_date"]).dt.total_days()
    assert 14 <= waits.median() <= 35
    assert (waits > 126).any()


def test_scores(generated):
    _, t, _ = generated
    s = t["scores"]
    assert set(s["measure"].unique()) == {"phq9", "gad7", *synth.ADSM_FOR.values()}
    phq9, gad7 = s.filter(pl.col("measure") == "phq9")["score"], s.filter(pl.col("measure") == "gad7")["score"]
    assert phq9.min() >= 0
    assert phq9.max() <= 27
    assert gad7.min() >= 0
    assert gad7.max() <= 21
    # one score per measure per session: no ties on score_date within a referral
    assert s.select(pl.struct("referral_id", "measure", "score_date").is_duplicated().any()).item() is False
    first = s.sort("score_date").group_by("referral_id", "measure").agg(pl.col("score").first(), pl.col("score").last().alias("last"))
    first_phq9 = first.filter(pl.col("measure") == "phq9")
    assert 14 <= first_phq9["score"].mean() <= 18
    assert first_phq9["last"].mean() < first_phq9["score"].mean()  # treatment helps on average
    assert (first_phq9["last"] - first_phq9["score"] >= 6).any()  # some deteriorate reliably


def test_rejects_a_negative_size(tmp_path):
    with pytest.raises(ValueError, match="courses"):
        synth.generate(courses=-1, seed=1, out=tmp_path)


def test_zero_courses_writes_empty_files_with_the_schema(tmp_path):
    synth.generate(courses=0, seed=1, out=tmp_path)
    for name, schema in SCHEMAS.items():
        table = pl.read_parquet(tmp_path / f"{name}.parquet")
        assert table.height == 0
        assert dict(table.schema) == schema


def test_stepped_up_referrals_have_a_step_two_then_a_step_three_course(generated):
    _, t, _ = generated
    k, c, s, r = t["courses"], t["contacts"], t["scores"], t["referrals"]
    assert k["course_id"].n_unique() == k.height
    per = k.sort("course_id").group_by("referral_id", maintain_order=True).agg(pl.col("step"), pl.col("therapy"), pl.col("start_date"))
    stepped = per.filter(pl.col("step").list.len() == 2)
    # a realistic fraction: a quarter of step-2 completers, a few per cent of all referrals
    assert 0.01 <= stepped.height / r.height <= 0.08
    assert (stepped["step"].list.get(0) == 2).all()
    assert (stepped["step"].list.get(1) == 3).all()
    assert (stepped["therapy"].list.get(0) == "lit").all()
    assert set(stepped["therapy"].list.get(1).unique()) <= set(synth.STEP3)
    started = stepped.filter(pl.col("start_date").list.get(1).is_not_null())
    assert (started["start_date"].list.get(1) > started["start_date"].list.get(0)).all()
    # treatment contacts and scores carry a course of their own referral; assessments none
    treatment = c.filter(pl.col("is_treatment"))
    assert treatment["course_id"].null_count() == 0
    assert c.filter(~pl.col("is_treatment"))["course_id"].null_count() == c.filter(~pl.col("is_treatment")).height
    assert (treatment["course_id"].str.split("-").list.get(0) == treatment["referral_id"]).all()
    assert (s["course_id"].str.split("-").list.get(0) == s["referral_id"]).all()
    # the referral is listed under its last course's therapy
    last = stepped.select("referral_id", pl.col("therapy").list.get(1).alias("last"))
    assert (last.join(r, on="referral_id")["therapy"] == last.join(r, on="referral_id")["last"]).all()


def test_adsm_scores_follow_the_problem_descriptor(generated):
    _, t, _ = generated
    s, r = t["scores"], t["referrals"]
    with_adsm = s.filter(~pl.col("measure").is_in(["phq9", "gad7"])).join(r, on="referral_id")
    assert with_adsm.height > 0
    assert (with_adsm["measure"] == with_adsm["problem_descriptor"].replace_strict(synth.ADSM_FOR, default=None)).all()
    for mid, (_, lo, hi, _) in synth.ADSM_SCALE.items():
        values = with_adsm.filter(pl.col("measure") == mid)["score"]
        assert values.min() >= lo, mid
        assert values.max() <= hi, mid
