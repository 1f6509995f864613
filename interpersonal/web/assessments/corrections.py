"""The only writers of corrections to a course's measures (atomic, validated, audited).

A recorded measure's answers can be corrected, or the measure deleted as entered in error, by
the course's therapist only, always with a reason. The earlier answers and scores are kept
(:class:`~interpersonal.web.assessments.models.MeasurementCorrection`); a deleted measure keeps
its row, out of every chart, total and outcome. The corrected answers are rescored by the one
engine (``interpersonal.core.measures``), and risk follows the correction without ever hiding it:

* corrected answers that now carry a risk answer, or leave a risk item unanswered, raise an
  alert (or reopen the measure's acknowledged alert when the risk answers changed, the earlier
  acknowledgement kept in the correction's history);
* an alert whose measure was corrected to no risk, or deleted, stays open until a clinician
  acknowledges it; it says when its measure was corrected (``RiskAlert.measurement_corrected_at``).

The referral's outcome summary is refreshed in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from interpersonal.core import measures
from interpersonal.web.assessments.actions import raise_alert
from interpersonal.web.assessments.models import Measurement, MeasurementCorrection, RiskAlert
from interpersonal.web.audit import log
from interpersonal.web.courses.actions import _require_clinician
from interpersonal.web.courses.corrections import STALE, as_json, clean_reason
from interpersonal.web.courses.models import Course
from interpersonal.web.outcomes import summaries as outcome_summaries

SCORE_FIELDS = ("answers", "variants", "total", "severity", "caseness", "complete", "prorated", "risk")
"""What a correction of a measure replaces (and what its history keeps)."""


def _locked(measurement: Measurement, by: Any, expected_version: int) -> tuple[Measurement, Course]:
    course = measurement.course
    if course is None:
        raise ValidationError("This measure was recorded at screening, outside a course: it is corrected from the "
                              "referral, not here.")
    _require_clinician(by, course)
    locked = Measurement.all_rows.select_for_update().get(pk=measurement.pk)
    if locked.entered_in_error_at is not None or locked.version != expected_version:
        raise ValidationError(STALE.format(what="measure"))
    return locked, course


def _previous(m: Measurement, alert: RiskAlert | None) -> dict[str, Any]:
    previous = {f: as_json(getattr(m, f)) for f in SCORE_FIELDS}
    if alert is not None:
        previous["alert"] = {"id": alert.pk, "items": alert.items, "open": alert.open,
                             "acknowledged_at": as_json(alert.acknowledged_at),
                             "acknowledged_by": alert.acknowledged_by_id, "note": alert.note}
    return previous


def _risk_answers(instrument: measures.Instrument, answers: Mapping[str, Any]) -> dict[str, Any]:
    return {r.item: answers.get(r.item) for r in instrument.risk}


@transaction.atomic
def correct_measurement(
    *, measurement: Measurement, by: Any, expected_version: int, reason: str,
    answers: Mapping[str, int | None], variants: Mapping[str, str] | None = None,
) -> Measurement:
    """Correct a measure's answers: rescored, risk re-evaluated, the earlier values kept."""
    locked, course = _locked(measurement, by, expected_version)
    reason = clean_reason(reason)
    try:
        inst = measures.get(locked.instrument)
        score = measures.score(locked.instrument, answers)
    except measures.UnknownInstrument:
        raise ValidationError(f"The measure {locked.instrument!r} is no longer defined; it cannot be rescored.") from None
    except measures.InvalidAnswers as exc:
        raise ValidationError({f"item_{exc.item}": str(exc)}) from None
    if score.answered == 0 and not score.risk:
        raise ValidationError("No answers were given. To remove the measure, delete it as entered in error.")
    variants = dict(locked.variants if variants is None else variants)
    for item_id, variant in variants.items():
        item = next((i for i in inst.items if i.id == item_id), None)
        if item is None or variant not in {v.id for v in item.variants}:
            raise ValidationError({f"item_{item_id}": f"{variant!r} is not a way of rating item {item_id}."})
    given = {k: v for k, v in answers.items() if v is not None}
    if given == locked.answers and variants == locked.variants:
        raise ValidationError("Nothing was changed: correct an answer, or cancel.")
    alert = RiskAlert.objects.select_for_update().filter(measurement=locked).first()
    now = timezone.now()
    MeasurementCorrection.objects.create(
        measurement=locked, kind=MeasurementCorrection.Kind.CORRECTED, previous=_previous(locked, alert),
        reason=reason, version=locked.version, by=by, at=now,
    )
    Measurement.all_rows.filter(pk=locked.pk).update(
        version=locked.version + 1, answers=given, variants=variants, total=score.total,
        severity=score.severity or "", caseness=score.caseness, complete=score.complete, prorated=score.prorated,
        risk=list(score.risk),
    )
    log.record("measurement.corrected", actor=by, target=locked, patient_id=course.patient_id, course_id=course.pk,
               instrument=inst.id, version=locked.version + 1)
    alert_items = [*score.risk, *score.risk_unanswered]
    risk_changed = _risk_answers(inst, given) != _risk_answers(inst, locked.answers)
    where = {"patient_id": course.patient_id, "course_id": course.pk}
    if alert is None:
        if alert_items:  # the correction raises risk that was not there before
            raise_alert(course=course, instrument=inst.id, items=alert_items, by=by, measurement=locked, raised_at=now)
    elif alert.open:
        # Never closed by a correction: a clinician acknowledges it, seeing what changed.
        items = [*alert.items, *(i for i in alert_items if i not in alert.items)]
        RiskAlert.objects.filter(pk=alert.pk).update(items=items, measurement_corrected_at=now)
        log.record("risk_alert.measurement_corrected", actor=by, target=alert, **where, now_risk=bool(alert_items))
    elif alert_items and (risk_changed or set(alert_items) - set(alert.items)):
        # Acknowledged, and the corrected risk answers differ: open again, to be acknowledged again.
        RiskAlert.objects.filter(pk=alert.pk).update(
            items=alert_items, measurement_corrected_at=now, raised_at=now, acknowledged_at=None,
            acknowledged_by=None, note="", left_open_reason="", left_open_by=None, left_open_at=None,
        )
        log.record("risk_alert.reopened", actor=by, target=alert, **where, instrument=inst.id)
    else:
        RiskAlert.objects.filter(pk=alert.pk).update(measurement_corrected_at=now)
    outcome_summaries.refresh(locked.referral_id)
    measurement.refresh_from_db()
    return measurement


