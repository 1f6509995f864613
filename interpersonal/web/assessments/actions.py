"""The only writers of measurements and risk alerts (atomic, validated, audited)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from interpersonal.core import measures
from interpersonal.web.assessments.models import Measurement, RiskAlert
from interpersonal.web.audit import log
from interpersonal.web.courses.access import may_acknowledge_alerts
from interpersonal.web.courses.actions import CLOCK_SKEW, _require_active, _require_clinician
from interpersonal.web.courses.models import Course, TherapySession
from interpersonal.web.outcomes import summaries as outcome_summaries


@transaction.atomic
def record_measurement(
    *, course: Course, instrument: str, answers: Mapping[str, int | None], by: Any,
    session: TherapySession | None = None, variants: Mapping[str, str] | None = None,
    recorded_at: dt.datetime | None = None, source: str = Measurement.Source.CLINICIAN,
    questionnaire_link: Any = None,
) -> Measurement:
    """Score and store one answer set; a risk answer, or a risk item left unanswered, raises an
    alert in the same transaction."""
    if source not in Measurement.Source.values:
        raise ValidationError({"source": f"Unknown source {source!r}."})
    if source == Measurement.Source.PATIENT and questionnaire_link is None and not getattr(by, "is_authenticated", False):
        raise ValidationError({"source": "A patient's answers arrive by their questionnaire link."})
    if source == Measurement.Source.CLINICIAN or getattr(by, "is_authenticated", False):
        # A member of staff records only in their own course, whatever the source says.
        _require_clinician(by, course)
    locked = Course.objects.select_for_update().get(pk=course.pk)
    _require_active(locked)
    if session is not None and session.course_id != course.pk:
        raise ValidationError({"session": "That session belongs to another course."})
    try:
        inst = measures.get(instrument)
        score = measures.score(instrument, answers)
    except measures.UnknownInstrument:
        raise ValidationError({"instrument": f"Unknown measure {instrument!r}."}) from None
    except measures.InvalidAnswers as exc:
        raise ValidationError({f"item_{exc.item}": str(exc)}) from None
    if score.answered == 0 and not score.risk:
        raise ValidationError("No answers were given.")
    variants = dict(variants or {})
    for item_id, variant in variants.items():
        item = next((i for i in inst.items if i.id == item_id), None)
        if item is None or variant not in {v.id for v in item.variants}:
            raise ValidationError({f"item_{item_id}": f"{variant!r} is not a way of rating item {item_id}."})
    recorded_at = recorded_at or timezone.now()
    if recorded_at > timezone.now() + CLOCK_SKEW:
        raise ValidationError({"recorded_at": "A measure cannot be dated in the future."})
    if source != Measurement.Source.PATIENT and timezone.localdate(recorded_at) < locked.started_on:
        # A date a clinician typed: else a slip would silently become the course's baseline (its
        # first score by date). A patient's answers are dated when they send them, which may be
        # before a course booked to start in a day or two: that is a real pre-treatment score.
        raise ValidationError({"recorded_at": f"The course started on {locked.started_on:%d %b %Y}; a measure in it "
                                              "cannot be dated earlier. Check the date."})
    m = Measurement.objects.create(
        referral_id=course.referral_id, course=course, session=session, instrument=inst.id, answers={k: v for k, v in answers.items() if v is not None},
        variants=variants, total=score.total, severity=score.severity or "", caseness=score.caseness,
        complete=score.complete, prorated=score.prorated, risk=list(score.risk), recorded_at=recorded_at,
        recorded_by=by if getattr(by, "is_authenticated", False) else None, source=source,
        questionnaire_link=questionnaire_link,
    )
    log.record("measurement.recorded", actor=by, target=m, patient_id=course.patient_id, course_id=course.pk,
               instrument=inst.id, source=source)
    # A risk item left unanswered is unknown risk, not "no risk": it raises an alert too, so that
    # someone asks about it and acknowledges what they found, as for a risk answer.
    alert_items = [*score.risk, *score.risk_unanswered]
    if alert_items:
        early = None
        if questionnaire_link is not None:
            # Raised when the patient saved the answer (questionnaires.actions.save_answers): attach it.
            early = RiskAlert.objects.filter(questionnaire_link=questionnaire_link, instrument=inst.id,
                                             measurement__isnull=True).first()
        if early is not None:
            RiskAlert.objects.filter(pk=early.pk).update(measurement=m, items=alert_items)
        else:
            raise_alert(course=course, instrument=inst.id, items=alert_items, by=by, measurement=m, raised_at=recorded_at)
    outcome_summaries.refresh(m.referral_id)
    return m


def raise_alert(
    *, course: Course, instrument: str, items: Any, by: Any, measurement: Measurement | None = None,
    questionnaire_link: Any = None, raised_at: dt.datetime | None = None,
) -> RiskAlert:
    """Open a risk alert (in the caller's transaction). The audit event names the measure, not
    the items or answers."""
    alert = RiskAlert.objects.create(
        measurement=measurement, referral_id=course.referral_id, course=course, instrument=instrument, items=list(items),
        questionnaire_link=questionnaire_link, raised_at=raised_at or timezone.now(),
    )
    log.record("risk_alert.raised", actor=by, target=alert, patient_id=course.patient_id, course_id=course.pk,
               instrument=instrument, before_sending=measurement is None)
    return alert


NOTE_MAX = 2000


@transaction.atomic
def acknowledge_alert(*, alert: RiskAlert, by: Any, note: str) -> RiskAlert:
    """A clinician responsible for the case acknowledges the alert, saying what was done."""
    course = alert.course
    if not may_acknowledge_alerts(by, course):
        raise ValidationError("Only the course's therapist or their supervisor can acknowledge this alert.")
    note = (note or "").strip()
    if len(note) < 3:
        raise ValidationError({"note": "Say what was done about it (a note is required)."})
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": f"Keep the note under {NOTE_MAX} characters."})
    if "\x00" in note:  # as Django's form fields refuse it: PostgreSQL cannot store it (a 500)
        raise ValidationError({"note": "Null characters are not allowed."})
    updated = RiskAlert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
        acknowledged_at=timezone.now(), acknowledged_by=by, note=note
    )
    if not updated:
        raise ValidationError("This alert has already been acknowledged.")
    alert.refresh_from_db()
    log.record("risk_alert.acknowledged", actor=by, target=alert, patient_id=course.patient_id, course_id=course.pk)
    return alert
