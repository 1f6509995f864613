"""Subject access (UK GDPR Article 15; issue 7): everything held about one patient, as JSON and as a
PDF, for the records officer only; every copy audited; nothing of another patient in it."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from collections import deque

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse
from django.utils import timezone

from interpersonal.web.audit.models import AuditEvent
from interpersonal.web.documents.actions import request_letter_pdf
from interpersonal.web.documents.models import Document
from interpersonal.web.patients.models import Patient
from interpersonal.web.privacy import subject_access
from interpersonal.web.privacy.access import get_record_for_officer, record_link
from interpersonal.web.privacy.classification import project_models
from tests.web.files import owner_only
from web.privacy.test_export import (  # noqa: F401 - the fixture and the values it writes
    ALERT_NOTE,
    FAMILY,
    GIVEN,
    HOME_PRACTICE,
    INVENTORY_LABEL,
    IPAF_TEXT,
    LETTER_TEXT,
    NOTES,
    TIMELINE_TEXT,
    clinic,
)

DRAFT_ANSWER = {"phq9": {"1": 2, "2": 3}}
FORMULATION_TEXT = "Grief after her grandmother Winifred died in March"
FOCAL_GOALS = "Visit Winifred's garden with Barnaby"
OTHER_NOTES = "Unrelated notes about Octavia Nettlebridge"


@pytest.fixture
def full_record(clinic, therapist):  # noqa: F811
    """``clinic``'s patient, plus a questionnaire link with a draft and an IPT formulation with a focal area."""
    from interpersonal.web.courses.actions import set_task
    from interpersonal.web.formulation.models import FocalArea, IptFormulation
    from interpersonal.web.questionnaires.actions import issue_link
    from interpersonal.web.questionnaires.models import QuestionnaireLink
    from interpersonal.web.referrals.models import ScreeningDecision, Triage

    course = clinic.courses.get()
    set_task(course=course, task_id="ipaf_agreed", done=True, by=therapist)
    # Consent to recording, a session recording and its (corrected) rating (fidelity).
    from web.fidelity.helpers import add_rated_recording

    add_rated_recording(course, therapist)
    # A risk assessment and safety plan (assessments.RiskAssessment): free text about the patient.
    from interpersonal.web.assessments.actions import record_risk_assessment

    record_risk_assessment(course=course, by=therapist, assessment={"overall_level": "low", "formulation": FORMULATION_TEXT},
                           safety_plan={"people_to_ask": FOCAL_GOALS}, review_due=timezone.localdate(), reviews=None)
    # A missed appointment and the follow-up it opened (courses.diary).
    from interpersonal.web.courses.actions import record_session
    from interpersonal.web.courses.diary.actions import mark

    missed = record_session(course=course, by=therapist, attendance=None,
                            scheduled_at=timezone.now() - dt.timedelta(days=2, hours=1))
    mark(session=missed, by=therapist, code=3, expected_at=missed.scheduled_at)
    # A phone call outside the sessions, corrected (courses.contacts).
    from interpersonal.web.courses.contacts import correct_contact, record_contact

    call = record_contact(course=course, by=therapist, kind="phone", at=timezone.now() - dt.timedelta(days=1),
                          note=FOCAL_GOALS)
    correct_contact(contact=call, by=therapist, expected_version=1, reason="It was the GP", kind="liaison",
                    at=call.at, note=FOCAL_GOALS, with_whom="GP, Elm Surgery")
    link, _token = issue_link(course=course, instruments=["phq9", "gad7"], by=therapist)
    QuestionnaireLink.objects.filter(pk=link.pk).update(draft=DRAFT_ANSWER)
    # Stored directly (the IPT actions refuse a DIT course): only the data matters here.
    formulation = IptFormulation.objects.create(course=course, formulation=FORMULATION_TEXT, contract_sessions=16)
    FocalArea.objects.create(formulation=formulation, area="grief", goals=FOCAL_GOALS)
    # A letter's PDF made for download is held about the patient too (documents.Document).
    request_letter_pdf(letter=course.letters.first(), by=therapist)
    # A correction of a measure and a session deleted as entered in error: held, so in the copy.
    from interpersonal.web.assessments.corrections import correct_measurement
    from interpersonal.web.courses.actions import record_session
    from interpersonal.web.courses.corrections import delete_session

    measurement = course.measurements.order_by("pk").first()
    correct_measurement(measurement=measurement, by=therapist, expected_version=measurement.version,
                        reason="Item 1 was typed in the wrong row", answers=measurement.answers | {"1": 3})
    mistaken = record_session(course=course, by=therapist, attendance=5, duration_minutes=50,
                              scheduled_at=timezone.now() - dt.timedelta(days=1))
    delete_session(session=mistaken, by=therapist, expected_version=1, reason="Recorded for the wrong patient")
    # Screening and triage, stored directly (the referral is in treatment now): only the data matters here.
    ScreeningDecision.objects.create(referral=course.referral, decision="suitable", reason=FORMULATION_TEXT,
                                     suggestion="suitable", decided_by=therapist, decided_at=timezone.now())
    Triage.objects.create(referral=course.referral, step=3, therapy="dit", reason=FORMULATION_TEXT,
                          preferred_therapy="no_preference", by=therapist, at=timezone.now())
    # What the public self-referral form keeps beside the referral (referrals.SelfReferral).
    from interpersonal.web.referrals.models import SelfReferral

    SelfReferral.objects.create(referral=course.referral, reference="TEST-0001", submitted_at=timezone.now(),
                                contact_method="text", leave_message=False, consented_at=timezone.now())
    # The opt-in invitation the referral was sent before treatment (stored directly: the action refuses
    # a referral already in treatment).
    from interpersonal.web.service.models import OptInInvitation

    OptInInvitation.objects.create(referral=course.referral, channel="letter", sent_on=course.referral.received_on,
                                   respond_by=course.referral.received_on + dt.timedelta(days=14), sent_by=therapist,
                                   delivery="to_print", opted_in_on=course.referral.received_on)
    from web.privacy.test_erasure import log_supervision_of

    log_supervision_of(course, therapist)  # supervision.DiscussedCase
    return clinic


