"""Measures recorded in a referral (and usually one of its courses), and the risk alerts they raise."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import models

from interpersonal.core import measures
from interpersonal.web.courses.models import Correction, InForce
from interpersonal.web.referrals.models import InReferral


class Measurement(InReferral):
    """One scored answer set. The score fields are the core engine's output, stored so that
    charts and reports need not rescore; answers are kept to rescore if a rule changes."""

    class Source(models.TextChoices):
        CLINICIAN = "clinician", "Entered by clinician"
        PATIENT = "patient", "Answered by patient"

    referral = models.ForeignKey("referrals.Referral", on_delete=models.PROTECT, related_name="measurements")
    course = models.ForeignKey("courses.Course", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="measurements", help_text="Empty for screening and follow-up scores.")
    session = models.ForeignKey(
        "courses.TherapySession", null=True, blank=True, on_delete=models.PROTECT, related_name="measurements"
    )
    instrument = models.CharField(max_length=32)
    answers = models.JSONField()
    variants = models.JSONField(default=dict, blank=True)
    total = models.FloatField(null=True, blank=True)
    severity = models.CharField(max_length=50, blank=True)
    caseness = models.BooleanField(null=True, blank=True)
    complete = models.BooleanField()
    prorated = models.BooleanField()
    risk = models.JSONField(default=list, blank=True)
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.CLINICIAN)
    questionnaire_link = models.ForeignKey(
        "questionnaires.QuestionnaireLink", null=True, blank=True, on_delete=models.PROTECT, related_name="measurements",
        help_text="The link the patient answered by, when they did.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1, help_text="Raised by every correction (stale edits are refused).")
    entered_in_error_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when deleted as entered in error: out of every count, kept in history.")

    objects = InForce()
    all_rows = models.Manager()

    class Meta:
        base_manager_name = "all_rows"
        ordering = ["recorded_at", "id"]
        indexes = [models.Index(fields=["course", "instrument", "recorded_at"]),
                   models.Index(fields=["referral", "instrument", "recorded_at"])]

    def __str__(self) -> str:
        return f"{self.instrument} {self.total} for course {self.course_id} at {self.recorded_at:%Y-%m-%d}"

    @property
    def risk_unanswered(self) -> tuple[str, ...]:
        """The risk items left unanswered (:func:`unanswered_risk` of the stored answers)."""
        return unanswered_risk(self.instrument, self.answers)


def unanswered_risk(instrument_id: str, answers: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The risk items of ``instrument_id`` left unanswered in stored ``answers`` (item id →
    value, None for an item not answered): the core's rule. Empty for an unknown instrument.
    The one reading of a stored answer set's unanswered risk, for a measurement and for the
    caseload's fetched answers alike."""
    try:
        instrument = measures.get(instrument_id)
    except measures.UnknownInstrument:
        return ()
    return instrument.unanswered_risk(k for k, v in (answers or {}).items() if v is not None)


class MeasurementCorrection(Correction):
    """A correction of a measure's answers (assessments.corrections): the earlier answers and
    scores are in ``previous``."""

    measurement = models.ForeignKey(Measurement, on_delete=models.PROTECT, related_name="corrections")

    class Meta(Correction.Meta):
        indexes = [models.Index(fields=["measurement", "at"])]

    def __str__(self) -> str:
        return f"{self.kind} of measurement {self.measurement_id} at {self.at:%Y-%m-%d %H:%M}"


class LeftOpen(models.TextChoices):
    """Why a risk alert was left open when its course ended or was stepped up (it stays open,
    on the caseload and the patient's page, until acknowledged). A code, never free text: it is
    stored on the alert for the clinicians and named in the audit trail."""

    FOLLOWED_UP_ELSEWHERE = "followed_up_elsewhere", "Another service is following up the risk (for example the crisis team or the GP)"
    SUPERVISOR_TO_REVIEW = "supervisor_to_review", "My supervisor will review the alerts with me before they are acknowledged"
    FOLLOWING_UP = "following_up", "I am still following up the risk and will acknowledge the alerts when I have"

    @property
    def summary(self) -> str:
        """The decision as the therapist's colleagues read it beside the alert."""
        return _LEFT_OPEN_SUMMARY[self]


