"""The only writers of referrals (atomic, validated, audited).

A referral's status follows its pathway (docs/adr/0009-the-referral-is-the-spine-of-care.md):
received → awaiting triage; triaged to a step and therapy → waiting; its first course starts →
in treatment; stepped up → still in treatment (a new course of the same referral); ended for a
reason with an NHS end code → discharged. Courses call :func:`course_started` and
:func:`course_ended` inside their own transactions.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac

from interpersonal.core.codes import EndReason
from interpersonal.web import bounds
from interpersonal.web.accounts.roles import Permission, has_permission
from interpersonal.web.audit import log
from interpersonal.web.outcomes import summaries as outcome_summaries
from interpersonal.web.referrals.models import Referral, ReferralSource, SelfReferral, SelfReferralAttempt

RECEIVED_FIELDS = ("source", "received_on", "referrer", "presenting_problem", "problem_descriptor")


def clean_received(fields: dict[str, Any], *, date_of_birth: dt.date | None = None) -> dict[str, Any]:
    """Validate the details a referral is received with; a ValidationError names each field."""
    errors: dict[str, str] = {}
    out = {k: v for k, v in fields.items() if k in RECEIVED_FIELDS}
    today = timezone.localdate()
    received = out.get("received_on")
    if not isinstance(received, dt.date) or received > today:
        errors["received_on"] = "Give the date the referral was received (not in the future)."
    elif bounds.outside(bounds.PAST_CLINICAL, received):
        errors["received_on"] = bounds.PAST_CLINICAL.message
    elif date_of_birth is not None and received < date_of_birth:
        errors["received_on"] = "The referral date is before the date of birth."
    if out.get("source") not in ReferralSource.values:
        errors["source"] = f"Choose one of: {', '.join(ReferralSource.labels)}."
    for name, limit in (("referrer", 200), ("problem_descriptor", 8)):
        out[name] = (out.get(name) or "").strip()
        if len(out[name]) > limit:
            errors[name] = f"At most {limit} characters."
    out["problem_descriptor"] = out["problem_descriptor"].upper()
    out["presenting_problem"] = (out.get("presenting_problem") or "").strip()
    if len(out["presenting_problem"]) > bounds.NOTE:
        errors["presenting_problem"] = f"At most {bounds.NOTE} characters."
    if errors:
        raise ValidationError(errors)
    return out


@transaction.atomic
def receive_referral(*, patient: Any, by: Any, therapist: Any = None, **fields: Any) -> Referral:
    """Record a referral received for ``patient``: it awaits screening and triage. A patient has
    at most one open referral (a second one received while one is open is refused: add to it)."""
    unknown = set(fields) - set(RECEIVED_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown fields: {', '.join(sorted(unknown))}")
    cleaned = clean_received(fields, date_of_birth=patient.date_of_birth)
    if Referral.objects.filter(patient=patient).exclude(status=Referral.Status.DISCHARGED).exists():
        raise ValidationError("This patient already has an open referral; record this one in it, or end it first.")
    try:
        with transaction.atomic():
            referral = Referral.objects.create(patient=patient, therapist=therapist, **cleaned)
    except IntegrityError:  # a second request for the same patient won the race
        raise ValidationError("This patient already has an open referral; record this one in it, or end it first.") from None
    log.record("referral.received", actor=by, target=referral, patient_id=patient.pk, source=referral.source)
    outcome_summaries.refresh(referral.pk)
    return referral


def open_referral_of(patient: Any) -> Referral | None:
    """The patient's open referral, if any (at most one: a database constraint)."""
    return Referral.objects.filter(patient=patient).exclude(status=Referral.Status.DISCHARGED).first()


def course_started(course: Any, *, by: Any) -> None:
    """A course of ``course.referral`` started: the referral is in treatment (called by
    courses.actions.start_course in its transaction)."""
    referral = Referral.objects.select_for_update().get(pk=course.referral_id)
    if not referral.is_open:
        raise ValidationError("This referral was discharged; a new course needs a new referral.")
    if referral.status == Referral.Status.IN_TREATMENT:
        return
    changes: dict[str, Any] = {"status": Referral.Status.IN_TREATMENT}
    if not referral.therapy:
        changes.update(therapy=course.protocol, step=course.definition.step)
    Referral.objects.filter(pk=referral.pk).update(version=referral.version + 1, updated_at=timezone.now(), **changes)
    log.record("referral.in_treatment", actor=by, target=referral, patient_id=referral.patient_id, course_id=course.pk)