@transaction.atomic
def delete_measurement(*, measurement: Measurement, by: Any, expected_version: int, reason: str) -> Measurement:
    """Delete a measure as entered in error: out of every chart and outcome, kept in history.
    Its risk alert, if any, stays as it is (an open one open until acknowledged), marked."""
    locked, course = _locked(measurement, by, expected_version)
    reason = clean_reason(reason)
    alert = RiskAlert.objects.select_for_update().filter(measurement=locked).first()
    now = timezone.now()
    MeasurementCorrection.objects.create(
        measurement=locked, kind=MeasurementCorrection.Kind.ENTERED_IN_ERROR, previous=_previous(locked, alert),
        reason=reason, version=locked.version, by=by, at=now,
    )
    Measurement.all_rows.filter(pk=locked.pk).update(version=locked.version + 1, entered_in_error_at=now)
    log.record("measurement.deleted", actor=by, target=locked, patient_id=course.patient_id, course_id=course.pk,
               instrument=locked.instrument, version=locked.version + 1)
    if alert is not None:
        RiskAlert.objects.filter(pk=alert.pk).update(measurement_corrected_at=now)
        log.record("risk_alert.measurement_corrected", actor=by, target=alert, patient_id=course.patient_id,
                   course_id=course.pk, now_risk=False)
    outcome_summaries.refresh(locked.referral_id)
    measurement.refresh_from_db()
    return measurement