_LEFT_OPEN_SUMMARY = {
    LeftOpen.FOLLOWED_UP_ELSEWHERE: "another service is following up the risk",
    LeftOpen.SUPERVISOR_TO_REVIEW: "supervisor to review with the therapist",
    LeftOpen.FOLLOWING_UP: "the therapist is still following up the risk",
}


class RiskAlert(InReferral):
    """Raised by a risk answer; stays open until a clinician acknowledges it with a note.
    Nothing closes an alert automatically. When its course ends (or steps up) with the alert
    open, the clinician's coded decision to leave it open is kept on it (``left_open_*``)."""

    measurement = models.OneToOneField(
        Measurement, null=True, blank=True, on_delete=models.PROTECT, related_name="risk_alert",
        help_text="Empty while the risk answer is in a patient's unsent questionnaire (raised as soon as it is saved).",
    )
    referral = models.ForeignKey("referrals.Referral", on_delete=models.PROTECT, related_name="risk_alerts")
    course = models.ForeignKey("courses.Course", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="risk_alerts", help_text="Empty for an alert raised at screening.")
    instrument = models.CharField(max_length=32)
    questionnaire_link = models.ForeignKey(
        "questionnaires.QuestionnaireLink", null=True, blank=True, on_delete=models.PROTECT, related_name="risk_alerts",
    )
    items = models.JSONField()
    raised_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    note = models.TextField(blank=True)
    left_open_reason = models.CharField(
        max_length=32, choices=LeftOpen.choices, blank=True,
        help_text="Why the alert was left open when its course ended or stepped up (empty: it was not).",
    )
    left_open_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    left_open_at = models.DateTimeField(null=True, blank=True)
    measurement_corrected_at = models.DateTimeField(
        null=True, blank=True,
        help_text="When the measure that raised it was last corrected or deleted as entered in error (the alert "
                  "never closes by itself: a clinician acknowledges it, seeing the correction).",
    )

    class Meta:
        ordering = ["raised_at", "id"]
        indexes = [models.Index(fields=["course", "acknowledged_at"]), models.Index(fields=["referral", "acknowledged_at"])]

    def __str__(self) -> str:
        return f"risk alert {self.pk} ({'open' if self.open else 'acknowledged'}) for course {self.course_id}"

    @property
    def open(self) -> bool:
        return self.acknowledged_at is None


class RiskAssessment(InReferral):
    """One version of a course's structured risk assessment and safety plan (core.risk).

    Recording one on a course that has one already is a review: the new row is the next
    ``number`` and names the one it reviewed (``reviews``), which stays as history. The field
    definitions it was recorded with are kept beside the answers (``*_fields``: ids, labels,
    kinds and choices), so a later change of the service's configuration never reinterprets it.
    Written only by assessments.actions.record_risk_assessment."""

    referral = models.ForeignKey("referrals.Referral", on_delete=models.PROTECT, related_name="risk_assessments")
    course = models.ForeignKey("courses.Course", on_delete=models.PROTECT, related_name="risk_assessments")
    number = models.PositiveIntegerField(help_text="1 for the first assessment of the course, then one more each review.")
    reviews = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reviewed_by",
                                   help_text="The earlier version this one reviewed (empty for the first).")
    alert = models.ForeignKey(RiskAlert, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="risk_assessments", help_text="The alert it was recorded from, if any.")
    level = models.CharField(max_length=40, help_text="The overall level's choice id (core.risk level field).")
    level_label = models.CharField(max_length=200, help_text="The level's label when it was recorded.")
    assessment_fields = models.JSONField(help_text="The risk assessment's field definitions it was recorded with.")
    assessment = models.JSONField(help_text="field id → answer.")
    safety_plan_fields = models.JSONField(help_text="The safety plan's field definitions it was recorded with.")
    safety_plan = models.JSONField(help_text="field id → answer.")
    review_due = models.DateField(help_text="When the assessment and the safety plan are to be reviewed.")
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["course", "-number"]
        constraints = [models.UniqueConstraint(fields=["course", "number"], name="one_risk_assessment_per_number")]

    def __str__(self) -> str:
        return f"risk assessment {self.number} of course {self.course_id} ({self.level})"