def course_ended(course: Any, *, by: Any) -> None:
    """A course of the referral ended. Stepping up or down continues the referral (its next
    course follows); any other reason discharges it with the course's end reason and date,
    the NHS end code of the whole pathway."""
    reason = EndReason(course.end_reason)
    if not reason.ends_referral:
        return
    referral = Referral.objects.select_for_update().get(pk=course.referral_id)
    if not referral.is_open:
        return
    _discharge(referral, reason=reason, ended_on=course.ended_on, by=by, course_id=course.pk)


def _discharge(referral: Referral, *, reason: EndReason, ended_on: dt.date, by: Any, **audit: Any) -> None:
    Referral.objects.filter(pk=referral.pk).update(
        status=Referral.Status.DISCHARGED, ended_on=ended_on, end_reason=reason.value,
        version=referral.version + 1, updated_at=timezone.now(),
    )
    log.record("referral.discharged", actor=by, target=referral, patient_id=referral.patient_id,
               reason=reason.value, nhs_end_code=reason.nhs_code, **audit)
    outcome_summaries.refresh(referral.pk)


@transaction.atomic
def end_referral(*, referral: Referral, reason: str, by: Any, ended_on: dt.date | None = None,
                 expected_version: int | None = None) -> Referral:
    """Discharge an open referral that has no active course (before treatment, or after its last
    course ended for a step change that was not followed). A referral in an active course ends
    with that course (courses.actions.end_course)."""
    locked = Referral.objects.select_for_update().get(pk=referral.pk)
    if not locked.is_open:
        raise ValidationError(f"This referral was already discharged on {locked.ended_on:%d %b %Y}.")
    if expected_version is not None and locked.version != expected_version:
        raise ValidationError("Someone else changed this referral after you opened it. Reload to see their changes.")
    try:
        end_reason = EndReason(reason)
        if not end_reason.ends_referral:
            raise ValueError(reason)
    except ValueError:
        raise ValidationError({"reason": "Choose an end reason: "
                                         f"{', '.join(r.label for r in EndReason if r.ends_referral)}."}) from None
    if locked.courses.filter(status="active").exists():
        raise ValidationError("This referral has an active course: end the course, and the referral ends with it.")
    ended_on = ended_on or timezone.localdate()
    if ended_on < locked.received_on or ended_on > timezone.localdate():
        raise ValidationError({"ended_on": "The end date must be between the referral date and today."})
    _discharge(locked, reason=end_reason, ended_on=ended_on, by=by)
    locked.refresh_from_db()
    return locked


# --- The front door: the public self-referral form and the referral inbox ------------------------
#
# A self-referral makes a patient and a referral awaiting triage, allocated to nobody: the referral
# inbox (referrals.access.inbox) shows it to the clinicians who triage. A person who may already be
# registered (the same NHS number, or the same name and date of birth) is never merged silently: the
# new record is flagged as a possible duplicate for staff to decide (:func:`decide_duplicate`); the
# same person's second record is then erased by the records officer ("entered in error or
# duplicate", privacy.erasure), which the flag says.


class _PublicForm:
    """The audit actor of the public self-referral form: nobody signed in (no account, pk None).

    ``is_authenticated`` makes audit.log.record snapshot the name and role."""

    pk = None
    is_authenticated = True
    role = "public"

    def get_username(self) -> str:
        return "self-referral form"


PUBLIC_FORM = _PublicForm()

REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
"""The characters of a self-referral's reference: no 0/O, 1/I/L, easy to read out on the phone."""


def new_reference() -> str:
    """A reference to give the person who sent the form (``ABCD-2345``; 31⁸ ≈ 8.5 × 10¹¹ values)."""
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"{chars[:4]}-{chars[4:]}"


def _attempt_key(client: str) -> str:
    """The client's address as stored for rate limiting: an HMAC keyed by the secret key (an
    unkeyed hash of an IPv4 address is reversed by trying all 2³² of them)."""
    return salted_hmac("interpersonal.referrals.self_referral_attempt", client).hexdigest()


def self_referral_window() -> dt.timedelta:
    return dt.timedelta(minutes=settings.INTERPERSONAL_SELF_REFERRAL_WINDOW_MINUTES)


