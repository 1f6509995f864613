"""The only writers of courses, sessions and phase tasks (atomic, validated, audited)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from interpersonal.core import protocols
from interpersonal.core.codes import Attendance, EndReason, Medium
from interpersonal.web import bounds
from interpersonal.web.accounts.roles import Permission, has_permission
from interpersonal.web.assessments.models import LeftOpen, RiskAlert
from interpersonal.web.audit import log
from interpersonal.web.courses.models import ATTENDED, Course, TaskCompletion, TherapySession
from interpersonal.web.outcomes import summaries as outcome_summaries
from interpersonal.web.referrals import actions as referrals
from interpersonal.web.referrals.models import Referral

FUTURE_LIMIT = dt.timedelta(days=366)
"""How far ahead a session may be booked."""
CLOCK_SKEW = dt.timedelta(minutes=15)
"""How far ahead of now an attended session may be dated (devices' clocks differ)."""


def _require_active(course: Course) -> None:
    if not course.is_active:
        raise ValidationError(f"This course ended on {course.ended_on:%d %b %Y}; nothing more can be recorded in it.")


def _require_clinician(user: Any, course: Course | None = None) -> None:
    if not has_permission(user, Permission.HOLD_CASELOAD):
        raise ValidationError("Only clinicians with a caseload can do this.")
    if course is not None and course.therapist_id != user.pk:
        raise ValidationError("Only the course's therapist can change it.")


@transaction.atomic
def start_course(
    *, patient: Any, protocol: str, therapist: Any, by: Any,
    planned_sessions: int | None = None, started_on: dt.date | None = None, stepped_from: Course | None = None,
    referral: Referral | None = None,
) -> Course:
    """Start a course as a step of ``referral`` (by default the patient's open referral; a
    stepped-up course continues the referral of the course it follows)."""
    _require_clinician(by)
    try:
        definition = protocols.get(protocol)
    except protocols.UnknownProtocol:
        raise ValidationError({"protocol": f"Unknown protocol {protocol!r}."}) from None
    if not has_permission(therapist, Permission.HOLD_CASELOAD):
        raise ValidationError({"therapist": "The therapist must be a clinician with a caseload."})
    if planned_sessions is None:
        planned_sessions = definition.default_sessions
    if planned_sessions is not None or not definition.open_ended:
        try:
            definition.phase_ranges(planned_sessions)  # validates the number against the protocol
        except (protocols.ProtocolError, TypeError) as exc:
            raise ValidationError({"planned_sessions": str(exc)}) from None
    started_on = started_on or timezone.localdate()
    if started_on > timezone.localdate() + FUTURE_LIMIT:
        raise ValidationError({"started_on": "A course cannot start more than a year ahead."})
    if bounds.outside(bounds.CLINICAL, started_on):
        raise ValidationError({"started_on": bounds.CLINICAL.message})
    if Course.objects.filter(patient=patient, status=Course.Status.ACTIVE).exists():
        raise ValidationError("This patient already has an active course; end it (or step up) first.")
    if stepped_from is not None and (
        stepped_from.patient_id != patient.pk or stepped_from.end_reason != EndReason.STEPPED_UP.value
    ):
        raise ValidationError("A course can only follow one of the same patient's that ended by stepping up.")
    if referral is None:
        referral = stepped_from.referral if stepped_from is not None else referrals.open_referral_of(patient)
    if referral is None or referral.patient_id != patient.pk:
        raise ValidationError("This patient has no open referral: record the referral first, then start the course.")
    if stepped_from is not None and stepped_from.referral_id != referral.pk:
        raise ValidationError("A stepped-up course continues the referral of the course it follows.")
    if started_on < referral.received_on:
        raise ValidationError({"started_on": f"The referral was received on {referral.received_on:%d %b %Y}; "
                                             "a course cannot start before it."})
    course = Course.objects.create(
        patient=patient, referral=referral, protocol=definition.id, therapist=therapist,
        planned_sessions=planned_sessions, started_on=started_on, stepped_from=stepped_from,
    )
    log.record("course.started", actor=by, target=course, patient_id=patient.pk, protocol=definition.id,
               therapist_id=therapist.pk, stepped_from=stepped_from.pk if stepped_from else None,
               referral_id=referral.pk)
    referrals.course_started(course, by=by)
    outcome_summaries.refresh(course.referral_id)
    return course


def _alerts_decision(
    course: Course, *, by: Any, notes: Mapping[int, str] | None, left_open: str | None, seen: Collection[int] | None,
) -> dict[str, Any]:
    """Apply the clinician's decision about the course's open risk alerts; what to audit.

    Ending a course with alerts open, or stepping it up, needs an explicit decision:
    acknowledge each one here (``notes``: alert id → what was done, through
    assessments.actions.acknowledge_alert), or leave them open for a coded reason
    (``left_open``, a :class:`~interpersonal.web.assessments.models.LeftOpen`, with ``seen``:
    the alert ids the clinician was shown), which is kept on each alert (who, when, why) for
    the clinicians who will see it. Either way the alerts decided on must be exactly those open now."""
    from interpersonal.web.assessments.actions import acknowledge_alert  # assessments.actions imports this module

    open_alerts = {a.pk: a for a in RiskAlert.objects.select_for_update(of=("self",))
                   .filter(course=course, acknowledged_at__isnull=True)
                   .select_related("course__therapist").order_by("raised_at", "id")}
    if not open_alerts:
        return {}
    n = len(open_alerts)
    if notes is None and left_open is None:
        raise ValidationError({"alerts": f"This course has {n} open risk alert{'' if n == 1 else 's'}. Acknowledge "
                                         f"{'it' if n == 1 else 'each one'}, saying what was done, or choose why "
                                         f"{'it stays' if n == 1 else 'they stay'} open."})
    if notes is not None and left_open is not None:
        raise ValidationError({"alerts": "Either acknowledge the open risk alerts or leave them open, not both."})
    shown = set(notes) if notes is not None else set(seen or ())
    if shown != set(open_alerts):
        raise ValidationError({"alerts": "The open risk alerts changed while you were on this page (one was raised "
                                         "or acknowledged). Nothing was saved: review them below and try again."})
    ids = sorted(open_alerts)
    if left_open is not None:
        try:
            code = LeftOpen(left_open)
        except ValueError:
            raise ValidationError({"alerts_left_open": "Choose why the risk alerts stay open."}) from None
        RiskAlert.objects.filter(pk__in=ids).update(left_open_reason=code.value, left_open_by=by,
                                                    left_open_at=timezone.now())
        return {"open_alert_ids": ids, "open_alerts_decision": "left_open", "open_alerts_left_open_reason": code.value}
    errors: dict[str, list[str]] = {}
    for pk, alert in open_alerts.items():
        try:
            acknowledge_alert(alert=alert, by=by, note=(notes or {}).get(pk, ""))
        except ValidationError as exc:
            errors[f"note_{pk}"] = exc.messages
    if errors:
        raise ValidationError(errors)  # the whole ending, acknowledgements included, is rolled back
    return {"open_alert_ids": ids, "open_alerts_decision": "acknowledged"}


@transaction.atomic
def end_course(
    *, course: Course, reason: str, by: Any, ended_on: dt.date | None = None,
    alert_notes: Mapping[int, str] | None = None, alerts_left_open: str | None = None,
    alerts_seen: Collection[int] | None = None,
) -> Course:
    """End an active course, for any reason (stepping up included). Open risk alerts need an
    explicit decision (see :func:`_alerts_decision`); alerts left open stay on the caseload
    and the patient's page until acknowledged."""
    _require_clinician(by, course)
    locked = Course.objects.select_for_update().get(pk=course.pk)
    _require_active(locked)
    try:
        end_reason = EndReason(reason)
        if not end_reason.ends_course:
            raise ValueError(reason)
    except ValueError:
        raise ValidationError({"reason": "Choose an end reason: "
                                         f"{', '.join(r.label for r in EndReason if r.ends_course)}."}) from None
    ended_on = ended_on or timezone.localdate()
    if ended_on < locked.started_on or ended_on > timezone.localdate():
        raise ValidationError({"ended_on": "The end date must be between the start of the course and today."})
    decision = _alerts_decision(locked, by=by, notes=alert_notes, left_open=alerts_left_open, seen=alerts_seen)
    Course.objects.filter(pk=locked.pk).update(
        status=Course.Status.ENDED, ended_on=ended_on, end_reason=end_reason.value,
        version=locked.version + 1, updated_at=timezone.now(),
    )
    course.refresh_from_db()
    log.record("course.ended", actor=by, target=course, patient_id=course.patient_id, reason=end_reason.value,
               nhs_end_code=end_reason.nhs_code, **decision)
    referrals.course_ended(course, by=by)
    from interpersonal.web.questionnaires.actions import close_links_of_course  # it imports this module

    close_links_of_course(course=course, by=by)
    outcome_summaries.refresh(course.referral_id)
    return course


@transaction.atomic
def step_up(
    *, course: Course, protocol: str, therapist: Any, by: Any,
    planned_sessions: int | None = None, on: dt.date | None = None,
    alert_notes: Mapping[int, str] | None = None, alerts_left_open: str | None = None,
    alerts_seen: Collection[int] | None = None,
) -> Course:
    """End a low-intensity course as 'stepped up' and start the high-intensity one; both stay
    in the patient's history, linked. Open risk alerts need the same explicit decision as
    ending (:func:`end_course`); alerts left open stay with the old course, on the caseload."""
    try:
        target = protocols.get(protocol)
    except protocols.UnknownProtocol:
        raise ValidationError({"protocol": f"Unknown protocol {protocol!r}."}) from None
    if target.step <= course.definition.step:
        raise ValidationError({"protocol": f"Stepping up goes from step {course.definition.step} to a higher step."})
    end_course(course=course, reason=EndReason.STEPPED_UP.value, by=by, ended_on=on, alert_notes=alert_notes,
               alerts_left_open=alerts_left_open, alerts_seen=alerts_seen)
    return start_course(patient=course.patient, protocol=protocol, therapist=therapist, by=by,
                        planned_sessions=planned_sessions, stepped_from=course, started_on=on)


def _check_session_time(course: Course, scheduled_at: dt.datetime, attendance: int | None) -> None:
    if timezone.is_naive(scheduled_at):
        raise ValidationError({"scheduled_at": "Give a date and time with a time zone."})
    now = timezone.now()
    if timezone.localdate(scheduled_at) < course.started_on:
        raise ValidationError({"scheduled_at": f"The course started on {course.started_on:%d %b %Y}; a session cannot be earlier."})
    if attendance is not None and scheduled_at > now + CLOCK_SKEW:
        raise ValidationError({"scheduled_at": "Attendance can only be recorded for a session that has happened."})
    if scheduled_at > now + FUTURE_LIMIT:
        raise ValidationError({"scheduled_at": "A session cannot be booked more than a year ahead."})


def set_treatment(course: Course) -> None:
    """Set whether each session of ``course`` is treatment, from the protocol phase of its
    position: the attended sessions before it (in date order) plus one, as ``phase_for``
    counts. A session in a phase marked ``treatment = false`` (assessment) is not treatment and
    does not count towards a finished course (DOMAIN.md §4, §6). Never set from the UI; run
    after every change of a session's date or attendance, so that a session recorded out of
    order moves the later ones. A course holds tens of sessions: one read, at most two updates."""
    definition = course.definition
    rows = TherapySession.objects.filter(course=course).order_by("scheduled_at", "id").values_list(
        "pk", "attendance", "treatment")
    change: dict[bool, list[int]] = {True: [], False: []}
    attended_before = 0
    for pk, attendance, treatment in rows:
        try:
            wanted = definition.is_treatment(attended_before + 1, course.planned_sessions)
        except protocols.ProtocolError:  # a course outside its protocol's range: as it always counted
            wanted = True
        if wanted != treatment:
            change[wanted].append(pk)
        if attendance in ATTENDED:
            attended_before += 1
    for value, pks in change.items():
        if pks:
            TherapySession.objects.filter(pk__in=pks).update(treatment=value)


def booked_on_the_day(course: Course, at: dt.datetime) -> TherapySession | None:
    """The course's booked appointment (no attendance yet) on ``at``'s day in the service's time
    zone, the nearest to ``at`` if there are several; locked for the caller's transaction."""
    day = timezone.localdate(at)
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_current_timezone())
    booked = list(TherapySession.objects.select_for_update()
                  .filter(course=course, attendance__isnull=True, scheduled_at__gte=start,
                          scheduled_at__lt=start + dt.timedelta(days=1, hours=1))
                  .order_by("scheduled_at", "id"))
    booked = [b for b in booked if timezone.localdate(b.scheduled_at) == day]  # a 25-hour day at the clock change
    return min(booked, key=lambda b: abs(b.scheduled_at - at), default=None)


