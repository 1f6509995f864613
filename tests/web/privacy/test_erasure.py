"""Erasing a patient removes every row of theirs from every table, keeps the audit trail whole,
and refuses when the record must stay (open risk alert, active course, retention not lapsed)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.db import connection, models
from django.utils import timezone

from interpersonal.web.audit import chain
from interpersonal.web.audit.models import AuditEvent
from interpersonal.web.patients.models import Patient
from interpersonal.web.privacy import erasure
from interpersonal.web.privacy.erasure import ErasureRefused, ErasureResult, Reason, erase_patient, plan, preview
from interpersonal.web.referrals.actions import receive_referral
from interpersonal.web.referrals.models import SelfReferral
from tests.conftest import GAD7_ANSWERS, PHQ9_ITEM9_ONE

GIVEN, FAMILY = "Wenceslava", "Thornbury-Quist"
LOCAL_ID = "ZQ-LOCAL-4471"
NHS = "943 476 5919"
EMAIL = "wenceslava.tq@example.net"
PHONE = "07700 900583"
ADDRESS = "42 Juniper Wynd\nHollowmere\nHX9 7QT"
GP = "Fennick Lane Surgery"
DOB = dt.date(1977, 5, 23)
NOTES = "Wenceslava described the argument with her sister Ottoline"
HOME_PRACTICE = "Write to Ottoline before Thursday"
ALERT_NOTE = "Safety plan agreed; Hollowmere crisis line given"
DRAFT_ALERT_NOTE = "Called back after the unsent answer; safe tonight"
IPAF_TEXT = "sees herself as the one who is always left behind"
IPAF_TEXT_2 = "sees herself as left behind, others as rushing ahead"
LETTER_TEXT = "Dear Wenceslava, thank you for our sessions at Fennick Lane"
LETTER_TEXT_2 = "Dear Wenceslava, a corrected goodbye letter"
TIMELINE_TEXT = "Ottoline moved to Quistbridge"
INVENTORY_LABEL = "Ottoline"
FORMULATION_TEXT = "A role dispute with Ottoline about caring for their mother"
GOALS_TEXT = "Renegotiate the caring rota with Ottoline"
CLIENT = "198.51.100.23"
REFERENCE = "IG-2026-0042"

IDENTIFYING = [
    GIVEN, FAMILY, LOCAL_ID, NHS, NHS.replace(" ", ""), EMAIL, PHONE, PHONE.replace(" ", ""), "+447700900583", GP,
    DOB.isoformat(),
    *ADDRESS.split("\n"), NOTES, HOME_PRACTICE, ALERT_NOTE, DRAFT_ALERT_NOTE, IPAF_TEXT, IPAF_TEXT_2, LETTER_TEXT,
    LETTER_TEXT_2, TIMELINE_TEXT, INVENTORY_LABEL, FORMULATION_TEXT, GOALS_TEXT, "Ottoline", "Quistbridge",
]


def _ago(days: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=days)


def _at(days: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)


def log_supervision_of(course, therapist):
    """A supervision session in which ``course`` was discussed, logged by the therapist's supervisor."""
    from interpersonal.web.supervision.actions import CaseEntry, log_session
    from interpersonal.web.supervision.models import SupervisionRelationship

    supervisor = SupervisionRelationship.objects.get(supervisee=therapist).supervisor
    return log_session(by=supervisor, date=timezone.localdate(), minutes=60, format="individual",
                       supervisees=[therapist], cases=[CaseEntry(course=course, minutes=20,
                                                                 actions_agreed="Review the focus together.")])