def ask_for_copy(officer, client, patient, data):
    """POST the subject access form as ``officer``; the progress page it leads to, and the document."""
    ref = record_link(officer, patient.pk)
    asked = client.post(reverse("privacy:subject_access", args=[ref]), data)
    assert asked.status_code == 302
    document = Document.objects.filter(patient=patient, kind__startswith="subject_access").latest("pk")
    assert asked["Location"] == reverse("privacy:subject_access_progress", args=[ref, document.pk])
    return client.get(asked["Location"]), document


def download_copy(officer, client, patient, data):
    _page, document = ask_for_copy(officer, client, patient, data)
    response = client.get(reverse("privacy:subject_access_download", args=[record_link(officer, patient.pk), document.pk]))
    assert response.status_code == 200
    return response, b"".join(response.streaming_content)


@pytest.fixture
def other_patient_record(therapist):
    from interpersonal.web.courses.actions import record_session, start_course
    from interpersonal.web.patients.actions import register_patient

    other = register_patient(by=therapist, given_name="Octavia", family_name="Nettlebridge",
                             date_of_birth=dt.date(1990, 1, 1), received_on=timezone.localdate(), source="self")
    course = start_course(patient=other, protocol="ipt", therapist=therapist, by=therapist)
    record_session(course=course, by=therapist, attendance=5, duration_minutes=50, notes=OTHER_NOTES,
                   home_practice="", scheduled_at=timezone.now())
    return other


def _paths_to_patient() -> set[str]:
    """Every project model with a chain of foreign keys ending at Patient."""
    patient = apps.get_model("patients.Patient")
    reached = {patient}
    queue = deque([patient])
    while queue:
        target = queue.popleft()
        for model in project_models():
            if model in reached:
                continue
            if any(f.is_relation and (f.many_to_one or f.one_to_one) and f.related_model is target
                   for f in model._meta.concrete_fields):
                reached.add(model)
                queue.append(model)
    return {m._meta.label for m in reached}