@transaction.atomic
def record_session(
    *, course: Course, by: Any, scheduled_at: dt.datetime, attendance: int | None,
    duration_minutes: int | None = None, medium: str = Medium.FACE_TO_FACE.value,
    notes: str = "", home_practice: str = "",
) -> TherapySession:
    """Book a session (attendance None) or record one that has happened. Whether it is
    treatment follows from the protocol (:func:`set_treatment`).

    Recording a session that was booked completes that booking, never adds a second row: the
    course's booked appointment (no attendance yet) on the same day, the nearest in time if there
    are several, takes the attendance and the details given — and keeps what already hangs from
    it (the questionnaire link sent before it and the answers to it)."""
    _require_clinician(by, course)
    _require_active(Course.objects.select_for_update().get(pk=course.pk))
    if attendance is not None and attendance not in {a.value for a in Attendance}:
        raise ValidationError({"attendance": "Choose an NHS Talking Therapies attendance code."})
    if medium not in {m.value for m in Medium}:
        raise ValidationError({"medium": "Choose face to face, telephone or video."})
    if duration_minutes is not None and not 1 <= duration_minutes <= 240:
        raise ValidationError({"duration_minutes": "Give a duration between 1 and 240 minutes."})
    _check_session_time(course, scheduled_at, attendance)
    booking = booked_on_the_day(course, scheduled_at) if attendance is not None else None
    values = {"scheduled_at": scheduled_at, "attendance": attendance, "duration_minutes": duration_minutes,
              "medium": medium, "notes": notes.strip(), "home_practice": home_practice.strip(), "recorded_by": by}
    if booking is not None:
        TherapySession.objects.filter(pk=booking.pk).update(**values)
        session = booking
    else:
        session = TherapySession.objects.create(referral_id=course.referral_id, course=course, **values)
    set_treatment(course)
    session.refresh_from_db()
    log.record("session.recorded", actor=by, target=session, patient_id=course.patient_id, course_id=course.pk,
               attendance=attendance, treatment=session.treatment,
               **({"completed_booking": True} if booking is not None else {}))
    outcome_summaries.refresh(session.referral_id)
    return session