@pytest.fixture
def full_record(therapist):
    """A patient with every kind of row, through the actions (synthetic): a DIT course (IPAF
    revised twice, a goodbye letter finalised and superseded), then a guided self-help course
    stepped up to IPT (timeline, inventory, formulation with a focal area, a questionnaire link
    submitted and one left as a draft with a risk answer) after the re-referral's screening (an
    assessment contact with a PHQ-9, a suitability decision, a triage), every risk alert
    acknowledged, all courses ended; plus a finished background-task result naming one of the sessions."""
    from django_tasks_db.models import DBTaskResult

    from interpersonal.web.assessments.actions import acknowledge_alert, record_measurement, record_risk_assessment
    from interpersonal.web.assessments.corrections import correct_measurement
    from interpersonal.web.assessments.models import RiskAlert
    from interpersonal.web.courses.actions import end_course, record_session, set_task, start_course, step_up
    from interpersonal.web.courses.contacts import correct_contact, record_contact
    from interpersonal.web.courses.corrections import delete_session
    from interpersonal.web.courses.diary.actions import mark
    from interpersonal.web.documents.actions import request_letter_pdf
    from interpersonal.web.formulation.actions import add_event, add_person, revise_ipaf, save_formulation
    from interpersonal.web.letters.actions import draft_letter, edit_letter, finalise_letter, new_version
    from interpersonal.web.patients.actions import register_patient
    from interpersonal.web.questionnaires.actions import issue_link, save_answers, submit
    from interpersonal.web.referrals.screening import decide_suitability, record_assessment_contact, triage_referral
    from interpersonal.web.service.actions import invite_to_opt_in, record_opt_in
    from web.fidelity.helpers import add_rated_recording

    patient = register_patient(
        by=therapist, local_id=LOCAL_ID, given_name=GIVEN, family_name=FAMILY, date_of_birth=DOB, nhs_number=NHS,
        phone=PHONE, email=EMAIL, address=ADDRESS, gp_practice=GP, received_on=_ago(300), source="gp",
    )
    dit = start_course(patient=patient, protocol="dit", therapist=therapist, by=therapist, started_on=_ago(280))
    first = record_session(course=dit, by=therapist, attendance=5, duration_minutes=50, notes=NOTES,
                           home_practice=HOME_PRACTICE, scheduled_at=_at(270))
    measurement = record_measurement(course=dit, instrument="phq9", answers=PHQ9_ITEM9_ONE, by=therapist,
                                     session=first, recorded_at=first.scheduled_at)
    add_rated_recording(dit, therapist)  # consent, a recording (its files go with its row), a corrected rating
    # A risk assessment made from the alert, then reviewed (the earlier version points nowhere; the
    # review points at it): free text in both, and the alert it was made from.
    assessed = record_risk_assessment(course=dit, by=therapist, assessment={"overall_level": "medium",
                                      "formulation": NOTES}, safety_plan={"people_to_ask": HOME_PRACTICE},
                                      review_due=timezone.localdate(), reviews=None, alert=measurement.risk_alert)
    record_risk_assessment(course=dit, by=therapist, assessment={"overall_level": "low", "formulation": NOTES},
                           safety_plan={"people_to_ask": HOME_PRACTICE}, review_due=timezone.localdate(),
                           reviews=assessed)
    acknowledge_alert(alert=measurement.risk_alert, by=therapist, note=ALERT_NOTE)
    # Corrections keep the earlier values (notes among them), and a deleted session keeps its row.
    correct_measurement(measurement=measurement, by=therapist, expected_version=1, reason=NOTES,
                        answers=PHQ9_ITEM9_ONE | {"1": 2})
    mistaken = record_session(course=dit, by=therapist, attendance=5, duration_minutes=50, notes=NOTES,
                              scheduled_at=_at(268))
    delete_session(session=mistaken, by=therapist, expected_version=1, reason=NOTES)
    set_task(course=dit, task_id=dit.definition.phases[0].tasks[0].id, done=True, by=therapist)
    missed = record_session(course=dit, by=therapist, attendance=None, scheduled_at=_at(263))  # booked, then
    mark(session=missed, by=therapist, code=3, expected_at=missed.scheduled_at)  # missed: a follow-up (courses.diary)
    call = record_contact(course=dit, by=therapist, kind="phone", at=_at(262), note=NOTES)  # outside sessions
    correct_contact(contact=call, by=therapist, expected_version=1, reason=NOTES, kind="liaison", at=call.at,
                    note=NOTES, with_whom="GP, Elm Surgery")
    ipaf = {"other_representation": "rushing", "affect": "sadness", "defensive_function": "withdrawal",
            "link_to_depression": "mood sinks"}
    one = revise_ipaf(course=dit, by=therapist, based_on=None, self_representation=IPAF_TEXT, **ipaf)
    revise_ipaf(course=dit, by=therapist, based_on=one.number, self_representation=IPAF_TEXT_2, **ipaf)
    letter = draft_letter(course=dit, kind="goodbye", by=therapist)
    letter = edit_letter(letter=letter, by=therapist, expected_version=letter.version, body=LETTER_TEXT)
    letter = finalise_letter(letter=letter, by=therapist, expected_version=letter.version)
    request_letter_pdf(letter=letter, by=therapist)  # a generated document (its file goes with its row)
    second = new_version(letter=letter, by=therapist)
    edit_letter(letter=second, by=therapist, expected_version=second.version, body=LETTER_TEXT_2)
    end_course(course=dit, reason="completed", by=therapist, ended_on=_ago(200))
    referral = receive_referral(patient=patient, by=therapist, source="gp", received_on=_ago(160),
                                therapist=therapist)  # re-referred: screened, found suitable, triaged
    contact = record_assessment_contact(referral=referral, by=therapist, scheduled_at=_at(155), attendance=5,
                                        duration_minutes=40, notes=NOTES)
    screened = record_measurement(referral=referral, instrument="phq9", answers=PHQ9_ITEM9_ONE, by=therapist,
                                  session=contact, recorded_at=contact.scheduled_at)
    acknowledge_alert(alert=screened.risk_alert, by=therapist, note=ALERT_NOTE)
    decide_suitability(referral=referral, decision="suitable", reason=NOTES, by=therapist, clinician_risk=False,
                       under_secondary_care=False)
    triage_referral(referral=referral, step=2, therapy="lit", reason=NOTES, preferred_therapy="no_preference",
                    preference=HOME_PRACTICE, by=therapist)
    SelfReferral.objects.create(referral=referral, reference="TEST-0001", submitted_at=_at(160), contact_method="phone",
                                leave_message=False, consented_at=_at(160))  # as the public form leaves it
    invite_to_opt_in(referral=referral, channel="letter", by=therapist, sent_on=_ago(158))  # the waiting list's
    record_opt_in(referral=referral, by=therapist, opted_in_on=_ago(155))
    lit = start_course(patient=patient, protocol="lit", therapist=therapist, by=therapist, started_on=_ago(150))
    record_session(course=lit, by=therapist, attendance=5, duration_minutes=30, notes=NOTES, scheduled_at=_at(140))
    ipt = step_up(course=lit, protocol="ipt", therapist=therapist, by=therapist, on=_ago(120))
    session = record_session(course=ipt, by=therapist, attendance=5, duration_minutes=50, notes=NOTES,
                             scheduled_at=_at(100))
    add_event(course=ipt, by=therapist, occurred_on=_ago(900), event=TIMELINE_TEXT, mood=-3)
    add_person(course=ipt, by=therapist, label=INVENTORY_LABEL, relationship="sister")
    save_formulation(course=ipt, by=therapist, expected_version=0, text=FORMULATION_TEXT, focal_areas=[
        {"area": "role_dispute", "dispute_stage": "impasse", "goals": GOALS_TEXT}])
    _, sent = issue_link(course=ipt, instruments=["gad7"], by=therapist, session=session)
    submit(sent, client=CLIENT, answers={"gad7": GAD7_ANSWERS})
    _, unsent = issue_link(course=ipt, instruments=["phq9"], by=therapist)
    save_answers(unsent, client=CLIENT, instrument="phq9", answers=PHQ9_ITEM9_ONE)
    for alert in RiskAlert.objects.filter(course__patient=patient, acknowledged_at__isnull=True):
        acknowledge_alert(alert=alert, by=therapist, note=DRAFT_ALERT_NOTE)
    end_course(course=ipt, reason="completed", by=therapist)
    DBTaskResult.objects.create(
        task_path="interpersonal.web.questionnaires.tasks.send_questionnaire", args_kwargs={"args": [session.pk], "kwargs": {}},
        status="SUCCESSFUL", backend_name="default", queue_name="default", run_after=timezone.now(),
        finished_at=timezone.now(), return_value="sent", exception_class_path="", traceback="",
    )
    log_supervision_of(dit, therapist)  # supervision.DiscussedCase
    patient.refresh_from_db()
    return patient


