"""The only writers of the waiting list's records and the service's operational settings
(atomic, validated, audited with identifiers only).

Opt-in (docs/waiting.md "Opt-in"): a referral awaiting contact is invited to opt in by a date
(``INTERPERSONAL_OPT_IN_DAYS`` after the invitation, default 14 [U]); the patient's opt-in is
recorded; a referral whose latest invitation passed its date with no opt-in, no contact attended
since and no open risk alert may be discharged — one by one or several at once, always by a
person (nothing here runs on a schedule) — with the end reason "not assessed: did not opt in"
through ``referrals.actions.end_referral``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.utils import timezone

from interpersonal.core.codes import EndReason
from interpersonal.web import bounds
from interpersonal.web.accounts.roles import Permission, has_permission
from interpersonal.web.audit import log
from interpersonal.web.courses.models import ATTENDED, TherapySession
from interpersonal.web.referrals import actions as referrals
from interpersonal.web.referrals.models import Referral
from interpersonal.web.service.access import BEFORE_TREATMENT, dischargeable_by
from interpersonal.web.service.models import (
    COST_MAX_DIGITS,
    WEEKLY_CAPACITY_MAX,
    GradeCost,
    OptInInvitation,
    StaffGrade,
    StaffProfile,
)

NOT_OPTED_IN = EndReason.NOT_ASSESSED
"""The end reason of a referral discharged because the patient did not opt in (NHS end code 50,
unconfirmed: core.codes)."""


def opt_in_days() -> int:
    return int(settings.INTERPERSONAL_OPT_IN_DAYS)


def latest_invitation(referral: Referral) -> OptInInvitation | None:
    return OptInInvitation.objects.filter(referral=referral).order_by("-created_at", "-id").first()


def _open_alert(referral_field: str = "pk") -> Exists:
    from interpersonal.web.assessments.models import RiskAlert

    return Exists(RiskAlert.objects.filter(referral=OuterRef(referral_field), acknowledged_at__isnull=True))


def _latest(field: str) -> Subquery:
    return Subquery(OptInInvitation.objects.filter(referral=OuterRef("pk")).order_by("-created_at", "-id")
                    .values(field)[:1])


def with_opt_in(referrals_qs: QuerySet[Referral]) -> QuerySet[Referral]:
    """The referrals annotated with their latest invitation (``invitation_id``, ``invitation_sent_on``,
    ``invitation_respond_by``, ``invitation_channel``, ``invitation_delivery``, ``opted_in_on``) and
    ``open_alert`` (an unacknowledged risk alert in the referral)."""
    return referrals_qs.annotate(
        invitation_id=_latest("id"), invitation_sent_on=_latest("sent_on"),
        invitation_respond_by=_latest("respond_by"), invitation_channel=_latest("channel"),
        invitation_delivery=_latest("delivery"), opted_in_on=_latest("opted_in_on"),
        open_alert=_open_alert(),
    )


def not_opted_in(referrals_qs: QuerySet[Referral], *, today: dt.date | None = None) -> QuerySet[Referral]:
    """Referrals awaiting contact whose latest invitation's date has passed with no opt-in and no
    contact attended since it was sent (a patient who came to a contact has engaged: record the
    opt-in instead). Referrals with an open risk alert are included — shown, flagged, and refused
    discharge until a clinician has acknowledged the alert."""
    today = today or timezone.localdate()
    attended_since = TherapySession.objects.filter(
        referral=OuterRef("pk"), attendance__in=ATTENDED, scheduled_at__date__gte=OuterRef("invitation_sent_on"))
    return (with_opt_in(referrals_qs.filter(status__in=BEFORE_TREATMENT))
            .filter(invitation_id__isnull=False, opted_in_on__isnull=True, invitation_respond_by__lt=today)
            .filter(~Exists(attended_since)))


# --- opt-in ----------------------------------------------------------------------------------------


def _require_awaiting_contact(referral: Referral) -> None:
    if referral.status not in BEFORE_TREATMENT:
        raise ValidationError("Only a referral awaiting triage or treatment is invited to opt in: this one is "
                              f"{referral.get_status_display().lower()}.")


def _require_may_change(referral: Referral, by: Any) -> None:
    from interpersonal.web.service.access import own_referrals

    if not own_referrals(by, write=True).filter(pk=referral.pk).exists():
        raise ValidationError("Only the clinician the referral is allocated to can do this.")


def channels_for(patient: Any) -> list[str]:
    """The channels an invitation can go by for ``patient``: a letter with a postal address unless
    they said no to letters; e-mail or SMS where ``questionnaires.notify.reach`` says the channel
    reaches them — an address (a valid number) and their consent to that channel recorded as
    given, the same rule as for questionnaire links (PECR reg. 22: each electronic channel its own)."""
    from interpersonal.web.questionnaires.notify import reach

    out = []
    if (patient.address or "").strip() and patient.contact_by_letter is not False:
        out.append(OptInInvitation.Channel.LETTER.value)
    for channel in (OptInInvitation.Channel.EMAIL.value, OptInInvitation.Channel.SMS.value):
        if reach(patient, channel).contact is not None:
            out.append(channel)
    return out


@transaction.atomic
def invite_to_opt_in(*, referral: Referral, channel: str, by: Any, sent_on: dt.date | None = None) -> OptInInvitation:
    """Invite the patient of ``referral`` to opt in by ``INTERPERSONAL_OPT_IN_DAYS`` after ``sent_on``
    (default today). A letter is printed from its page; an e-mail or SMS is sent by the task worker
    (:func:`interpersonal.web.service.tasks.send_opt_in`) once this commits. A second invitation
    (a reminder) replaces the first one's date."""
    locked = Referral.objects.select_for_update().select_related("patient").get(pk=referral.pk)
    _require_may_change(locked, by)
    _require_awaiting_contact(locked)
    previous = latest_invitation(locked)
    if previous is not None and previous.opted_in:
        raise ValidationError(f"The patient opted in on {previous.opted_in_on:%d %b %Y}: no invitation is needed.")
    if channel not in OptInInvitation.Channel.values:
        raise ValidationError({"channel": "Choose a letter, e-mail or text message."})
    if channel not in channels_for(locked.patient):
        raise ValidationError({"channel": "The patient has no postal address, e-mail address or valid mobile "
                                          "number for this, or has not consented to it: choose another way, or "
                                          "record their details and consent on their page first."})
    today = timezone.localdate()
    sent_on = sent_on or today
    if sent_on > today or sent_on < locked.received_on:
        raise ValidationError({"sent_on": "The invitation's date must be between the referral date and today."})
    invitation = OptInInvitation.objects.create(
        referral=locked, channel=channel, sent_on=sent_on, respond_by=sent_on + dt.timedelta(days=opt_in_days()),
        sent_by=by,
        delivery=OptInInvitation.Delivery.TO_PRINT if channel == OptInInvitation.Channel.LETTER
        else OptInInvitation.Delivery.QUEUED,
    )
    log.record("opt_in.invited", actor=by, target=invitation, patient_id=locked.patient_id, referral_id=locked.pk,
               channel=channel, respond_by=invitation.respond_by.isoformat(),
               replaces=previous.pk if previous is not None else None)
    if channel != OptInInvitation.Channel.LETTER:
        from interpersonal.web.service import tasks

        pk = invitation.pk
        transaction.on_commit(lambda: tasks.send_opt_in.enqueue(pk))
    return invitation