def test_every_model_holding_patient_rows_is_a_source():
    """A new table with a path to Patient must be added to SOURCES (or the copy would leave it out)."""
    assert _paths_to_patient() <= {s.label for s in subject_access.SOURCES}
    assert _paths_to_patient() == {s.label for s in subject_access.SOURCES}


def test_the_copy_holds_every_row_and_every_field_but_the_withheld(full_record, other_patient_record):
    copy = subject_access.collect(full_record)

    for source in subject_access.SOURCES:
        model = source.model
        held = model._base_manager.filter(**{source.patient_path: full_record.pk})  # entered in error too
        records = copy["records"][source.label]
        assert sorted(r["id"] for r in records) == sorted(held.values_list("pk", flat=True)), source.label
        assert records, f"the fixture writes at least one {source.label}"
        for field in model._meta.concrete_fields:
            key = f"{model._meta.label}.{field.name}"
            name = field.name if not field.is_relation or field.related_model._meta.label == "accounts.User" else field.attname
            if key in subject_access.WITHHELD:
                assert all(name not in r for r in records), key
            else:
                assert all(name in r for r in records), key
    text = json.dumps(copy, ensure_ascii=False)
    for value in (GIVEN, FAMILY, "9434765919", NOTES, HOME_PRACTICE, ALERT_NOTE, LETTER_TEXT, IPAF_TEXT,
                  TIMELINE_TEXT, INVENTORY_LABEL, FORMULATION_TEXT, FOCAL_GOALS):
        assert value in text, value
    assert copy["records"]["questionnaires.QuestionnaireLink"][0]["draft"] == DRAFT_ANSWER
    # Nothing of anyone else; no credential.
    assert "Octavia" not in text
    assert OTHER_NOTES not in text
    link = full_record.questionnaire_links.get()
    assert link.token_hash not in text


def test_staff_are_named_and_the_access_log_lists_who_read_the_record(full_record, therapist, client_for):
    client_for(therapist).get(reverse("patients:detail", args=[full_record.pk]))

    copy = subject_access.collect(full_record)

    session = copy["records"]["courses.TherapySession"][0]
    assert session["recorded_by"] == {"id": therapist.pk, "name": "Tess Therapist", "role": "therapist"}
    events = {(e["event"], e["by"]) for e in copy["access_log"]}
    assert ("patient.registered", "Tess Therapist") in events
    assert ("patient.viewed", "Tess Therapist") in events
    assert len(copy["access_log"]) == AuditEvent.objects.filter(patient_id=full_record.pk).count()


def test_staff_without_a_name_are_shown_by_role_never_by_username(full_record, make_user, client_for, therapist):
    from django.contrib.auth import get_user_model

    from interpersonal.web.supervision.models import SupervisionRelationship

    nameless = make_user("sv.login.7", "supervisor")
    SupervisionRelationship.objects.create(supervisor=nameless, supervisee=therapist, started=timezone.localdate(),
                                           confirmed_at=timezone.now())
    client_for(nameless).get(reverse("patients:detail", args=[full_record.pk]))
    client_for(therapist).get(reverse("patients:detail", args=[full_record.pk]))
    get_user_model().objects.filter(pk=therapist.pk).update(first_name="", last_name="")

    copy = subject_access.collect(full_record)

    text = json.dumps(copy)
    assert "sv.login.7" not in text
    assert therapist.username not in text
    by = {e["by"] for e in copy["access_log"]}
    assert {"Supervisor (no name recorded)", "Therapist (no name recorded)"} <= by


def test_the_access_log_includes_the_lists_that_showed_the_patient(full_record, other_patient_record, therapist,
                                                                   unrelated_therapist, client_for):
    """A patient list or a caseload shows names without opening the record: those events name the
    patient only inside their data, and the copy must still say who saw the patient listed."""
    client_for(therapist).get(reverse("patients:list"))
    client_for(therapist).get(reverse("courses:caseload"))
    client_for(unrelated_therapist).get(reverse("courses:caseload"))  # lists neither patient
    other = subject_access.collect(other_patient_record)

    copy = subject_access.collect(full_record)

    listed = [(e["event"], e["by"]) for e in copy["access_log"] if e["event"] in subject_access.LISTING_EVENTS]
    assert sorted(listed) == [("caseload.viewed", "Tess Therapist"), ("patients.listed", "Tess Therapist")]
    # The other patient's copy has the same two listings (both were on the list and the caseload).
    assert sorted(e["event"] for e in other["access_log"] if e["event"] in subject_access.LISTING_EVENTS) == [
        "caseload.viewed", "patients.listed"]


