"""Screening, suitability and triage of a referral: the only writers (atomic, validated, audited).

The pathway before treatment (docs/screening.md; DOMAIN.md §6):

1. **Screening** — PHQ-9, GAD-7 and WSAS (and PHQ-9 item 9, the risk question) either by a
   questionnaire link sent for the referral (questionnaires.actions.issue_link with no course)
   or in an **assessment contact** (:func:`record_assessment_contact`: a contact of the referral
   with no course, never treatment) in which the clinician enters the answers
   (assessments.actions.record_measurement with no course). A risk answer raises a risk alert
   exactly as in a course; it stays open until a clinician acknowledges it.
2. **Suitability** — the service's rules (:class:`~.models_screening.SuitabilityRule`, data it
   edits) are evaluated by interpersonal.core.pathways to *suggest*; a clinician *decides*
   (:func:`decide_suitability`) with a reason. Signposting, referring on and "not suitable"
   discharge the referral with their NHS end reason (referrals.actions.end_referral).
3. **Triage** — to a step (2 or 3) and a therapy of that step (:func:`triage_referral`), with the
   reason, the patient's preference and optionally the clinician to allocate, informed by the
   NICE NG222 severity of the latest PHQ-9: the referral then waits. Re-triage is allowed while
   it waits. :func:`triaged_protocol` is what the course start reads.

Who may: referrals.screening_access.may_screen (the allocated clinician, or a clinician
permitted to triage while the referral is not yet in treatment). The service lead or an
administrator edits the rules (:func:`save_rule`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from interpersonal.core import pathways, protocols
from interpersonal.core.codes import Attendance, Medium
from interpersonal.web import bounds
from interpersonal.web.accounts.roles import Permission, has_permission
from interpersonal.web.audit import log
from interpersonal.web.referrals import actions as referrals
from interpersonal.web.referrals.models import Referral
from interpersonal.web.referrals.models_screening import (
    DISCHARGE,
    Decision,
    PreferenceOption,
    ScreeningDecision,
    SuitabilityRule,
    Triage,
)
from interpersonal.web.referrals.screening_access import PRE_TREATMENT, may_screen

SCREENING_MEASURES = ("phq9", "gad7", "wsas")
"""What screening asks by default: PHQ-9 (with item 9, the risk question), GAD-7 and WSAS, the
measures the NHS Talking Therapies data set collects at assessment (DOMAIN.md §3, §10)."""
CLOCK_SKEW = dt.timedelta(minutes=15)
"""How far ahead of now a contact that has happened may be dated (devices' clocks differ)."""
REASON_MIN = 3
DESCRIPTOR = re.compile(r"[A-Z][0-9]{2}(\.?[0-9A-Z]{1,4})?")
"""An ICD-10 code as the referral stores it (at most 8 characters): F32, F43.1, F431."""


def _require_screener(user: Any, referral: Referral) -> None:
    if not may_screen(user, referral):
        raise ValidationError("Only the referral's allocated clinician, or a clinician who triages referrals, can do "
                              "this, and only before treatment starts.")


def _lock(referral: Referral, *, expected_version: int | None = None) -> Referral:
    locked = Referral.objects.select_for_update().get(pk=referral.pk)
    if not locked.is_open:
        raise ValidationError(f"This referral was discharged on {locked.ended_on:%d %b %Y}.")
    if expected_version is not None and locked.version != expected_version:
        raise ValidationError("Someone else changed this referral after you opened it. Nothing was saved: reload to "
                              "see their changes.")
    return locked


def _text(value: Any, field: str, *, required: bool, limit: int = bounds.NOTE) -> str:
    text = (value or "").strip() if isinstance(value, str) or value is None else None
    if text is None:
        raise ValidationError({field: "Give text."})
    if "\x00" in text:  # as Django's form fields refuse it: PostgreSQL cannot store it (a 500)
        raise ValidationError({field: "Null characters are not allowed."})
    if required and len(text) < REASON_MIN:
        raise ValidationError({field: "Give the reason (a few words at least)."})
    if len(text) > limit:
        raise ValidationError({field: f"At most {limit} characters."})
    return text


def clean_descriptor(value: Any) -> str:
    """An ICD-10 problem descriptor as stored (upper case, at most 8 characters), or ""."""
    text = (value or "").strip().upper().replace(" ", "") if isinstance(value, str) or value is None else None
    if text is None or (text and (len(text) > 8 or not DESCRIPTOR.fullmatch(text))):
        raise ValidationError({"problem_descriptor": "Give an ICD-10 code such as F32, F41.1 or F431 (or leave it "
                                                     "blank)."})
    return text


# --- reading what screening found ------------------------------------------------------------

def latest_phq9(referral: Referral) -> Any:
    """The referral's latest PHQ-9 (any course or none), or None."""
    from interpersonal.web.assessments.models import Measurement

    return (Measurement.objects.filter(referral=referral, instrument="phq9")
            .order_by("-recorded_at", "-id").first())


def core_rules() -> list[tuple[SuitabilityRule, pathways.Rule]]:
    """The active rules, in order, as the core evaluates them."""
    return [(row, pathways.Rule(id=row.pk, name=row.name, kind=pathways.RuleKind(row.kind), params=row.params,
                                outcome=pathways.Outcome(row.outcome), message=row.message))
            for row in SuitabilityRule.objects.filter(active=True).order_by("position", "id")]


@dataclass(frozen=True, slots=True)
class Screening:
    """The rules evaluated for one referral, with the facts they were given."""

    facts: pathways.Facts
    evaluation: pathways.Evaluation

    def findings_data(self) -> list[dict[str, Any]]:
        return [{"id": f.rule.id, "name": f.rule.name, "kind": f.rule.kind.value, "outcome": f.rule.outcome.value,
                 "fired": f.fired, "why": f.why, "message": f.rule.message}
                for f in self.evaluation.findings]


def evaluate_referral(
    referral: Referral, *, clinician_risk: bool | None = None, under_secondary_care: bool | None = None,
    problem_descriptor: str | None = None, on: dt.date | None = None,
) -> Screening:
    """The active rules against what is known of ``referral`` (and the clinician's answers, when
    given): the patient's age on ``on`` (today), the latest PHQ-9 item 9, the problem descriptor."""
    phq9 = latest_phq9(referral)
    item9 = phq9.answers.get("9") if phq9 is not None else None
    facts = pathways.Facts(
        on=on or timezone.localdate(), date_of_birth=referral.patient.date_of_birth,
        phq9_item9=item9 if isinstance(item9, int) else None, clinician_risk=clinician_risk,
        problem_descriptor=referral.problem_descriptor if problem_descriptor is None else problem_descriptor,
        under_secondary_care=under_secondary_care,
    )
    return Screening(facts, pathways.evaluate([rule for _, rule in core_rules()], facts))


def ng222(referral: Referral) -> tuple[Any, pathways.Ng222Severity | None]:
    """(latest PHQ-9 or None, its NICE NG222 severity or None when unknown). NG222: less severe
    below 16, more severe at 16 or more (DOMAIN.md §6 [V])."""
    phq9 = latest_phq9(referral)
    return phq9, pathways.ng222_severity(phq9.total if phq9 is not None else None)


def triaged_protocol(referral: Referral) -> protocols.Protocol | None:
    """The protocol ``referral`` was triaged to, for starting its course; None if it was not
    triaged (or the protocol is no longer in the catalogue)."""
    if not referral.therapy:
        return None
    try:
        return protocols.get(referral.therapy)
    except protocols.UnknownProtocol:
        return None


def open_alert_count(referral: Referral) -> int:
    from interpersonal.web.assessments.models import RiskAlert

    return RiskAlert.objects.filter(referral=referral, acknowledged_at__isnull=True).count()


# --- assessment contacts ---------------------------------------------------------------------

@transaction.atomic
def record_assessment_contact(
    *, referral: Referral, by: Any, scheduled_at: dt.datetime, attendance: int, duration_minutes: int | None = None,
    medium: str = Medium.FACE_TO_FACE.value, notes: str = "",
) -> Any:
    """Record a screening or assessment contact of ``referral`` that has happened: a contact with
    no course, never treatment (DOMAIN.md §6), with its NHS attendance code."""
    from interpersonal.web.courses.models import Course, TherapySession

    _require_screener(by, referral)
    locked = _lock(referral)
    if locked.courses.filter(status=Course.Status.ACTIVE).exists():
        raise ValidationError("This referral is in treatment: record the session in its course.")
    if attendance not in {a.value for a in Attendance}:
        raise ValidationError({"attendance": "Choose an NHS Talking Therapies attendance code."})
    if medium not in {m.value for m in Medium}:
        raise ValidationError({"medium": "Choose face to face, telephone or video."})
    low, high = bounds.SESSION_MINUTES
    if duration_minutes is not None and not low <= duration_minutes <= high:
        raise ValidationError({"duration_minutes": f"Give a duration between {low} and {high} minutes."})
    if timezone.is_naive(scheduled_at):
        raise ValidationError({"scheduled_at": "Give a date and time with a time zone."})
    if scheduled_at > timezone.now() + CLOCK_SKEW:
        raise ValidationError({"scheduled_at": "Record a contact that has happened: it cannot be in the future."})
    if timezone.localdate(scheduled_at) < locked.received_on:
        raise ValidationError({"scheduled_at": f"The referral was received on {locked.received_on:%d %b %Y}; a "
                                               "contact cannot be earlier."})
    contact = TherapySession.objects.create(
        referral=locked, course=None, treatment=False, scheduled_at=scheduled_at, attendance=attendance,
        duration_minutes=duration_minutes, medium=medium, notes=_text(notes, "notes", required=False),
        recorded_by=by,
    )
    log.record("contact.recorded", actor=by, target=contact, patient_id=locked.patient_id, referral_id=locked.pk,
               attendance=attendance, treatment=False)
    return contact


# --- suitability -----------------------------------------------------------------------------

def _yes_no(value: Any, field: str, question: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError({field: f"Answer: {question}"})
    return value


@transaction.atomic
def decide_suitability(
    *, referral: Referral, decision: str, reason: str, by: Any, clinician_risk: bool,
    under_secondary_care: bool, problem_descriptor: str | None = None, expected_version: int | None = None,
) -> ScreeningDecision:
    """A clinician decides whether ``referral`` is suitable, with a reason, having answered the
    two questions only they can (is the suicide risk significant or imminent; is the patient
    under secondary mental health care). The rules are evaluated again here, and what they said
    is kept with the decision. SUITABLE leaves the referral for triage; the others discharge it
    with their end reason — only once every open risk alert of the referral is acknowledged,
    saying what was done (risk is never left behind a discharge)."""
    from interpersonal.web.assessments.models import RiskAlert

    _require_screener(by, referral)
    locked = _lock(referral, expected_version=expected_version)
    if locked.status not in PRE_TREATMENT:
        raise ValidationError("This referral is in treatment: its course decides what happens next.")
    if decision not in Decision.values:
        raise ValidationError({"decision": "Choose the decision."})
    reason = _text(reason, "reason", required=True)
    clinician_risk = _yes_no(clinician_risk, "clinician_risk", "is the suicide risk significant or imminent?")
    under_secondary_care = _yes_no(under_secondary_care, "under_secondary_care",
                                   "is the patient under secondary mental health care?")
    descriptor = locked.problem_descriptor if problem_descriptor is None else clean_descriptor(problem_descriptor)
    end_reason = DISCHARGE.get(decision)
    if end_reason is not None:
        open_alerts = RiskAlert.objects.filter(referral=locked, acknowledged_at__isnull=True).count()
        if open_alerts:
            raise ValidationError(f"This referral has {open_alerts} open risk alert{'' if open_alerts == 1 else 's'}: "
                                  "acknowledge each one, saying what was done, before discharging the referral.")
    screening = evaluate_referral(locked, clinician_risk=clinician_risk, under_secondary_care=under_secondary_care,
                                  problem_descriptor=descriptor)
    fired = [f.rule.id for f in screening.evaluation.fired]
    now = timezone.now()
    row = ScreeningDecision.objects.create(
        referral=locked, decision=decision, reason=reason, suggestion=screening.evaluation.suggestion.value,
        fired_rule_ids=fired, findings=screening.findings_data(), phq9_item9=screening.facts.phq9_item9,
        clinician_risk=clinician_risk, under_secondary_care=under_secondary_care, problem_descriptor=descriptor,
        end_reason=end_reason.value if end_reason else "", decided_by=by, decided_at=now,
    )
    changed = ["problem_descriptor"] if descriptor != locked.problem_descriptor else []
    Referral.objects.filter(pk=locked.pk).update(problem_descriptor=descriptor, version=locked.version + 1,
                                                 updated_at=now)
    log.record("referral.screening_decided", actor=by, target=row, patient_id=locked.patient_id,
               referral_id=locked.pk, decision=decision, suggestion=row.suggestion, fired_rule_ids=fired,
               unknown_rule_ids=[f.rule.id for f in screening.evaluation.unknown], changed=changed,
               end_reason=row.end_reason)
    if end_reason is not None:
        referrals.end_referral(referral=locked, reason=end_reason.value, by=by, expected_version=locked.version + 1)
    return row


def latest_decision(referral: Referral) -> ScreeningDecision | None:
    return referral.screening_decisions.select_related("decided_by").order_by("-decided_at", "-id").first()


# --- triage ----------------------------------------------------------------------------------

def therapy_choices(step: int | None = None) -> list[protocols.Protocol]:
    """The protocols a referral may be triaged to (of ``step``, when given)."""
    return [p for p in protocols.catalogue() if step is None or p.step == step]


def preference_label(value: str) -> str:
    if value == PreferenceOption.NO_PREFERENCE:
        return PreferenceOption.LABEL
    try:
        return protocols.get(value).name
    except protocols.UnknownProtocol:
        return value


@transaction.atomic
def triage_referral(
    *, referral: Referral, step: int, therapy: str, reason: str, preferred_therapy: str, by: Any,
    preference: str = "", therapist: Any = None, expected_version: int | None = None,
) -> Triage:
    """Triage ``referral`` to ``step`` (2 or 3) and ``therapy`` (a protocol of that step) with the
    reason and the patient's preference (``preferred_therapy``: a protocol id or "no_preference";
    ``preference``: their words), optionally allocating ``therapist``: it then waits for
    treatment. A referral already waiting may be triaged again (re-triage). The NICE NG222
    severity of the latest PHQ-9 is kept with the triage, as shown to the clinician."""
    _require_screener(by, referral)
    locked = _lock(referral, expected_version=expected_version)
    if locked.status not in PRE_TREATMENT:
        raise ValidationError("This referral is in treatment: step up or down from its course instead.")
    decision = latest_decision(locked)
    if not locked.courses.exists() and (decision is None or decision.decision != Decision.SUITABLE):
        # A referral stepped up or down after a course was already found suitable.
        raise ValidationError("Record the suitability decision (suitable) before triaging.")
    errors: dict[str, str] = {}
    if isinstance(step, bool) or step not in (2, 3):
        errors["step"] = "Choose step 2 (low intensity) or step 3 (high intensity)."
    try:
        definition = protocols.get(therapy)
    except protocols.UnknownProtocol:
        errors["therapy"] = "Choose a therapy."
    else:
        if "step" not in errors and definition.step != step:
            names = ", ".join(p.name for p in therapy_choices(step))
            errors["therapy"] = (f"{definition.name} is a step {definition.step} therapy, not step {step}. "
                                 f"Step {step}: {names}.")
    if preferred_therapy != PreferenceOption.NO_PREFERENCE and preferred_therapy not in {p.id for p in therapy_choices()}:
        errors["preferred_therapy"] = "Choose the patient's preference (or no preference)."
    if therapist is not None and (not getattr(therapist, "is_active", False)
                                  or not has_permission(therapist, Permission.HOLD_CASELOAD)):
        errors["therapist"] = "Allocate a clinician with a caseload (or leave it unallocated)."
    try:
        reason = _text(reason, "reason", required=True)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    try:
        preference = _text(preference, "preference", required=False)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    phq9, severity = ng222(locked)
    now = timezone.now()
    retriage = locked.triages.exists() or locked.status == Referral.Status.WAITING
    row = Triage.objects.create(
        referral=locked, step=step, therapy=therapy, reason=reason, preferred_therapy=preferred_therapy,
        preference=preference, therapist=therapist, phq9_total=phq9.total if phq9 is not None else None,
        severity=severity.value if severity else "", by=by, at=now,
    )
    allocated = therapist if therapist is not None else locked.therapist
    Referral.objects.filter(pk=locked.pk).update(
        status=Referral.Status.WAITING, step=step, therapy=therapy, triage_reason=reason,
        patient_preference=preference or preference_label(preferred_therapy), triaged_by=by, triaged_at=now,
        therapist=allocated, version=locked.version + 1, updated_at=now,
    )
    log.record("referral.retriaged" if retriage else "referral.triaged", actor=by, target=locked,
               patient_id=locked.patient_id, triage_id=row.pk, step=step, therapy=therapy,
               preferred_therapy=preferred_therapy, therapist_id=allocated.pk if allocated else None,
               severity=row.severity, version=locked.version + 1)
    return row


# --- the service's rules -----------------------------------------------------------------------

RULE_FIELDS = ("name", "kind", "params", "outcome", "message", "description", "source", "confirmed", "active",
               "position")


def _clean_rule(fields: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for name, limit, required in (("name", 200, True), ("message", bounds.NOTE, True),
                                  ("description", bounds.NOTE, False), ("source", 500, False)):
        value = fields.get(name)
        text = (value or "").strip() if isinstance(value, str) or value is None else None
        if text is None or "\x00" in text:
            errors[name] = "Give text."
        elif required and not text:
            errors[name] = "Required."
        elif len(text) > limit:
            errors[name] = f"At most {limit} characters."
        out[name] = text
    try:
        out["kind"] = pathways.RuleKind(fields.get("kind")).value
    except ValueError:
        errors["kind"] = "Choose what the rule looks at."
    try:
        out["outcome"] = pathways.Outcome(fields.get("outcome")).value
    except ValueError:
        errors["outcome"] = "Choose what the rule suggests."
    if "kind" in out:
        params = fields.get("params")
        try:
            out["params"] = pathways.validate_params(out["kind"], params if isinstance(params, Mapping) else {})
        except pathways.RuleError as exc:
            errors[exc.field] = exc.problem[:1].upper() + exc.problem[1:] + "."
    for name in ("confirmed", "active"):
        if not isinstance(fields.get(name), bool):
            errors[name] = "Yes or no."
        out[name] = fields.get(name)
    position = fields.get("position")
    if isinstance(position, bool) or not isinstance(position, int) or not 0 <= position <= 32_767:
        errors["position"] = "A whole number from 0 to 32767."
    out["position"] = position
    if errors:
        raise ValidationError(errors)
    return out


@transaction.atomic
def save_rule(*, by: Any, rule: SuitabilityRule | None = None, expected_version: int | None = None,
              **fields: Any) -> SuitabilityRule:
    """Add a suitability rule (``rule`` None) or change one (refused if someone saved it since
    ``expected_version``). Rules are never deleted — a decision names the rules that fired —
    but may be made inactive. The service lead or an administrator only."""
    if not has_permission(by, Permission.CONFIGURE_SERVICE_RULES):
        raise ValidationError("Only the service lead or an administrator can change the suitability rules.")
    unknown = set(fields) - set(RULE_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown fields: {', '.join(sorted(unknown))}")
    cleaned = _clean_rule(fields)
    if rule is None:
        created = SuitabilityRule.objects.create(**cleaned)
        log.record("suitability_rule.created", actor=by, target=created, kind=created.kind, outcome=created.outcome,
                   active=created.active)
        return created
    locked = SuitabilityRule.objects.select_for_update().get(pk=rule.pk)
    if expected_version is not None and locked.version != expected_version:
        raise ValidationError("Someone else changed this rule after you opened it. Nothing was saved: reload to see "
                              "their changes.")
    changed = [k for k, v in cleaned.items() if getattr(locked, k) != v]
    if changed:
        SuitabilityRule.objects.filter(pk=locked.pk).update(version=locked.version + 1, updated_at=timezone.now(),
                                                            **cleaned)
        log.record("suitability_rule.changed", actor=by, target=locked, changed=changed, kind=cleaned["kind"],
                   outcome=cleaned["outcome"], active=cleaned["active"], version=locked.version + 1)
    locked.refresh_from_db()
    return locked
