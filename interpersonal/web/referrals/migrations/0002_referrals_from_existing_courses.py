"""Every existing patient and course gets its referral (docs/adr/0009-the-referral-is-the-spine-of-care.md).

Before this migration a patient carried one referral date and source, and courses stood alone,
a stepped-up course linked to the one it followed (``stepped_from``). Each patient's courses,
in order of start, are grouped into pathways: a course starts a new referral unless it follows a
stepped-up (or stepped-down) course of the patient, by its link or because the pathway before it
was left open by a step change. Nothing is lost:

- the patient's referral date goes to the first of their pathways whose first course started on
  or after it (a re-referred patient's date may have been typed over with the new referral's), or
  to the last pathway, no later than its first course started (a referral date after treatment
  began is corrected to that day); every other pathway was received no later than its first
  course started: that date. Every referral repeats the patient's source. A patient with no
  course has one referral, awaiting triage, with their clinician;
- a referral whose course is active is in treatment; one whose last course stepped up or down
  with no course after it is waiting; any other is discharged on its last course's end date for
  its end reason (the NHS end code of the pathway);
- every session, measurement, risk alert and questionnaire link joins its course's referral;
  existing sessions were all recorded as treatment, and stay so (no protocol had an assessment
  phase).

Both engines; batches of patients, so a large service migrates in bounded memory.
"""

from django.db import migrations
from django.db.models import OuterRef, Subquery

BATCH = 2_000
STEPS = ("stepped_up", "stepped_down")
PROTOCOL_STEP = {"lit": 2}
"""The step of each protocol at this migration (core/protocols/definitions: only guided self-help is step 2)."""


def _pathways(courses):
    """Group a patient's courses (in order of start) into pathways, one per referral."""
    groups, group_of = [], {}
    for course in courses:
        joined = group_of.get(course.stepped_from_id)
        if joined is None and groups and groups[-1][-1].end_reason in STEPS:
            joined = groups[-1]  # a course after a step change continues that pathway
        if joined is None:
            joined = []
            groups.append(joined)
        joined.append(course)
        group_of[course.pk] = joined
    return groups


def forwards(apps, schema_editor):
    Patient = apps.get_model("patients", "Patient")
    Course = apps.get_model("courses", "Course")
    Referral = apps.get_model("referrals", "Referral")
    TherapySession = apps.get_model("courses", "TherapySession")
    Measurement = apps.get_model("assessments", "Measurement")
    RiskAlert = apps.get_model("assessments", "RiskAlert")
    QuestionnaireLink = apps.get_model("questionnaires", "QuestionnaireLink")

    last = 0
    while True:
        patients = list(Patient.objects.filter(pk__gt=last).order_by("pk")[:BATCH])
        if not patients:
            break
        last = patients[-1].pk
        courses_of = {}
        for course in Course.objects.filter(patient__in=patients).order_by("patient_id", "started_on", "id"):
            courses_of.setdefault(course.patient_id, []).append(course)
        for patient in patients:
            groups = _pathways(courses_of.get(patient.pk, []))
            if not groups:
                Referral.objects.create(
                    patient_id=patient.pk, source=patient.referral_source, received_on=patient.referral_date,
                    therapist_id=patient.therapist_id, status="awaiting_triage",
                )
                continue
            starts = [group[0].started_on for group in groups]  # in order: groups form in order of start
            carrier = next((i for i, started in enumerate(starts) if started >= patient.referral_date), len(groups) - 1)
            for i, group in enumerate(groups):
                first, final = group[0], group[-1]
                received = min(patient.referral_date, first.started_on) if i == carrier else first.started_on
                therapy, step = final.protocol, PROTOCOL_STEP.get(final.protocol, 3)
                if final.status == "active":
                    status, ended_on, end_reason = "in_treatment", None, ""
                elif final.end_reason in STEPS:  # waiting for the next step; its therapy is not chosen yet
                    status, ended_on, end_reason = "waiting", None, ""
                    therapy, step = "", 3 if final.end_reason == "stepped_up" else 2
                else:
                    status, ended_on, end_reason = "discharged", final.ended_on, final.end_reason
                referral = Referral.objects.create(
                    patient_id=patient.pk, source=patient.referral_source, received_on=received,
                    therapist_id=final.therapist_id, status=status, ended_on=ended_on, end_reason=end_reason,
                    therapy=therapy, step=step,
                )
                Course.objects.filter(pk__in=[c.pk for c in group]).update(referral_id=referral.pk)

    course_referral = Subquery(Course.objects.filter(pk=OuterRef("course_id")).values("referral_id")[:1])
    for model in (TherapySession, Measurement, RiskAlert, QuestionnaireLink):
        model.objects.filter(referral__isnull=True).update(referral_id=course_referral)


def backwards(apps, schema_editor):
    """The courses, sessions and measures keep every fact the referrals were made from."""
    for app, name in (("courses", "TherapySession"), ("assessments", "Measurement"), ("assessments", "RiskAlert"),
                      ("questionnaires", "QuestionnaireLink"), ("courses", "Course")):
        apps.get_model(app, name).objects.update(referral_id=None)
    apps.get_model("referrals", "Referral").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0001_initial"),
        ("patients", "0002_phone_numbers_e164"),
        ("courses", "0003_contacts_and_courses_in_referrals"),
        ("assessments", "0005_measures_and_alerts_in_referrals"),
        ("questionnaires", "0003_links_in_referrals"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