def test_collect_makes_the_same_number_of_queries_however_long_the_record(full_record, therapist):
    from interpersonal.web.courses.actions import record_session

    with CaptureQueriesContext(connection) as short:
        subject_access.collect(full_record)
    course = full_record.courses.get()
    for days in range(1, 13):
        record_session(course=course, by=therapist, attendance=5, duration_minutes=50, notes="", home_practice="",
                       scheduled_at=timezone.now() - dt.timedelta(days=days, hours=1))
    with CaptureQueriesContext(connection) as long:
        copy = subject_access.collect(full_record)

    assert len(copy["records"]["courses.TherapySession"]) == 16  # 12 here, 2 in the clinic, the deleted one and the missed one
    assert len(long.captured_queries) == len(short.captured_queries) == len(subject_access.SOURCES) + 2


# --- the records pages ---------------------------------------------------------------------


def test_find_by_nhs_number_or_local_id_and_the_search_term_is_not_logged(full_record, records_officer, client_for):
    client = client_for(records_officer)

    by_nhs_number = client.post(reverse("privacy:find"), {"identifier": "943 476 5919"})["Location"]
    by_local_id = client.post(reverse("privacy:find"), {"identifier": full_record.local_id})["Location"]

    for location in (by_nhs_number, by_local_id):
        match = resolve(location)
        assert match.view_name == "privacy:patient"
        assert get_record_for_officer(records_officer, match.kwargs["ref"]) == full_record
    missing = client.post(reverse("privacy:find"), {"identifier": "NOPE-1"})
    bad = client.post(reverse("privacy:find"), {"identifier": "943 476 5918"})

    assert missing.status_code == 404
    assert "No record has that NHS number or local ID" in missing.content.decode()
    assert bad.status_code == 400
    assert "check digit wrong" in bad.content.decode()
    searches = AuditEvent.objects.filter(type="records.searched", actor_id=records_officer.pk)
    assert [e.data["found"] for e in searches.order_by("id")] == [True, True, False]
    assert not any("9434765919" in json.dumps(e.data) or full_record.local_id in json.dumps(e.data) for e in searches)


def test_the_patient_page_counts_what_is_held(full_record, records_officer, client_for):
    response = client_for(records_officer).get(reverse("privacy:patient", args=[record_link(records_officer, full_record.pk)]))

    body = response.content.decode()
    assert response.status_code == 200
    assert f"{GIVEN} {FAMILY}" in body
    assert "Sessions" in body
    assert "Make the PDF copy" in body
    assert dict(response.context["counts"])["Sessions"] == 3  # with the missed appointment (code 3)
    assert AuditEvent.objects.filter(type="records.patient_viewed", patient_id=full_record.pk).count() == 1


