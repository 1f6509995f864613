"""The research export leaks no identifying value, hashes keys, shifts dates per patient."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from interpersonal.web.privacy.export import Pseudonymiser, age_in_years, export
from tests.conftest import PHQ9_ITEM9_ONE
from tests.web.files import owner_only

GIVEN, FAMILY = "Zephyrine", "Quillfeather"
NHS = "943 476 5919"
EMAIL = "zephyrine.q@example.net"
PHONE = "07700 900461"
ADDRESS = "17 Marigold Crescent\nSaltwick\nYO21 3QZ"
GP = "Brackenfold Surgery"
DOB = dt.date(1979, 11, 2)
NOTES = "Zephyrine spoke about her brother Barnaby Quillfeather"
HOME_PRACTICE = "Call Auntie Philippa on Sunday"
ALERT_NOTE = "Safety plan agreed with Zephyrine; crisis team informed"
LETTER_TEXT = "Dear Zephyrine, thank you for the work we did at Brackenfold"
IPAF_TEXT = "feels invisible beside her brother Barnaby"
TIMELINE_TEXT = "Moved out of Marigold Crescent"
INVENTORY_LABEL = "Barnaby"


@pytest.fixture
def clinic(therapist, supervisor):
    """One patient with every kind of identifying value, through the actions (synthetic)."""
    from interpersonal.web.assessments.actions import acknowledge_alert, record_measurement
    from interpersonal.web.courses.actions import record_session, start_course
    from interpersonal.web.formulation.actions import revise_ipaf
    from interpersonal.web.formulation.models import InventoryPerson, TimelineEvent
    from interpersonal.web.letters.actions import draft_letter, edit_letter
    from interpersonal.web.patients.actions import register_patient

    today = timezone.localdate()
    patient = register_patient(
        by=therapist, given_name=GIVEN, family_name=FAMILY, date_of_birth=DOB, nhs_number=NHS, phone=PHONE,
        email=EMAIL, address=ADDRESS, gp_practice=GP, received_on=today - dt.timedelta(days=90),
        source="gp",
    )
    course = start_course(patient=patient, protocol="dit", therapist=therapist, by=therapist,
                          started_on=today - dt.timedelta(days=60))
    sessions = [record_session(course=course, by=therapist, attendance=5, duration_minutes=50, notes=NOTES,
                               home_practice=HOME_PRACTICE, scheduled_at=timezone.now() - dt.timedelta(days=d))
                for d in (50, 43)]
    measurement = record_measurement(course=course, instrument="phq9", answers=PHQ9_ITEM9_ONE, by=therapist,
                                     session=sessions[0], recorded_at=sessions[0].scheduled_at)
    acknowledge_alert(alert=measurement.risk_alert, by=therapist, note=ALERT_NOTE)
    revise_ipaf(course=course, by=therapist, based_on=None, self_representation=IPAF_TEXT,
                other_representation="critical", affect="shame", defensive_function="withdrawal",
                link_to_depression="mood sank")
    # Stored directly: the IPT-only actions refuse a DIT course, and only the text matters here.
    TimelineEvent.objects.create(course=course, occurred_on=today - dt.timedelta(days=400), event=TIMELINE_TEXT, mood=-2)
    InventoryPerson.objects.create(course=course, label=INVENTORY_LABEL, relationship="brother")
    letter = draft_letter(course=course, kind="goodbye", by=therapist)
    edit_letter(letter=letter, by=therapist, expected_version=letter.version, body=LETTER_TEXT)
    return patient


def _read(out: Path) -> dict[str, list[dict[str, str]]]:
    tables = {}
    for path in sorted(out.glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            tables[path.stem] = list(csv.DictReader(handle))
    return tables


def test_no_identifying_value_reaches_any_cell(clinic, therapist, supervisor, tmp_path):
    export(tmp_path, key="k1")
    tables = _read(tmp_path)
    assert len(tables) >= 5
    # Every cell (not the headers: "therapist_id" is a column, "Therapist" the persona's surname).
    cells = [cell.lower() for rows in tables.values() for row in rows for cell in row.values() if cell]
    assert cells
    forbidden = [
        GIVEN, FAMILY, NHS, NHS.replace(" ", ""), EMAIL, PHONE, PHONE.replace(" ", ""), "7700900461", GP, clinic.local_id,
        DOB.isoformat(), NOTES, HOME_PRACTICE, ALERT_NOTE, LETTER_TEXT, IPAF_TEXT, TIMELINE_TEXT, INVENTORY_LABEL,
        "Barnaby", "Philippa", "Marigold", "Brackenfold", "crisis team",
        therapist.username, supervisor.username, therapist.first_name, therapist.last_name,
        *ADDRESS.split("\n"),
    ]
    leaked = [value for value in forbidden if any(value.lower() in cell for cell in cells)]
    assert not leaked, f"identifying values in the export: {leaked}"


def test_keys_are_keyed_hashes_that_still_join(clinic, tmp_path):
    export(tmp_path, key="k1")
    t = _read(tmp_path)
    (patient,) = t["patients_patient"]
    (course,) = t["courses_course"]
    assert patient["id"] != str(clinic.pk)
    assert len(patient["id"]) == 16
    assert int(patient["id"], 16) >= 0  # hex
    assert course["patient_id"] == patient["id"]
    assert {s["course_id"] for s in t["courses_therapysession"]} == {course["id"]}
    assert {m["course_id"] for m in t["assessments_measurement"]} == {course["id"]}
    (alert,) = t["assessments_riskalert"]
    assert alert["measurement_id"] == t["assessments_measurement"][0]["id"]
    assert "note" not in alert
    assert "notes" not in t["courses_therapysession"][0]
    assert "body" not in t["letters_letter"][0]
    assert not {"given_name", "nhs_number", "date_of_birth", "email", "address", "local_id"} & set(patient)


def test_dates_shift_by_one_offset_per_patient(clinic, tmp_path):
    from interpersonal.web.courses.models import Course, TherapySession

    export(tmp_path, key="k1", max_shift_days=30)
    t = _read(tmp_path)
    (referral,) = t["referrals_referral"]
    (course_row,) = t["courses_course"]
    course = Course.objects.get(patient=clinic)
    referral_shift = (dt.date.fromisoformat(referral["received_on"]) - clinic.referrals.get().received_on).days
    start_shift = (dt.date.fromisoformat(course_row["started_on"]) - course.started_on).days
    assert referral_shift == start_shift != 0
    assert 1 <= abs(referral_shift) <= 30
    originals = {s.scheduled_at for s in TherapySession.objects.filter(course=course)}
    shifted = {dt.datetime.fromisoformat(s["scheduled_at"]) for s in t["courses_therapysession"]}
    assert shifted == {o + dt.timedelta(days=referral_shift) for o in originals}
    assert not shifted & originals


def test_codes_totals_and_age_are_kept(clinic, tmp_path):
    export(tmp_path, key="k1")
    t = _read(tmp_path)
    (referral,) = t["referrals_referral"]
    assert referral["source"] == "gp"
    assert int(referral["age_at_referral"]) == age_in_years(DOB, clinic.referrals.get().received_on)
    assert "age_at_referral" not in t["patients_patient"][0]
    (course,) = t["courses_course"]
    assert course["protocol"] == "dit"
    assert {s["attendance"] for s in t["courses_therapysession"]} == {"5"}
    (measurement,) = t["assessments_measurement"]
    assert (measurement["instrument"], float(measurement["total"])) == ("phq9", 4.0)
    assert t["assessments_riskalert"][0]["instrument"] == "phq9"


def test_different_keys_give_different_pseudonyms_and_shifts(clinic, tmp_path):
    export(tmp_path / "a", key="first-key")
    export(tmp_path / "b", key="second-key")
    a, b = _read(tmp_path / "a"), _read(tmp_path / "b")
    assert a["patients_patient"][0]["id"] != b["patients_patient"][0]["id"]
    assert Pseudonymiser("first-key").pseudonym("patients.patient", 1) != Pseudonymiser("second-key").pseudonym("patients.patient", 1)


def test_the_same_key_gives_the_same_export(clinic, tmp_path):
    export(tmp_path / "a", key="k")
    export(tmp_path / "b", key="k")
    assert _read(tmp_path / "a") == _read(tmp_path / "b")


def test_shifts_are_nonzero_and_within_range():
    p = Pseudonymiser("k", max_shift_days=3)
    shifts = {p.shift_days(i) for i in range(500)}
    assert shifts == {-3, -2, -1, 1, 2, 3}


def test_the_export_is_audited_with_counts(clinic, tmp_path, audit_trail):
    counts = export(tmp_path, key="k1")
    (event,) = [e for e in audit_trail.new() if e.type == "research.exported"]
    assert event.data["patients_patient"] == counts["patients_patient"] == 1
    assert event.data["courses_therapysession"] == 2


def test_the_command_writes_the_export_readable_by_its_owner_only(clinic, tmp_path, shell_umask):
    call_command("research_export", "--out", str(tmp_path / "out"))

    assert (tmp_path / "out" / "patients_patient.csv").exists()
    assert owner_only(tmp_path / "out")


def test_the_command_needs_a_key(db, tmp_path):
    with override_settings(INTERPERSONAL_PSEUDONYM_KEY=""), pytest.raises(CommandError, match="PSEUDONYM_KEY"):
        call_command("research_export", "--out", str(tmp_path))


def test_an_unclassified_field_stops_the_export(clinic, tmp_path, monkeypatch):
    from interpersonal.web.privacy import classification

    fields = dict(classification.FIELDS)
    del fields["patients.Patient.phone"]
    monkeypatch.setattr(classification, "FIELDS", fields)
    with pytest.raises(LookupError, match=r"patients\.Patient\.phone"):
        export(tmp_path, key="k1")