@transaction.atomic
def record_attendance(*, session: TherapySession, attendance: int, by: Any, duration_minutes: int | None = None) -> TherapySession:
    """Record what happened at a booked session of a course."""
    course = session.course
    if course is None:
        raise ValidationError("This is an assessment contact of the referral, not a session of a course.")
    _require_clinician(by, course)
    _require_active(Course.objects.select_for_update().get(pk=course.pk))
    if attendance not in {a.value for a in Attendance}:
        raise ValidationError({"attendance": "Choose an NHS Talking Therapies attendance code."})
    _check_session_time(course, session.scheduled_at, attendance)
    # A new version: a correction page opened before this is refused, never overwrites it (courses.corrections).
    TherapySession.objects.filter(pk=session.pk).update(attendance=attendance, duration_minutes=duration_minutes,
                                                        recorded_by=by, version=F("version") + 1)
    set_treatment(course)
    session.refresh_from_db()
    log.record("session.attendance_recorded", actor=by, target=session, patient_id=course.patient_id,
               course_id=course.pk, attendance=attendance)
    outcome_summaries.refresh(session.referral_id)
    return session


@transaction.atomic
def set_task(*, course: Course, task_id: str, done: bool, by: Any) -> None:
    """Tick (or untick) a phase task of the course's protocol."""
    _require_clinician(by, course)
    _require_active(course)
    try:
        course.definition.task(task_id)
    except protocols.UnknownTask:
        raise ValidationError({"task": f"{task_id!r} is not a task of {course.definition.name}."}) from None
    if done:
        _, created = TaskCompletion.objects.get_or_create(
            course=course, task_id=task_id, defaults={"completed_on": timezone.localdate(), "completed_by": by}
        )
    else:
        created = bool(TaskCompletion.objects.filter(course=course, task_id=task_id).delete()[0])
    if created:
        log.record("course.task_done" if done else "course.task_undone", actor=by, target=course,
                   patient_id=course.patient_id, task=task_id)