def test_json_copy_is_downloaded_and_audited_with_its_reference(full_record, records_officer, client_for):
    response, body = download_copy(records_officer, client_for(records_officer), full_record,
                                   {"format": "json", "reference": "SAR-2026-014"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == (
        f'attachment; filename="subject-access-patient-{full_record.pk}-{timezone.localdate():%Y-%m-%d}.json"')
    assert response["Cache-Control"] == "no-store"
    copy = json.loads(body)
    assert copy["records"]["patients.Patient"][0]["family_name"] == FAMILY
    event = AuditEvent.objects.get(type="patient.subject_access")
    assert (event.actor_id, event.patient_id, event.data) == (
        records_officer.pk, full_record.pk, {"format": "json", "reference": "SAR-2026-014", "via": "web"})


@pytest.mark.parametrize(("reference", "message"), [
    ("<script>", "A reference starts with a letter or digit"),
    ("SAR 943 476 5919", "looks like an NHS number"),
    (f"SAR-1 {FAMILY}", "holds the patient&#x27;s name"),
])
def test_a_bad_reference_is_refused_and_nothing_is_audited(full_record, records_officer, client_for, reference, message):
    """The reference goes into the append-only audit trail: never the patient's own details."""
    response = client_for(records_officer).post(reverse("privacy:subject_access", args=[record_link(records_officer, full_record.pk)]),
                                                {"format": "pdf", "reference": reference})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not AuditEvent.objects.filter(type="patient.subject_access").exists()
    assert AuditEvent.objects.filter(type="records.patient_viewed", patient_id=full_record.pk).count() == 1


def _pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "copy.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def test_pdf_copy_is_a_real_pdf_with_the_whole_record(full_record, records_officer, client_for, tmp_path):
    response, body = download_copy(records_officer, client_for(records_officer), full_record, {"format": "pdf", "reference": "SAR-7"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert body.startswith(b"%PDF-")
    text = " ".join(_pdf_text(body, tmp_path).split())
    for value in ("Your records: subject access copy", f"{GIVEN} {FAMILY}", "943 476 5919", "SAR-7", NOTES,
                  ALERT_NOTE, LETTER_TEXT, IPAF_TEXT, TIMELINE_TEXT, FORMULATION_TEXT, FOCAL_GOALS,
                  "Patient Health Questionnaire", "Who viewed or changed your record", "Tess Therapist"):
        assert value in text, value
    assert full_record.questionnaire_links.get().token_hash not in text
    assert AuditEvent.objects.filter(type="patient.subject_access", data__format="pdf").count() == 1


# --- the command line -----------------------------------------------------------------------


def test_command_writes_both_files_and_audits_each(full_record, records_officer, tmp_path, shell_umask):
    call_command("subject_access", "--nhs-number", "943 476 5919", "--by", records_officer.username,
                 "--out", str(tmp_path / "copy"), "--reference", "SAR-9")
    assert owner_only(tmp_path / "copy")
    tmp_path = tmp_path / "copy"

    files = sorted(p.name for p in tmp_path.iterdir())
    stem = f"subject-access-patient-{full_record.pk}-{timezone.localdate():%Y-%m-%d}"
    assert files == [f"{stem}.json", f"{stem}.pdf"]
    assert json.loads((tmp_path / f"{stem}.json").read_text())["patient_id"] == full_record.pk
    events = AuditEvent.objects.filter(type="patient.subject_access", patient_id=full_record.pk)
    assert sorted(e.data["format"] for e in events) == ["json", "pdf"]
    assert all(e.data["via"] == "cli" and e.actor_id == records_officer.pk for e in events)


@pytest.mark.parametrize(("args", "message"), [
    (["--local-id", "NOPE"], "There is no patient with local ID NOPE"),
    (["--nhs-number", "123"], "it must have 10 digits"),
])
def test_command_refuses_an_unknown_patient(full_record, records_officer, tmp_path, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("subject_access", *args, "--by", records_officer.username, "--out", str(tmp_path))
    assert not any(tmp_path.iterdir())


def test_command_refuses_anyone_but_a_records_officer(full_record, therapist, tmp_path):
    with pytest.raises(CommandError, match="not an active records officer"):
        call_command("subject_access", "--id", str(full_record.pk), "--by", therapist.username, "--out", str(tmp_path))
    assert not AuditEvent.objects.filter(type="patient.subject_access").exists()
    assert Patient.objects.filter(pk=full_record.pk).exists()


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_the_copy_is_read_from_one_snapshot(therapist):
    from interpersonal.web.patients.actions import register_patient

    patient = register_patient(by=therapist, given_name="Sol", family_name="Snapshot", date_of_birth=dt.date(1980, 1, 1),
                               received_on=timezone.localdate(), source="gp")
    assert not connection.in_atomic_block

    with CaptureQueriesContext(connection) as queries:
        copy = subject_access.collect(patient)

    assert connection.vendor == "postgresql"
    statements = [q["sql"] for q in queries.captured_queries]
    assert statements[:2] == ["BEGIN", "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"]
    assert copy["records"]["patients.Patient"][0]["family_name"] == "Snapshot"