def count_self_referral_post(client: str) -> bool:
    """Count one post of the self-referral form from ``client``; True when the client had already
    sent ``INTERPERSONAL_SELF_REFERRAL_MAX_POSTS`` in the window (this post is refused). Rows older
    than the window are deleted as new ones come, so the table stays bounded."""
    key = _attempt_key(client)
    now = timezone.now()
    since = now - self_referral_window()
    limited = (SelfReferralAttempt.objects.filter(client=key, at__gte=since).count()
               >= settings.INTERPERSONAL_SELF_REFERRAL_MAX_POSTS)
    SelfReferralAttempt.objects.create(client=key, at=now)
    SelfReferralAttempt.objects.filter(at__lt=since).delete()
    return limited


@dataclass(frozen=True)
class Match:
    """A registered patient who may be the person being referred."""

    patient: Any
    by: str
    """SelfReferral.Match: ``nhs_number`` or ``name_and_birth``."""
    open_referral: Referral | None


def find_matches(*, nhs_number: str | None, given_name: str, family_name: str, date_of_birth: dt.date) -> list[Match]:
    """Registered patients who may be this person: the one holding the NHS number (a certain
    identifier: nobody else), else those with the same given and family name (ignoring case) and
    date of birth whose NHS number, if both are known, is the same. Open referrals first."""
    from interpersonal.web.patients.models import Patient

    if nhs_number:
        holder = Patient.objects.filter(nhs_number=nhs_number).first()
        if holder is not None:
            return [Match(holder, SelfReferral.Match.NHS_NUMBER, open_referral_of(holder))]
    same = Patient.objects.filter(given_name__iexact=given_name.strip(), family_name__iexact=family_name.strip(),
                                  date_of_birth=date_of_birth)
    if nhs_number:
        same = same.filter(Q(nhs_number__isnull=True) | Q(nhs_number=nhs_number))
    found = [Match(p, SelfReferral.Match.NAME_AND_BIRTH, open_referral_of(p)) for p in same.order_by("-id")[:20]]
    return sorted(found, key=lambda m: m.open_referral is None)


def _bounded(fields: dict[str, Any], limits: dict[str, int]) -> dict[str, str]:
    """The text fields longer than their bound (interpersonal.web.bounds): the action's own check,
    for callers that are not the form."""
    return {name: f"At most {limit} characters." for name, limit in limits.items()
            if len(str(fields.get(name) or "")) > limit}


DETAIL_LIMITS = {"given_name": bounds.NAME, "family_name": bounds.NAME, "gp_practice": bounds.SHORT_TEXT,
                 "address": bounds.ADDRESS, "email": 254, "phone": bounds.PHONE}