@transaction.atomic
def record_opt_in(*, referral: Referral, by: Any, opted_in_on: dt.date | None = None) -> OptInInvitation:
    """The patient opted in (by phone, the reply slip, in person) on ``opted_in_on`` (default today)."""
    locked = Referral.objects.select_for_update().get(pk=referral.pk)
    _require_may_change(locked, by)
    _require_awaiting_contact(locked)
    invitation = latest_invitation(locked)
    if invitation is None:
        raise ValidationError("No invitation was sent: a referral is opted in in answer to one.")
    invitation = OptInInvitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.opted_in:
        raise ValidationError(f"The patient's opt-in was already recorded ({invitation.opted_in_on:%d %b %Y}).")
    opted_in_on = opted_in_on or timezone.localdate()
    if not invitation.sent_on <= opted_in_on <= timezone.localdate():
        raise ValidationError({"opted_in_on": "The date must be between the invitation's date and today."})
    OptInInvitation.objects.filter(pk=invitation.pk).update(
        opted_in_on=opted_in_on, opted_in_recorded_by=by, opted_in_recorded_at=timezone.now())
    invitation.refresh_from_db()
    log.record("opt_in.opted_in", actor=by, target=invitation, patient_id=locked.patient_id, referral_id=locked.pk)
    return invitation