def _dump() -> dict[str, list[str]]:
    """Every table in the database, every column cast to text in SQL: {table: [cells]}."""
    qn = connection.ops.quote_name
    out = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            columns = [c.name for c in connection.introspection.get_table_description(cursor, table)]
            cursor.execute(f"SELECT {', '.join(f'CAST({qn(c)} AS TEXT)' for c in columns)} FROM {qn(table)}")  # noqa: S608 - names from introspection
            out[table] = [cell.lower() for row in cursor.fetchall() for cell in row if cell is not None]
    return out


def _leaks(dump: dict[str, list[str]]) -> dict[str, list[str]]:
    return {value: [t for t, cells in dump.items() if any(value.lower() in c for c in cells)] for value in IDENTIFYING
            if any(value.lower() in c for cells in dump.values() for c in cells)}


def test_erasure_leaves_no_identifying_value_in_any_table(full_record, records_officer):
    # The NHS number is stored as ten digits, the phone number as E.164 (+447700900583).
    stored = set(IDENTIFYING) - {NHS, PHONE, PHONE.replace(" ", "")}
    before = _leaks(_dump())
    assert set(before) == stored, f"the fixture should store every value: missing {stored - set(before)}"

    erase_patient(full_record.pk, by=records_officer, reason=Reason.ERASURE_REQUEST, reference=REFERENCE)

    assert _leaks(_dump()) == {}


