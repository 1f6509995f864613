"""The only writers of patient records (atomic, validated, audited)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from interpersonal.core import demographics as mds
from interpersonal.core.identifiers import InvalidNHSNumber, normalise_nhs_number
from interpersonal.web.accounts.roles import Permission, has_permission
from interpersonal.web.audit import log
from interpersonal.web.bounds import InvalidPhoneNumber, normalise_phone
from interpersonal.web.patients.models import Patient
from interpersonal.web.referrals import actions as referrals

DATA_SET_CODES: dict[str, mds.CodeList] = {
    "gender_identity": mds.GENDER_IDENTITY, "ethnic_category": mds.ETHNIC_CATEGORY,
    "preferred_language": mds.PREFERRED_LANGUAGE, "employment_status": mds.EMPLOYMENT_STATUS,
}
"""The coded person characteristics of the NHS Talking Therapies data set (core.demographics)."""
DATA_SET_FLAGS = ("interpreter_required", *(f"contact_by_{channel}" for channel, _ in mds.CHANNELS))
"""Yes / no / not yet asked (None)."""
DATA_SET = (*DATA_SET_CODES, "disabilities", *DATA_SET_FLAGS)

EDITABLE = (
    "given_name", "family_name", "date_of_birth", "nhs_number", "phone", "email", "address", "gp_practice",
    *DATA_SET,
)


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    today = timezone.localdate()
    out = dict(fields)
    for name in ("given_name", "family_name"):
        if name in out:
            out[name] = (out[name] or "").strip()
            if not out[name]:
                errors[name] = "Required."
    if out.get("nhs_number"):
        try:
            out["nhs_number"] = normalise_nhs_number(out["nhs_number"])
        except InvalidNHSNumber as exc:
            errors["nhs_number"] = str(exc)
    elif "nhs_number" in out:
        out["nhs_number"] = None
    if out.get("phone"):  # the SMS gateway's address: E.164 or nothing (bounds.normalise_phone)
        try:
            out["phone"] = normalise_phone(out["phone"])
        except InvalidPhoneNumber as exc:
            errors["phone"] = str(exc)
    for name, codes in DATA_SET_CODES.items():
        if name in out:
            out[name] = out[name] or ""
            try:
                codes.check(out[name])
            except mds.InvalidCode:
                errors[name] = f"Choose one of the {codes.name} codes."
    for name in DATA_SET_FLAGS:
        if name in out and out[name] not in (True, False, None):
            errors[name] = "Yes, no, or not yet asked."
    if "disabilities" in out:
        try:
            given = out["disabilities"] or []
            if isinstance(given, str) or not all(isinstance(code, str) for code in given):
                raise mds.InvalidCode(mds.DISABILITY, given)
            out["disabilities"] = list(mds.clean_disabilities(given))
        except mds.InvalidCode:
            errors["disabilities"] = ('Choose disability codes from the list; "no disability" and "not stated" '
                                      "stand alone.")
    dob = out.get("date_of_birth")
    if "date_of_birth" in out and (not isinstance(dob, dt.date) or dob > today or dob.year < 1900):
        errors["date_of_birth"] = "Give a date of birth between 1900 and today."
    if errors:
        raise ValidationError(errors)
    return out


def clean_details(fields: dict[str, Any]) -> dict[str, Any]:
    """A patient's details as :func:`create_patient` stores them (names stripped, NHS number and
    phone normalised, the date of birth checked); a ValidationError names each wrong field."""
    return _clean(fields)


def _local_id_for(pk: int) -> str:
    """The local ID a new patient gets: from the row's own id, which the database never hands out
    twice — so an erased patient's local ID (printed on letters) never names someone else, and
    two registrations at once cannot collide."""
    return f"P{pk:06d}"


POSSIBLE_DUPLICATE = (
    "A patient with this name and date of birth is already registered. If this is the same person, do not "
    "register them again: ask a colleague who triages to find their record. If it is a different person, "
    "say so and save again."
)


def possible_duplicates(*, given_name: str, family_name: str, date_of_birth: dt.date,
                        nhs_number: str | None = None) -> list[Patient]:
    """Registered patients who may be the person about to be registered: the same given and family
    name (ignoring case) and date of birth, and no different NHS number — the referral inbox's own
    matcher (:func:`referrals.actions.find_matches`). A patient holding the same NHS number is not
    a possible duplicate but a certain one, which :func:`create_patient` refuses outright."""
    from interpersonal.web.referrals.models import SelfReferral

    return [m.patient for m in referrals.find_matches(nhs_number=nhs_number, given_name=given_name,
                                                      family_name=family_name, date_of_birth=date_of_birth)
            if m.by == SelfReferral.Match.NAME_AND_BIRTH]


@transaction.atomic
def register_patient(*, by: Any, therapist: Any = None, local_id: str | None = None, different_person: bool = False,
                     **fields: Any) -> Patient:
    """Register a referred patient, allocated to ``therapist`` (by default: ``by``), with the
    referral they came with (``source``, ``received_on`` and the other
    :data:`referrals.actions.RECEIVED_FIELDS`): it awaits screening and triage.

    Refused (``different_person`` error, code ``possible_duplicate``) while another patient has the
    same name and date of birth (:func:`possible_duplicates`), unless ``different_person`` says the
    user has checked that this is someone else; the registration then records which patients it
    was told apart from (``patient.registered_as_different_person``, identifiers only)."""
    if not has_permission(by, Permission.HOLD_CASELOAD):
        raise ValidationError("Only clinicians with a caseload can register patients.")
    referral_fields = {k: fields.pop(k) for k in referrals.RECEIVED_FIELDS if k in fields}
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise ValidationError(f"Unknown fields: {', '.join(sorted(unknown))}")
    missing = {"given_name", "family_name", "date_of_birth"} - set(fields) | {"source", "received_on"} - set(referral_fields)
    if missing:
        raise ValidationError(dict.fromkeys(sorted(missing), "Required."))
    errors: dict[str, Any] = {}
    try:
        cleaned = _clean(fields)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        cleaned = {}
    try:
        dob = cleaned.get("date_of_birth")
        referrals.clean_received(referral_fields, date_of_birth=dob if isinstance(dob, dt.date) else None)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    matches = possible_duplicates(given_name=cleaned["given_name"], family_name=cleaned["family_name"],
                                  date_of_birth=cleaned["date_of_birth"], nhs_number=cleaned.get("nhs_number"))
    if matches and not different_person:
        raise ValidationError({"different_person": ValidationError(POSSIBLE_DUPLICATE, code="possible_duplicate")})
    patient = create_patient(by=by, therapist=therapist or by, local_id=local_id, **cleaned)
    if matches:
        log.record("patient.registered_as_different_person", actor=by, target=patient, patient_id=patient.pk,
                   possible_duplicate_ids=[m.pk for m in matches])
    referrals.receive_referral(patient=patient, by=by, therapist=patient.therapist, **referral_fields)
    return patient


@transaction.atomic
def create_patient(*, by: Any, therapist: Any = None, local_id: str | None = None, **fields: Any) -> Patient:
    """The patient's record alone (validated, audited as ``patient.registered``), allocated to
    ``therapist`` (None: to nobody yet, as a referral waiting in the inbox). No role check: the
    caller's action decides who may register — :func:`register_patient` (a clinician), and
    referrals.actions for the referral inbox and the public self-referral form (``by`` is then
    the form, not a user). Always followed, in the same transaction, by the patient's referral."""
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise ValidationError(f"Unknown fields: {', '.join(sorted(unknown))}")
    missing = {"given_name", "family_name", "date_of_birth"} - set(fields)
    if missing:
        raise ValidationError(dict.fromkeys(sorted(missing), "Required."))
    cleaned = _clean(fields)
    if cleaned.get("nhs_number") and Patient.objects.filter(nhs_number=cleaned["nhs_number"]).exists():
        raise ValidationError({"nhs_number": "A patient with this NHS number is already registered."})
    try:
        with transaction.atomic():
            # Without a given local ID, a unique placeholder until the row has its id.
            patient = Patient.objects.create(local_id=local_id or f"new-{uuid.uuid4().hex[:16]}",
                                             therapist=therapist, **cleaned)
            if not local_id:
                patient.local_id = _local_id_for(patient.pk)
                Patient.objects.filter(pk=patient.pk).update(local_id=patient.local_id)
    except IntegrityError:
        raise ValidationError({"local_id": "This local ID is already in use."}) from None
    log.record("patient.registered", actor=by, target=patient, patient_id=patient.pk)
    return patient


@transaction.atomic
def update_patient(*, patient: Patient, by: Any, expected_version: int, **fields: Any) -> Patient:
    """Change a patient's details; refused if someone else saved since ``expected_version``."""
    from interpersonal.web.patients.access import patients_visible_to

    if not patients_visible_to(by, write=True).filter(pk=patient.pk).exists():
        raise ValidationError("Only the patient's own clinicians can change their details.")
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise ValidationError(f"Unknown fields: {', '.join(sorted(unknown))}")
    cleaned = _clean(fields)
    if cleaned.get("nhs_number") and Patient.objects.filter(nhs_number=cleaned["nhs_number"]).exclude(pk=patient.pk).exists():
        raise ValidationError({"nhs_number": "A patient with this NHS number is already registered."})
    changed = [k for k, v in cleaned.items() if getattr(patient, k) != v]
    updated = Patient.objects.filter(pk=patient.pk, version=expected_version).update(
        version=expected_version + 1, updated_at=timezone.now(), **cleaned
    )
    if not updated:
        raise ValidationError("Someone else changed this record after you opened it. Reload to see their changes.")
    patient.refresh_from_db()
    log.record("patient.updated", actor=by, target=patient, patient_id=patient.pk, fields=changed)
    return patient