@dataclass(frozen=True, slots=True)
class Discharged:
    """What a discharge request did: the referral ids discharged, and (id, why) for each refused."""

    discharged: tuple[int, ...]
    refused: tuple[tuple[int, str], ...]


def _refusal(referral: Referral, expected_version: int | None, *, today: dt.date) -> str | None:
    """Why ``referral`` may not be discharged as not opted in now (None: it may)."""
    if expected_version is not None and referral.version != expected_version:
        return "changed since the list was shown: reload it"
    found = not_opted_in(Referral.objects.filter(pk=referral.pk), today=today).first()
    if found is None:
        return "not past its opt-in date without an opt-in (invited again, opted in, seen, or no longer waiting)"
    if found.open_alert:
        return "has an open risk alert: a clinician must review and acknowledge it first"
    return None


def discharge_not_opted_in(*, requested: Iterable[tuple[int, int | None]], by: Any) -> Discharged:
    """Discharge each requested referral (id, version shown) that did not opt in, with the end
    reason "not assessed: did not opt in" — each in its own transaction, so one refusal does not
    hold up the others. Refused: referrals ``by`` may not discharge (named in no detail), changed
    since shown, not past their date, opted in or seen since, or with an open risk alert."""
    today = timezone.localdate()
    allowed = set(dischargeable_by(by).values_list("pk", flat=True))
    done: list[int] = []
    refused: list[tuple[int, str]] = []
    for pk, version in dict(requested).items():
        if pk not in allowed:
            refused.append((pk, "not on your waiting list"))
            continue
        with transaction.atomic():
            referral = Referral.objects.select_for_update().get(pk=pk)
            why = _refusal(referral, version, today=today)
            if why is not None:
                refused.append((pk, why))
                continue
            invitation = latest_invitation(referral)
            referrals.end_referral(referral=referral, reason=NOT_OPTED_IN.value, by=by, ended_on=today,
                                   expected_version=referral.version)
            log.record("opt_in.discharged", actor=by, target=referral, patient_id=referral.patient_id,
                       invitation_id=invitation.pk if invitation else None, reason=NOT_OPTED_IN.value)
            done.append(pk)
    return Discharged(tuple(done), tuple(refused))


# --- costs and capacity (the service lead's settings) ------------------------------------------


def _require_lead(by: Any) -> None:
    if not has_permission(by, Permission.VIEW_SERVICE_AGGREGATES):
        raise ValidationError("Only the service lead can change the service's costs and capacity.")


@transaction.atomic
def add_grade(*, name: str, by: Any) -> StaffGrade:
    _require_lead(by)
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationError({"name": "Give the grade a name of at most 100 characters."})
    if StaffGrade.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": "There is a grade of that name already."})
    try:
        with transaction.atomic():
            grade = StaffGrade.objects.create(name=name)
    except IntegrityError:
        raise ValidationError({"name": "There is a grade of that name already."}) from None
    log.record("service.grade_added", actor=by, target=grade)
    return grade


def clean_cost(value: Any) -> Decimal:
    """A cost per session in pounds: more than 0, at most two decimal places, below £1,000,000."""
    try:
        cost = value if isinstance(value, Decimal) else Decimal(str(value).strip().lstrip("£"))
    except (InvalidOperation, ValueError):
        raise ValidationError({"cost_per_session": "Give the cost in pounds, such as 62.50."}) from None
    if not cost.is_finite() or cost <= 0 or cost >= Decimal(10) ** (COST_MAX_DIGITS - 2) \
            or cost != cost.quantize(Decimal("0.01")):
        raise ValidationError({"cost_per_session": "Give a cost above £0 and below £1,000,000, in pounds and pence."})
    return cost.quantize(Decimal("0.01"))


