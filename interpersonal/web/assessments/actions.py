"""The only writers of measurements and risk alerts (atomic, validated, audited).

A measurement and a risk alert belong to a referral, and usually to one of its courses; at
screening (by link, or in an assessment contact) they have no course (docs/screening.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from interpersonal.core import measures, risk
from interpersonal.web.assessments.models import Measurement, RiskAlert, RiskAssessment
from interpersonal.web.audit import log
from interpersonal.web.courses.access import may_acknowledge_alerts
from interpersonal.web.courses.actions import CLOCK_SKEW, _require_active, _require_clinician
from interpersonal.web.courses.models import Course, TherapySession
from interpersonal.web.outcomes import summaries as outcome_summaries
from interpersonal.web.referrals.models import Referral


def _screening_referral(referral: Referral, *, by: Any, staff: bool, session: TherapySession | None) -> Referral:
    """Lock ``referral`` for a measure recorded outside a course (screening, assessment, the
    waiting list) and check it may take one. A member of staff records only in a referral they
    may screen (referrals.screening_access.may_screen), and not once a course has started there
    (the measure belongs in the course then, where its charts read it). A patient's answers by a
    screening link are kept while the referral is open, even if a course started meanwhile."""
    from interpersonal.web.referrals.screening_access import may_screen

    if staff and not may_screen(by, referral):
        raise ValidationError("Only the referral's allocated clinician, or a clinician who triages referrals, can "
                              "record a measure at screening.")
    locked = Referral.objects.select_for_update().get(pk=referral.pk)
    if not locked.is_open:
        raise ValidationError(f"This referral was discharged on {locked.ended_on:%d %b %Y}; nothing more can be "
                              "recorded in it.")
    if staff and locked.courses.filter(status=Course.Status.ACTIVE).exists():
        raise ValidationError("This referral is in treatment: record the measure in its course.")
    if session is not None and (session.referral_id != locked.pk or session.course_id is not None):
        raise ValidationError({"session": "That contact is not an assessment contact of this referral."})
    return locked


@transaction.atomic
def record_measurement(
    *, instrument: str, answers: Mapping[str, int | None], by: Any, course: Course | None = None,
    referral: Referral | None = None, session: TherapySession | None = None,
    variants: Mapping[str, str] | None = None, recorded_at: dt.datetime | None = None,
    source: str = Measurement.Source.CLINICIAN, questionnaire_link: Any = None,
) -> Measurement:
    """Score and store one answer set, in ``course`` or, with no course, in ``referral`` (a
    screening or assessment score: ``session`` is then an assessment contact of the referral).
    A risk answer, or a risk item left unanswered, raises an alert in the same transaction."""
    if source not in Measurement.Source.values:
        raise ValidationError({"source": f"Unknown source {source!r}."})
    if source == Measurement.Source.PATIENT and questionnaire_link is None and not getattr(by, "is_authenticated", False):
        raise ValidationError({"source": "A patient's answers arrive by their questionnaire link."})
    # A member of staff records only where they may, whatever the source says.
    staff = source == Measurement.Source.CLINICIAN or getattr(by, "is_authenticated", False)
    if course is not None:
        if referral is not None and referral.pk != course.referral_id:
            raise ValidationError({"referral": "That course belongs to another referral."})
        if staff:
            _require_clinician(by, course)
        locked = Course.objects.select_for_update().get(pk=course.pk)
        _require_active(locked)
        if session is not None and session.course_id != course.pk:
            raise ValidationError({"session": "That session belongs to another course."})
        referral_id, patient_id, earliest = course.referral_id, course.patient_id, locked.started_on
        too_early = (f"The course started on {locked.started_on:%d %b %Y}; a measure in it cannot be dated earlier. "
                     "Check the date.")
    elif referral is not None:
        locked_referral = _screening_referral(referral, by=by, staff=staff, session=session)
        referral_id, patient_id, earliest = locked_referral.pk, locked_referral.patient_id, locked_referral.received_on
        too_early = (f"The referral was received on {locked_referral.received_on:%d %b %Y}; a measure in it cannot "
                     "be dated earlier. Check the date.")
    else:
        raise ValidationError("A measure belongs to a course or, at screening, to a referral.")
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
    if source != Measurement.Source.PATIENT and timezone.localdate(recorded_at) < earliest:
        # A date a clinician typed: else a slip would silently become the baseline (the first
        # score by date). A patient's answers are dated when they send them, which may be
        # before a course booked to start in a day or two: that is a real pre-treatment score.
        raise ValidationError({"recorded_at": too_early})
    m = Measurement.objects.create(
        referral_id=referral_id, course=course, session=session, instrument=inst.id, answers={k: v for k, v in answers.items() if v is not None},
        variants=variants, total=score.total, severity=score.severity or "", caseness=score.caseness,
        complete=score.complete, prorated=score.prorated, risk=list(score.risk), recorded_at=recorded_at,
        recorded_by=by if getattr(by, "is_authenticated", False) else None, source=source,
        questionnaire_link=questionnaire_link,
    )
    where = {"course_id": course.pk} if course is not None else {"referral_id": referral_id}
    log.record("measurement.recorded", actor=by, target=m, patient_id=patient_id, **where,
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
            raise_alert(course=course, referral=None if course is not None else referral, instrument=inst.id,
                        items=alert_items, by=by, measurement=m, raised_at=recorded_at)
    outcome_summaries.refresh(m.referral_id)
    return m


def raise_alert(
    *, instrument: str, items: Any, by: Any, course: Course | None = None, referral: Referral | None = None,
    measurement: Measurement | None = None, questionnaire_link: Any = None, raised_at: dt.datetime | None = None,
) -> RiskAlert:
    """Open a risk alert (in the caller's transaction) in ``course``, or at screening in
    ``referral`` with no course. The audit event names the measure, not the items or answers."""
    if course is not None:
        referral_id, patient_id, where = course.referral_id, course.patient_id, {"course_id": course.pk}
    elif referral is not None:
        referral_id, patient_id, where = referral.pk, referral.patient_id, {"referral_id": referral.pk}
    else:
        raise ValueError("a risk alert belongs to a course or a referral")
    alert = RiskAlert.objects.create(
        measurement=measurement, referral_id=referral_id, course=course, instrument=instrument, items=list(items),
        questionnaire_link=questionnaire_link, raised_at=raised_at or timezone.now(),
    )
    log.record("risk_alert.raised", actor=by, target=alert, patient_id=patient_id, **where,
               instrument=instrument, before_sending=measurement is None)
    return alert


NOTE_MAX = 2000


@transaction.atomic
def acknowledge_alert(*, alert: RiskAlert, by: Any, note: str) -> RiskAlert:
    """A clinician responsible for the case acknowledges the alert, saying what was done."""
    course = alert.course
    if course is not None:
        if not may_acknowledge_alerts(by, course):
            raise ValidationError("Only the course's therapist or their supervisor can acknowledge this alert.")
        patient_id, where = course.patient_id, {"course_id": course.pk}
    else:  # raised at screening, before any course
        from interpersonal.web.referrals.screening_access import may_acknowledge_screening_alerts

        if not may_acknowledge_screening_alerts(by, alert.referral):
            raise ValidationError("Only the referral's clinicians (or, before treatment, a clinician who triages) "
                                  "can acknowledge this alert.")
        patient_id, where = alert.referral.patient_id, {"referral_id": alert.referral_id}
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
    log.record("risk_alert.acknowledged", actor=by, target=alert, patient_id=patient_id, **where)
    return alert


REVIEW_AHEAD = dt.timedelta(days=366)
"""The latest a review may be set (bounds.AHEAD): a risk assessment is reviewed within a year."""


def _answers(form: risk.RiskForm, given: Mapping[str, Any], prefix: str) -> dict[str, str]:
    """``given`` checked against ``form``: every answer a string within its field's bound, a
    choice one of its choices, each required field answered, no field the form does not have.
    Errors name the form field (``prefix`` + field id)."""
    errors: dict[str, str] = {}
    if unknown := sorted(set(given) - {f.id for f in form.fields}):
        raise ValidationError(f"{form.name} has no field {unknown[0]!r}: reload the page.")
    out: dict[str, str] = {}
    for f in form.fields:
        value = given.get(f.id, "")
        if not isinstance(value, str):
            errors[prefix + f.id] = "Give text."
            continue
        value = value.strip()
        if "\x00" in value:
            errors[prefix + f.id] = "Null characters are not allowed."
        elif f.required and not value:
            errors[prefix + f.id] = f"{f.label}: this is required."
        elif f.kind == "choice" and value and value not in {c.id for c in f.choices}:
            errors[prefix + f.id] = f"Choose one of {', '.join(c.label for c in f.choices)}."
        elif len(value) > f.max_length:
            errors[prefix + f.id] = f"Keep it under {f.max_length} characters (it has {len(value)})."
        out[f.id] = value
    if errors:
        raise ValidationError(errors)
    return out


@transaction.atomic
def record_risk_assessment(
    *, course: Course, by: Any, assessment: Mapping[str, Any], safety_plan: Mapping[str, Any],
    review_due: dt.date, reviews: RiskAssessment | int | None, alert: RiskAlert | None = None,
    forms: risk.RiskForms | None = None,
) -> RiskAssessment:
    """Record the course's risk assessment and safety plan, or review the current one.

    ``reviews`` is the version the clinician read (None for the first): if another version was
    recorded since, the write is refused (nothing saved) so that no one overwrites a review they
    have not seen. The forms in force (core.risk) are stored with the answers. ``alert``, an
    alert of this course, is the one the assessment was made from."""
    _require_clinician(by, course)
    forms = forms or risk.current()
    locked = Course.objects.select_for_update().get(pk=course.pk)
    open_alert = RiskAlert.objects.filter(course=locked, acknowledged_at__isnull=True).exists()
    if not locked.is_active and not open_alert:
        raise ValidationError("This course has ended: record a risk assessment in the patient's current course.")
    current = RiskAssessment.objects.filter(course=locked).order_by("-number").first()
    reviews_id = reviews.pk if isinstance(reviews, RiskAssessment) else reviews
    if (current.pk if current is not None else None) != (reviews_id or None):
        if current is None:
            raise ValidationError("The assessment you are reviewing is not this course's: reload the page.")
        raise ValidationError(
            f"{current.recorded_by.display_name} recorded a risk assessment on "
            f"{timezone.localtime(current.recorded_at):%d %b %Y at %H:%M} after you opened this form. Nothing was "
            "saved: read theirs, then review it.")
    if alert is not None and alert.course_id != locked.pk:
        raise ValidationError({"alert": "That alert is not this course's."})
    errors: dict[str, Any] = {}
    try:
        answers = _answers(forms.assessment, assessment, "a_")
    except ValidationError as exc:
        errors.update(exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages})
    try:
        plan = _answers(forms.safety_plan, safety_plan, "p_")
    except ValidationError as exc:
        errors.update(exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages})
    today = timezone.localdate()
    if not isinstance(review_due, dt.date) or review_due < today:
        errors["review_due"] = "Give a review date from today on."
    elif review_due > today + REVIEW_AHEAD:
        errors["review_due"] = "Give a review date within a year."
    if errors:
        raise ValidationError(errors)
    level = forms.assessment.level
    record = RiskAssessment.objects.create(
        referral_id=locked.referral_id, course=locked, number=(current.number + 1) if current else 1, reviews=current,
        alert=alert, level=answers[level.id], level_label=level.choice_label(answers[level.id]),
        assessment_fields=forms.assessment.snapshot(), assessment=answers,
        safety_plan_fields=forms.safety_plan.snapshot(), safety_plan=plan, review_due=review_due,
        recorded_at=timezone.now(), recorded_by=by,
    )
    log.record("risk_assessment.recorded", actor=by, target=record, patient_id=locked.patient_id,
               course_id=locked.pk, number=record.number, reviews_id=current.pk if current else None,
               alert_id=alert.pk if alert is not None else None, level=record.level)
    return record