def test_erasure_deletes_every_kind_of_row_and_counts_them(full_record, records_officer):
    expected = preview(full_record.pk)

    result = erase_patient(full_record.pk, by=records_officer, reason=Reason.ERASURE_REQUEST, reference=REFERENCE)

    assert result == ErasureResult(full_record.pk, "erasure_request", expected)
    nonzero = {label for label, n in result.counts.items() if n}
    assert nonzero == {step.label for step in plan()} | {erasure.TASK_RESULTS}
    assert result.counts["courses.Course"] == 3
    assert result.counts["letters.Letter"] == 2
    assert result.counts["questionnaires.QuestionnaireLink"] == 2
    assert result.counts["formulation.IpafRevision"] == 2
    assert sum(preview(full_record.pk).values()) == 0


def test_another_patients_rows_are_all_kept(full_record, other_patient, records_officer, unrelated_therapist):
    from interpersonal.web.courses.actions import record_session
    from interpersonal.web.courses.models import Course

    record_session(course=Course.objects.get(patient=other_patient), by=unrelated_therapist, attendance=5,
                   duration_minutes=50, notes="Olive's own notes", scheduled_at=_at(3))
    theirs = {label: sorted(ids) for label, ids in erasure._ids(other_patient.pk).items()}

    erase_patient(full_record.pk, by=records_officer, reason=Reason.ERASURE_REQUEST, reference=REFERENCE)

    assert {label: sorted(ids) for label, ids in erasure._ids(other_patient.pk).items()} == theirs
    assert theirs["courses.TherapySession"]
    assert Patient.objects.filter(given_name="Olive").exists()


def test_the_audit_trail_is_kept_and_still_verifies(full_record, records_officer):
    earlier = set(AuditEvent.objects.filter(patient_id=full_record.pk).values_list("id", "hash"))
    assert len(earlier) > 20

    erase_patient(full_record.pk, by=records_officer, reason=Reason.ERASURE_REQUEST, reference=REFERENCE)

    assert chain.verify() == []
    after = set(AuditEvent.objects.filter(patient_id=full_record.pk).values_list("id", "hash"))
    assert earlier < after
    (erased,) = AuditEvent.objects.filter(type="patient.erased")
    assert (erased.target_type, erased.target_id, erased.patient_id) == ("patient", str(full_record.pk), full_record.pk)
    assert (erased.actor_username, erased.data["reason"], erased.data["reference"]) == (
        records_officer.username, "erasure_request", REFERENCE)
    assert erased.data["courses.Course"] == 3
    assert erased.data["via"] == "web"
    assert "os_user" not in erased.data
    assert erased.data["fingerprint"] == erasure.register.fingerprint(full_record.pk, full_record.created_at)
    assert all(isinstance(v, int) for k, v in erased.data.items()
               if k not in ("reason", "reference", "via", "fingerprint"))
    assert after - earlier == {(erased.id, erased.hash)}


def test_an_unacknowledged_risk_alert_refuses_every_reason(risk_alert, records_officer):
    patient = risk_alert.course.patient
    for reason in Reason.values:
        with pytest.raises(ErasureRefused, match="unacknowledged risk alert"):
            erase_patient(patient.pk, by=records_officer, reason=reason, reference=REFERENCE)
    assert Patient.objects.filter(pk=patient.pk).exists()
    assert not AuditEvent.objects.filter(type="patient.erased").exists()


def test_an_active_course_refuses_unless_entered_in_error(dit_course, records_officer):
    patient = dit_course.patient
    with pytest.raises(ErasureRefused, match="active course"):
        erase_patient(patient.pk, by=records_officer, reason=Reason.ERASURE_REQUEST, reference=REFERENCE)
    assert erasure.problems(patient, Reason.RETENTION_EXPIRED)[0].endswith(
        "(only a record entered in error can be erased during a course).")

    result = erase_patient(patient.pk, by=records_officer, reason=Reason.ENTERED_IN_ERROR, reference=REFERENCE)

    assert result.counts["courses.Course"] == 1
    assert not Patient.objects.filter(pk=patient.pk).exists()