@transaction.atomic
def add_grade_cost(*, grade: StaffGrade, cost_per_session: Any, effective_from: dt.date, by: Any,
                   source: str = "") -> GradeCost:
    """A grade's cost per attended treatment session from ``effective_from`` (until its next one)."""
    _require_lead(by)
    cost = clean_cost(cost_per_session)
    if not isinstance(effective_from, dt.date) or bounds.outside(bounds.CLINICAL, effective_from):
        raise ValidationError({"effective_from": bounds.CLINICAL.message})
    source = (source or "").strip()
    if len(source) > bounds.SHORT_TEXT:
        raise ValidationError({"source": f"At most {bounds.SHORT_TEXT} characters."})
    if GradeCost.objects.filter(grade=grade, effective_from=effective_from).exists():
        raise ValidationError({"effective_from": "This grade already has a cost from that date."})
    try:
        with transaction.atomic():
            row = GradeCost.objects.create(grade=grade, cost_per_session=cost, effective_from=effective_from,
                                           source=source, created_by=by)
    except IntegrityError:
        raise ValidationError({"effective_from": "This grade already has a cost from that date."}) from None
    log.record("service.grade_cost_added", actor=by, target=row, grade_id=grade.pk,
               effective_from=effective_from.isoformat(), cost=str(cost))
    return row


@transaction.atomic
def set_staff_profile(*, user: Any, by: Any, grade: StaffGrade | None, weekly_capacity: int | None,
                      expected_version: int | None = None) -> StaffProfile:
    """A clinician's grade and weekly capacity; refused if someone saved since ``expected_version``."""
    _require_lead(by)
    if not has_permission(user, Permission.HOLD_CASELOAD):
        raise ValidationError("Grades and capacity are kept for clinicians who hold a caseload.")
    if weekly_capacity is not None and not 0 <= weekly_capacity <= WEEKLY_CAPACITY_MAX:
        raise ValidationError({"weekly_capacity": f"Give 0 to {WEEKLY_CAPACITY_MAX} sessions a week."})
    profile, _ = StaffProfile.objects.select_for_update().get_or_create(user=user, defaults={"version": 0})
    if expected_version is not None and profile.version != expected_version:
        raise ValidationError("Someone else changed this clinician's settings after you opened them. "
                              "Reload to see their changes.")
    changed = [name for name, value in (("grade", grade.pk if grade else None), ("weekly_capacity", weekly_capacity))
               if getattr(profile, f"{name}_id" if name == "grade" else name) != value]
    StaffProfile.objects.filter(pk=profile.pk).update(
        grade=grade, weekly_capacity=weekly_capacity, version=profile.version + 1, updated_by=by,
        updated_at=timezone.now())
    profile.refresh_from_db()
    log.record("service.staff_profile_changed", actor=by, target=("user", user.pk), fields=changed)
    return profile


def requested_pairs(values: Iterable[str]) -> list[tuple[int, int | None]]:
    """``"id:version"`` strings (the bulk-discharge form's boxes) as (id, version); a value that
    is not one is refused (a tampered form), never taken as "no check"."""
    out = []
    for value in values:
        pk_text, _, version_text = str(value).partition(":")
        try:
            pk = int(pk_text)
            version = int(version_text) if version_text else None
        except ValueError:
            raise ValidationError("The form was incomplete; reload the page and try again.") from None
        if not 0 < pk <= bounds.INT_MAX or (version is not None and not 0 <= version <= bounds.INT_MAX):
            raise ValidationError("The form was incomplete; reload the page and try again.")
        out.append((pk, version))
    if not out:
        raise ValidationError("Choose at least one referral.")
    if len(out) > 500:
        raise ValidationError("Choose at most 500 referrals at once.")
    return out


__all__ = [
    "NOT_OPTED_IN", "Discharged", "add_grade", "add_grade_cost", "channels_for", "clean_cost",
    "discharge_not_opted_in", "invite_to_opt_in", "latest_invitation", "not_opted_in", "opt_in_days",
    "record_opt_in", "requested_pairs", "set_staff_profile", "with_opt_in",
]