def _clean_email(email: str, errors: dict[str, str]) -> str:
    email = (email or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors.setdefault("email", "Enter an email address like name@example.com.")
    return email


@transaction.atomic
def receive_self_referral(
    *, given_name: str, family_name: str, date_of_birth: dt.date, gp_practice: str, presenting_problem: str,
    contact_method: str, leave_message: bool, consent: bool, nhs_number: str = "", phone: str = "",
    email: str = "", address: str = "", preference: str = "",
) -> SelfReferral:
    """Record what a person sent with the public form: a new patient (allocated to nobody) with a
    referral from themselves, received today and awaiting triage, and the :class:`SelfReferral`
    holding how to contact them and the reference they are shown.

    A registered patient who may be the same person (:func:`find_matches`) is not merged into: the
    new record is flagged ``duplicate = possible`` with that patient's id, for staff to decide. An
    NHS number another patient already holds is kept on the SelfReferral, not on the patient (it is
    unique). Audited as done by the form (:data:`PUBLIC_FORM`)."""
    from interpersonal.web.patients import actions as patients

    details = {"given_name": given_name, "family_name": family_name, "date_of_birth": date_of_birth,
               "nhs_number": nhs_number, "phone": phone, "email": email, "address": address,
               "gp_practice": gp_practice}
    errors = _bounded(details, DETAIL_LIMITS) | _bounded(
        {"presenting_problem": presenting_problem, "preference": preference},
        {"presenting_problem": bounds.NOTE, "preference": bounds.NOTE})
    cleaned: dict[str, Any] = {}
    if not errors:
        try:
            cleaned = patients.clean_details(details)
        except ValidationError as exc:
            errors.update({k: " ".join(v) for k, v in exc.message_dict.items()})
    cleaned["email"] = _clean_email(email, errors)
    cleaned["address"] = (address or "").strip()
    cleaned["gp_practice"] = (gp_practice or "").strip()
    if not cleaned["gp_practice"]:
        errors.setdefault("gp_practice", "Enter the name of your GP practice.")
    if not (presenting_problem or "").strip():
        errors.setdefault("presenting_problem", "Tell us what you would like help with.")
    if not consent:
        errors["consent"] = "To refer yourself, agree that the service may contact you."
    if contact_method not in SelfReferral.ContactMethod.values:
        errors["contact_method"] = "Choose how you would like us to contact you."
    elif not errors:
        needs = {"phone": "phone", "text": "phone", "email": "email", "letter": "address"}[contact_method]
        if not cleaned.get(needs):
            errors[needs] = {"phone": "Enter a phone number, or choose another way for us to contact you.",
                             "email": "Enter an email address, or choose another way for us to contact you.",
                             "address": "Enter your address, or choose another way for us to contact you."}[needs]
    if not errors and not (cleaned.get("phone") or cleaned.get("email")):
        errors["phone"] = "Enter a phone number or an email address, so that we can contact you."
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    matches = find_matches(nhs_number=cleaned.get("nhs_number"), given_name=cleaned["given_name"],
                           family_name=cleaned["family_name"], date_of_birth=cleaned["date_of_birth"])
    match = matches[0] if matches else None
    nhs_number_given = ""
    if match is not None and match.by == SelfReferral.Match.NHS_NUMBER:
        nhs_number_given, cleaned["nhs_number"] = cleaned["nhs_number"], None  # unique: it stays on the submission
    patient = patients.create_patient(by=PUBLIC_FORM, therapist=None, **cleaned)
    referral = receive_referral(patient=patient, by=PUBLIC_FORM, source=ReferralSource.SELF,
                                received_on=timezone.localdate(), presenting_problem=presenting_problem)
    preference = (preference or "").strip()
    if preference:
        Referral.objects.filter(pk=referral.pk).update(patient_preference=preference)
        referral.patient_preference = preference
    submission = None
    for _ in range(5):  # a reference already given (1 in 10¹¹ per pair): draw another
        try:
            with transaction.atomic():
                submission = SelfReferral.objects.create(
                    referral=referral, reference=new_reference(), submitted_at=now, contact_method=contact_method,
                    leave_message=bool(leave_message), consented_at=now, nhs_number_given=nhs_number_given,
                    duplicate_of=match.patient.pk if match else None, duplicate_match=match.by if match else "",
                    duplicate=SelfReferral.Duplicate.POSSIBLE if match else "",
                )
            break
        except IntegrityError:
            continue
    if submission is None:
        raise RuntimeError("could not draw an unused self-referral reference")
    log.record("self_referral.received", actor=PUBLIC_FORM, target=submission, patient_id=patient.pk,
               referral_id=referral.pk, possible_duplicate_of=match.patient.pk if match else None,
               match=match.by if match else "")
    return submission


class NeedsMatchDecision(Exception):
    """Registered patients may be the person being referred (the same name and date of birth):
    the user says whether it is one of them, or someone new, before anything is recorded."""

    def __init__(self, candidates: list[Match]) -> None:
        self.candidates = candidates
        super().__init__(f"{len(candidates)} registered patient(s) may be this person")


MATCH_EXISTING, MATCH_NEW = "existing", "new"


@transaction.atomic
def record_referral(*, by: Any, match: str = "", existing_patient: int | None = None, **fields: Any) -> Referral:
    """Record a referral received from a GP or another professional (or taken by phone), entered
    by a clinician who works the referral inbox: a new referral awaiting triage, allocated to
    nobody yet, for the registered patient it names, or for a new patient.

    The patient is found by NHS number (a certain match: used when the name and date of birth
    agree, refused when they do not), or by name and date of birth: then the user must say which
    (``match="existing"`` with ``existing_patient`` one of the candidates, or ``match="new"``),
    else :class:`NeedsMatchDecision`. A patient with an open referral gets no second one."""
    from interpersonal.web.patients import actions as patients

    if not has_permission(by, Permission.TRIAGE_REFERRALS):
        raise ValidationError("Only clinicians who work the referral inbox record referrals there.")
    details = {k: fields.pop(k) for k in patients.EDITABLE if k in fields}
    unknown = set(fields) - set(RECEIVED_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown fields: {', '.join(sorted(unknown))}")
    missing = {"given_name", "family_name", "date_of_birth"} - set(details) | {"source", "received_on"} - set(fields)
    if missing:
        raise ValidationError(dict.fromkeys(sorted(missing), "Required."))
    errors = _bounded(details, DETAIL_LIMITS)
    cleaned: dict[str, Any] = {}
    try:
        cleaned = patients.clean_details(details)
    except ValidationError as exc:
        errors.update({k: " ".join(v) for k, v in exc.message_dict.items()})
    if "email" in details:
        cleaned["email"] = _clean_email(details["email"], errors)
    dob = cleaned.get("date_of_birth")
    try:
        clean_received(fields, date_of_birth=dob if isinstance(dob, dt.date) else None)
    except ValidationError as exc:
        errors.update({k: " ".join(v) for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    matches = find_matches(nhs_number=cleaned.get("nhs_number"), given_name=cleaned["given_name"],
                           family_name=cleaned["family_name"], date_of_birth=cleaned["date_of_birth"])
    patient = None
    if matches and matches[0].by == SelfReferral.Match.NHS_NUMBER:
        holder = matches[0].patient
        if (holder.given_name.casefold(), holder.family_name.casefold(), holder.date_of_birth) != (
                cleaned["given_name"].casefold(), cleaned["family_name"].casefold(), cleaned["date_of_birth"]):
            raise ValidationError({"nhs_number": f"This NHS number is registered to {holder.local_id}, whose name or "
                                                 "date of birth differ from these. Check the number and the details."})
        patient = holder
    elif matches and match == MATCH_EXISTING:
        patient = next((m.patient for m in matches if m.patient.pk == existing_patient), None)
        if patient is None:
            raise ValidationError({"existing_patient": "Choose one of the registered patients shown, or a new patient."})
    elif matches and match != MATCH_NEW:
        raise NeedsMatchDecision(matches)  # nothing recorded; showing them is audited (access.candidates_shown)
    if patient is None:
        patient = patients.create_patient(by=by, therapist=None, **cleaned)
        how = ""
    else:
        how = matches[0].by if matches[0].patient.pk == patient.pk else SelfReferral.Match.NAME_AND_BIRTH
        current = open_referral_of(patient)
        if current is not None:
            raise ValidationError(
                f"{patient.local_id} already has an open referral, received {current.received_on:%d %b %Y} "
                f"({current.get_status_display().lower()}). A patient has one referral at a time: add what this one "
                "says to it, or end it first.")
    referral = receive_referral(patient=patient, by=by, therapist=None, **fields)
    if how:
        log.record("referral.matched_patient", actor=by, target=referral, patient_id=patient.pk, match=how)
    return referral


@transaction.atomic
def decide_duplicate(*, referral: Referral, same_person: bool, by: Any, expected_version: int) -> SelfReferral:
    """Record a clinician's decision on a self-referral flagged as a possible duplicate: not the
    same person (the flag is cleared), or the same person (this second record is then erased by
    the records officer as "entered in error or duplicate"; the flag says so until then). A
    decision may be changed; refused if someone else decided since ``expected_version``."""
    from interpersonal.web.referrals.access import referrals_visible_to

    if not (has_permission(by, Permission.TRIAGE_REFERRALS)
            and referrals_visible_to(by, write=True).filter(pk=referral.pk).exists()):
        raise ValidationError("Only clinicians who work the referral inbox decide about duplicates.")
    locked = SelfReferral.objects.select_for_update().filter(referral_id=referral.pk).first()
    if locked is None or not locked.duplicate:
        raise ValidationError("This referral is not flagged as a possible duplicate.")
    if locked.version != expected_version:
        raise ValidationError("Someone else decided about this referral after you opened it. Reload to see it.")
    decision = SelfReferral.Duplicate.DUPLICATE if same_person else SelfReferral.Duplicate.NOT_DUPLICATE
    SelfReferral.objects.filter(pk=locked.pk).update(
        duplicate=decision, duplicate_decided_by=by, duplicate_decided_at=timezone.now(), version=locked.version + 1)
    log.record("self_referral.duplicate_decided", actor=by, target=locked, patient_id=referral.patient_id,
               same_person=same_person, duplicate_of=locked.duplicate_of)
    locked.refresh_from_db()
    return locked