def test_a_record_with_clinical_entries_is_never_erased_as_entered_in_error(dit_course, therapist,
                                                                             records_officer):
    """One officer choosing "entered in error" must not destroy a clinical record (sessions, measures,
    an acted-on risk alert), during the course or after it ends: that takes an erasure request
    upheld by information governance, once the course has ended."""
    from interpersonal.web.assessments.actions import acknowledge_alert, record_measurement
    from interpersonal.web.courses.actions import end_course, record_session

    session = record_session(course=dit_course, by=therapist, attendance=5, duration_minutes=50,
                             scheduled_at=timezone.now() - dt.timedelta(days=2))
    measurement = record_measurement(course=dit_course, instrument="phq9", answers=PHQ9_ITEM9_ONE, by=therapist,
                                     session=session, recorded_at=session.scheduled_at)
    acknowledge_alert(alert=measurement.risk_alert, by=therapist, note="Safety plan agreed.")
    patient = dit_course.patient

    with pytest.raises(ErasureRefused, match=r"clinical entries \(1 attended session, 1 measure, 1 risk alert\)"):
        erase_patient(patient.pk, by=records_officer, reason=Reason.ENTERED_IN_ERROR, reference=REFERENCE)
    end_course(course=dit_course, reason="completed", by=therapist)
    with pytest.raises(ErasureRefused, match="not a record entered in error"):
        erase_patient(patient.pk, by=records_officer, reason=Reason.ENTERED_IN_ERROR, reference=REFERENCE)
    assert Patient.objects.filter(pk=patient.pk).exists()

    erase_patient(patient.pk, by=records_officer, reason=Reason.ERASURE_REQUEST, reference=REFERENCE)

    assert not Patient.objects.filter(pk=patient.pk).exists()


@pytest.mark.parametrize("entry", ["note_on_a_missed_session", "task", "unsent_answers"])
def test_less_visible_clinical_entries_also_refuse_entered_in_error(entry, dit_course, therapist, records_officer):
    from interpersonal.web.courses.actions import record_session, set_task
    from interpersonal.web.courses.models import TaskCompletion
    from interpersonal.web.questionnaires.actions import issue_link, save_answers

    if entry == "note_on_a_missed_session":
        record_session(course=dit_course, by=therapist, attendance=3, notes="Did not attend; phoned, no answer.",
                       scheduled_at=timezone.now() - dt.timedelta(days=1))
        expected = "1 other session with notes"
    elif entry == "task":
        task = dit_course.definition.tasks[0]
        set_task(course=dit_course, task_id=task.id, done=True, by=therapist)
        assert TaskCompletion.objects.filter(course=dit_course).count() == 1
        expected = "1 treatment task completed"
    else:
        _, token = issue_link(course=dit_course, instruments=("phq9",), by=therapist)
        save_answers(token, client="test", instrument="phq9", answers={"1": 2})
        expected = "1 unsent questionnaire answer"

    assert any(expected in p for p in erasure.problems(dit_course.patient, Reason.ENTERED_IN_ERROR))


def test_retention_expired_is_refused_before_the_retention_date(patient, records_officer, settings):
    settings.INTERPERSONAL_RETENTION_YEARS = 1
    settings.INTERPERSONAL_RETENTION_SHORTER_THAN_NHS_CODE = True
    received = patient.referrals.get().received_on
    due_on = received.replace(year=received.year + 1)
    with pytest.raises(ErasureRefused, match="must be kept until"):
        erase_patient(patient.pk, by=records_officer, reason=Reason.RETENTION_EXPIRED, reference=REFERENCE,
                      today=due_on - dt.timedelta(days=1))

    erase_patient(patient.pk, by=records_officer, reason=Reason.RETENTION_EXPIRED, reference=REFERENCE, today=due_on)

    assert not Patient.objects.filter(pk=patient.pk).exists()


def test_a_clear_record_has_no_problems(patient):
    assert erasure.problems(patient, Reason.ERASURE_REQUEST) == []
    assert erasure.problems(patient, Reason.ENTERED_IN_ERROR) == []


@pytest.mark.parametrize("persona", ["therapist", "supervisor", "service_lead", "clinic_admin", "administrator"])
def test_only_a_records_officer_may_erase(patient, persona, request):
    with pytest.raises(PermissionDenied):
        erase_patient(patient.pk, by=request.getfixturevalue(persona), reason=Reason.ENTERED_IN_ERROR,
                      reference=REFERENCE)
    assert Patient.objects.filter(pk=patient.pk).exists()


def test_an_inactive_records_officer_may_not_erase(patient, records_officer):
    records_officer.is_active = False
    with pytest.raises(PermissionDenied):
        erase_patient(patient.pk, by=records_officer, reason=Reason.ENTERED_IN_ERROR, reference=REFERENCE)


@pytest.mark.parametrize(("reference", "message"), [
    ("", "Give the reference"), ("   ", "Give the reference"), (None, "Give the reference"),
    ("x" * 65, "65 characters long; at most 64"), ("IG-1\nIG-2", "on one line"), ("IG\t7", "on one line"),
    ("Mrs O'Brien, 12 Elm Road", "never a name or a note"), ("<script>", "starts with a letter or digit"),
    ("Pat Example", "has a number in it"), ("IG 943 476 5919", "looks like an NHS number"),
])
def test_a_bad_reference_is_refused_and_changes_nothing(patient, records_officer, reference, message):
    with pytest.raises(ValueError, match=message):
        erase_patient(patient.pk, by=records_officer, reason=Reason.ENTERED_IN_ERROR, reference=reference)
    assert Patient.objects.filter(pk=patient.pk).exists()


@pytest.mark.parametrize(("reference", "what"), [
    ("IG-7 Example", "name"), ("IG-7 pat", "name"), ("SAR 7 P{local}", "local ID"), ("SAR 7 1985-03-14", "date of birth"),
])
def test_a_reference_holding_the_patients_own_details_is_refused(patient, records_officer, reference, what):
    """The reference stays in the append-only audit trail after the record is gone."""
    with pytest.raises(ValueError, match=f"holds the patient's {what}"):
        erase_patient(patient.pk, by=records_officer, reason=Reason.ENTERED_IN_ERROR,
                      reference=reference.replace("P{local}", patient.local_id))
    assert Patient.objects.filter(pk=patient.pk).exists()
    assert not AuditEvent.objects.filter(type="patient.erased").exists()


def test_the_longest_reference_is_kept_stripped(patient, records_officer):
    erase_patient(patient.pk, by=records_officer, reason=Reason.ENTERED_IN_ERROR, reference=f"  {'R' * 63}7 ")
    assert AuditEvent.objects.get(type="patient.erased").data["reference"] == "R" * 63 + "7"


def test_an_unknown_reason_is_refused(patient, records_officer):
    with pytest.raises(ValueError, match="entered_in_error, retention_expired, erasure_request"):
        erase_patient(patient.pk, by=records_officer, reason="tidy_up", reference=REFERENCE)


def test_a_record_changed_meanwhile_is_not_erased(patient, records_officer, therapist):
    from interpersonal.web.patients.actions import update_patient

    seen = patient.version
    update_patient(patient=patient, by=therapist, expected_version=seen, phone="07700 900999")
    with pytest.raises(ErasureRefused, match="changed by someone else"):
        erase_patient(patient.pk, by=records_officer, reason=Reason.ENTERED_IN_ERROR, reference=REFERENCE,
                      expected_version=seen)
    assert Patient.objects.filter(pk=patient.pk).exists()

    erase_patient(patient.pk, by=records_officer, reason=Reason.ENTERED_IN_ERROR, reference=REFERENCE,
                  expected_version=seen + 1)
    assert not Patient.objects.filter(pk=patient.pk).exists()


def test_an_unknown_patient_is_refused(db, records_officer):
    with pytest.raises(ErasureRefused, match="no patient with id 999999"):
        erase_patient(999999, by=records_officer, reason=Reason.ENTERED_IN_ERROR, reference=REFERENCE)


def test_the_refusal_message_speaks_to_a_records_officer(risk_alert, records_officer):
    with pytest.raises(ErasureRefused) as refused:
        erase_patient(risk_alert.course.patient_id, by=records_officer, reason=Reason.ERASURE_REQUEST,
                      reference=REFERENCE)
    assert str(refused.value) == " ".join(refused.value.problems)
    assert len(refused.value.problems) == 2  # the open alert and the active course
    assert str(refused.value).startswith(f"{risk_alert.course.patient.local_id} has 1 unacknowledged risk alert: ")


# --- The plan covers every model with a path to Patient ----------------------------------------


def _reaches_patient(model: type[models.Model], seen: frozenset = frozenset()) -> bool:
    """Independently of erasure.plan(): does a chain of forward foreign keys lead to Patient?"""
    if model is Patient:
        return True
    return any(
        f.related_model not in seen and f.related_model is not model
        and _reaches_patient(f.related_model, seen | {model})
        for f in model._meta.concrete_fields if f.is_relation
    )


# Integer columns that hold a patient's id without a foreign key, kept on purpose.
KEPT_PATIENT_IDS = {"audit.AuditEvent.patient_id"}


def test_the_plan_covers_every_model_with_a_path_to_patient():
    planned = {step.model for step in plan()}
    missing = [m._meta.label for m in apps.get_models() if _reaches_patient(m) and m not in planned]
    assert not missing, f"erasure.plan() does not delete these models' rows: {missing}"
    assert {m._meta.label for m in planned} >= {
        "patients.Patient", "courses.Course", "courses.TherapySession", "courses.TaskCompletion",
        "assessments.Measurement", "assessments.RiskAlert", "questionnaires.QuestionnaireLink",
        "formulation.IpafRevision", "formulation.InventoryPerson", "formulation.TimelineEvent",
        "formulation.IptFormulation", "formulation.FocalArea", "letters.Letter", "letters.LetterRevision",
    }


def test_no_model_holds_a_patient_id_without_a_foreign_key():
    """A bare ``patient_id`` column would escape the plan's model graph."""
    bare = [f"{m._meta.label}.{f.name}" for m in apps.get_models() for f in m._meta.concrete_fields
            if not f.is_relation and (f.name == "patient" or f.name.endswith("patient_id"))]
    assert set(bare) == KEPT_PATIENT_IDS


def test_the_plan_deletes_dependents_before_what_they_point_to():
    order = [step.model for step in plan()]
    for i, model in enumerate(order):
        for f in model._meta.concrete_fields:
            if f.is_relation and f.related_model in order and f.related_model is not model:
                assert order.index(f.related_model) > i, f"{model._meta.label}.{f.name}"
    assert {s.label: s.self_references for s in plan() if s.self_references} == {
        "courses.Course": ("stepped_from",), "letters.Letter": ("supersedes",),
        "assessments.RiskAssessment": ("reviews",)}


# --- The command ------------------------------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _command(*args: str, **options) -> str:
    out = io.StringIO()
    call_command("erase_patient", *args, stdout=out, **options)
    return out.getvalue()


def _by(officer) -> list[str]:
    return ["--reason", "erasure_request", "--reference", REFERENCE, "--by", officer.username]


def test_the_command_without_yes_lists_counts_and_changes_nothing(full_record, records_officer):
    before = preview(full_record.pk)
    out = io.StringIO()
    with pytest.raises(CommandError, match="Nothing erased"):
        call_command("erase_patient", "--local-id", LOCAL_ID, *_by(records_officer), stdout=out)
    assert f"deletes {sum(before.values())} rows" in out.getvalue()
    assert "courses.Course                   3" in out.getvalue()
    assert preview(full_record.pk) == before
    assert not AuditEvent.objects.filter(type="patient.erased").exists()


def test_the_command_asks_on_a_terminal(full_record, records_officer):
    with pytest.raises(CommandError, match="Nothing erased"):
        _command("--id", str(full_record.pk), *_by(records_officer), stdin=Terminal("no\n"))
    assert Patient.objects.filter(pk=full_record.pk).exists()

    out = _command("--id", str(full_record.pk), *_by(records_officer), stdin=Terminal("yes\n"))

    assert "Type 'yes'" in out
    assert f"Erased {LOCAL_ID}" in out
    assert not Patient.objects.filter(pk=full_record.pk).exists()


def test_the_command_with_yes_erases_by_nhs_number(full_record, records_officer):
    out = _command("--nhs-number", NHS, *_by(records_officer), "--yes")
    erased = AuditEvent.objects.get(type="patient.erased")
    assert erased.data["via"] == "cli"
    assert erased.data["os_user"]  # who ran it: --by names an officer without signing them in
    assert "rows deleted" in out
    assert not Patient.objects.filter(pk=full_record.pk).exists()
    assert AuditEvent.objects.filter(type="patient.erased", patient_id=full_record.pk).count() == 1


@pytest.mark.parametrize(("which", "message"), [
    (["--id", "424242"], "no patient with id 424242"),
    (["--local-id", "P999999"], "no patient with local ID P999999"),
    (["--nhs-number", "401 023 2137"], "no patient with NHS number"),
    (["--nhs-number", "12345"], "--nhs-number: "),
])
def test_the_command_refuses_an_unknown_patient(patient, records_officer, which, message):
    with pytest.raises(CommandError, match=message):
        _command(*which, *_by(records_officer), "--yes")
    assert Patient.objects.filter(pk=patient.pk).exists()


def test_the_command_refuses_someone_who_is_not_a_records_officer(patient, therapist):
    with pytest.raises(CommandError, match="not an active records officer"):
        _command("--id", str(patient.pk), "--reason", "entered_in_error", "--reference", REFERENCE,
                 "--by", therapist.username, "--yes")
    with pytest.raises(CommandError, match="no user 'nobody'"):
        _command("--id", str(patient.pk), "--reason", "entered_in_error", "--reference", REFERENCE,
                 "--by", "nobody", "--yes")
    assert Patient.objects.filter(pk=patient.pk).exists()


def test_the_command_names_the_refusal(dit_course, records_officer):
    with pytest.raises(CommandError, match=r"Not erased\. .* active course"):
        _command("--id", str(dit_course.patient_id), *_by(records_officer), "--yes")
    with pytest.raises(CommandError, match="at most 64"):
        _command("--id", str(dit_course.patient_id), "--reason", "entered_in_error", "--reference", "x" * 70,
                 "--by", records_officer.username, "--yes")
    assert Patient.objects.filter(pk=dit_course.patient_id).exists()


def test_a_record_another_record_points_into_is_not_erased(patient, other_patient, therapist, records_officer):
    """The actions never link two patients' records; if rows do, erasing would cut into the
    other record, so it is refused and nothing changes."""
    from interpersonal.web.courses.models import Course

    mine = Course.objects.create(patient=patient, referral=patient.referrals.get(), protocol="lit", therapist=therapist,
                                 started_on=_ago(50),
                                 status=Course.Status.ENDED, ended_on=_ago(40), end_reason="stepped_up")
    theirs = other_patient.courses.get()
    Course.objects.filter(pk=theirs.pk).update(stepped_from=mine)

    with pytest.raises(ErasureRefused, match=rf"rows of another record point into it \(courses.Course {theirs.pk}\)"):
        erase_patient(patient.pk, by=records_officer, reason=Reason.ENTERED_IN_ERROR, reference=REFERENCE)

    assert Course.objects.filter(pk__in=[mine.pk, theirs.pk]).count() == 2
    assert Patient.objects.filter(pk=patient.pk).exists()


def test_a_row_added_while_erasing_refuses_and_keeps_everything(patient, therapist, records_officer, monkeypatch):
    """A row added after the rows were listed makes a PROTECT key refuse the delete: the whole
    erasure rolls back and the officer is told to try again."""
    from interpersonal.web.courses.models import Course

    course = Course.objects.create(patient=patient, referral=patient.referrals.get(), protocol="ipt", therapist=therapist,
                                   started_on=_ago(50),
                                   status=Course.Status.ENDED, ended_on=_ago(40), end_reason="completed")
    listed = erasure._ids

    def list_then_add(patient_id):
        ids = listed(patient_id)
        from interpersonal.web.courses.models import TherapySession

        TherapySession.objects.create(course=course, scheduled_at=_at(45), attendance=5)
        return ids

    monkeypatch.setattr(erasure, "_ids", list_then_add)
    with pytest.raises(ErasureRefused, match="changed while it was being erased"):
        erase_patient(patient.pk, by=records_officer, reason=Reason.ENTERED_IN_ERROR, reference=REFERENCE)

    assert Patient.objects.filter(pk=patient.pk).exists()
    assert course.sessions.count() == 0  # the added row rolled back with the rest
    assert not AuditEvent.objects.filter(type="patient.erased").exists()


def test_every_background_task_is_known_to_erasure():
    """A task's stored arguments can name a patient's row: erasure deletes the task results that
    do (``erasure.TASKS_BY_ID``). A task added later without an entry there would leave its
    results behind after an erasure; this fails first."""
    import importlib
    import pkgutil

    from django_tasks.base import Task

    import interpersonal.web

    tasks = set()
    for info in pkgutil.walk_packages(interpersonal.web.__path__, "interpersonal.web."):
        if info.name.rsplit(".", 1)[-1] == "tasks":
            module = importlib.import_module(info.name)
            tasks |= {value.module_path for value in vars(module).values() if isinstance(value, Task)}

    assert "interpersonal.web.documents.tasks.make_document" in tasks
    assert tasks == {task_path for task_path, _argument, _label in erasure.TASKS_BY_ID} | set(erasure.TASKS_WITHOUT_PATIENT)
