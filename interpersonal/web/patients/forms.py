"""Patient forms: they parse; patients.actions validates and writes."""

from __future__ import annotations

from typing import Any

from django import forms

from interpersonal.core import demographics as mds
from interpersonal.core.codes import BEFORE_TREATMENT, EndReason
from interpersonal.web import bounds
from interpersonal.web.referrals.models import ReferralSource

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

NOT_ASKED = "Not yet asked"


def _coded(codes: mds.CodeList, label: str) -> forms.ChoiceField:
    return forms.ChoiceField(label=label, required=False, choices=[("", NOT_ASKED), *((c, f"{t} ({c})") for c, t in codes)],
                             help_text=f"Source: {codes.source}.")


def _flag(label: str) -> forms.TypedChoiceField:
    """Yes / no / not yet asked, as True / False / None."""
    return forms.TypedChoiceField(
        label=label, required=False, empty_value=None, coerce=lambda v: {"yes": True, "no": False}.get(v),
        choices=[("", NOT_ASKED), ("yes", "Yes"), ("no", "No")],
    )


def flag_initial(value: bool | None) -> str:
    return {True: "yes", False: "no"}.get(value, "") if value is not None else ""


class PatientForm(forms.Form):
    given_name = forms.CharField(max_length=bounds.NAME)
    family_name = forms.CharField(max_length=bounds.NAME)
    date_of_birth = bounds.DateField(window=bounds.BIRTH, widget=DATE, help_text="For example 1985-03-14.")
    nhs_number = forms.CharField(
        label="NHS number", max_length=14, required=False,
        help_text="Optional. 10 digits; spaces are fine (943 476 5919).",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    phone = bounds.PhoneField(required=False, help_text="Optional. A UK mobile for text reminders, e.g. 07700 900123.")
    email = forms.EmailField(required=False)
    address = forms.CharField(max_length=bounds.ADDRESS, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    gp_practice = forms.CharField(label="GP practice", max_length=bounds.SHORT_TEXT, required=False)
    # NHS Talking Therapies data set (interpersonal.core.demographics cites each code list).
    gender_identity = _coded(mds.GENDER_IDENTITY, "Gender identity")
    ethnic_category = _coded(mds.ETHNIC_CATEGORY, "Ethnic category")
    preferred_language = _coded(mds.PREFERRED_LANGUAGE, "Preferred language")
    interpreter_required = _flag("Interpreter needed")
    disabilities = forms.MultipleChoiceField(
        label="Disability", required=False, widget=forms.CheckboxSelectMultiple,
        choices=[(c, f"{t} ({c})") for c, t in mds.DISABILITY],
        help_text=f'None ticked: not yet asked. "No disability" and "not stated" stand alone. Source: {mds.DISABILITY.source}.',
    )
    employment_status = _coded(mds.EMPLOYMENT_STATUS, "Employment status")
    contact_by_phone = _flag("Consents to phone calls")
    contact_by_sms = _flag("Consents to text messages")
    contact_by_email = _flag("Consents to e-mail")
    contact_by_letter = _flag("Consents to letters")

    data_set_fields = ("gender_identity", "ethnic_category", "preferred_language", "interpreter_required",
                       "disabilities", "employment_status")
    consent_fields = ("contact_by_phone", "contact_by_sms", "contact_by_email", "contact_by_letter")


class ReferralForm(forms.Form):
    """The details a referral is received with (referrals.actions.RECEIVED_FIELDS)."""

    received_on = bounds.DateField(label="Referral received", window=bounds.PAST_CLINICAL, widget=DATE)
    source = forms.ChoiceField(label="Referral source", choices=ReferralSource.choices)
    referrer = forms.CharField(max_length=bounds.SHORT_TEXT, required=False,
                               help_text="Optional. Who referred: name and organisation.")
    presenting_problem = forms.CharField(max_length=bounds.NOTE, required=False,
                                         widget=forms.Textarea(attrs={"rows": 3}))
    problem_descriptor = forms.CharField(
        max_length=8, required=False, label="Problem descriptor (ICD-10)",
        help_text="Optional. The provisional diagnosis code, e.g. F32 (depression), F41.1 (generalised anxiety).",
    )

    referral_fields = ("received_on", "source", "referrer", "presenting_problem", "problem_descriptor")


class RegisterPatientForm(PatientForm, ReferralForm):
    """A new patient with the referral they came with (referrals.models.Referral)."""

    field_order = [*PatientForm.base_fields, *ReferralForm.referral_fields]


class NewPatientForm(RegisterPatientForm):
    """Registering a patient from their own clinician's page: a possible duplicate is flagged
    (patients.actions.possible_duplicates) until the user says this is a different person."""

    different_person = forms.BooleanField(
        required=False, label="This is a different person: register them as a new patient",
        help_text="Tick only after checking: two records of one person split their care and their risk history.",
    )


def end_referral_choices(*, treated: bool) -> list[tuple[str, str]]:
    """The reasons a referral with no active course may end, with their NHS end codes (marked
    where unconfirmed). Before any course: the before-treatment reasons and those that end a
    referral at any stage; after a course: every reason a referral can end for."""
    anytime = (EndReason.REFERRED_ON, EndReason.DECLINED, EndReason.DECEASED)
    reasons = [r for r in EndReason if r.ends_referral and (treated or r in BEFORE_TREATMENT or r in anytime)]
    return [(r.value, f"{r.label} (code {r.nhs_code}{'' if r.nhs_code_confirmed else ', unconfirmed'})")
            for r in reasons]


class EndReferralForm(forms.Form):
    """Ending a referral that has no active course (referrals.actions.end_referral). The reason
    is chosen, never pre-selected."""

    reason = forms.ChoiceField(label="Why the referral ends", error_messages={"required": "Choose why the referral ends."},
                               help_text="NHS Talking Therapies end code of the whole referral.")
    ended_on = bounds.DateField(window=bounds.PAST_CLINICAL, widget=DATE, required=False, help_text="Leave blank for today.")
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, max_value=bounds.INT_MAX)

    def __init__(self, *args: Any, treated: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = [("", "Choose…"), *end_referral_choices(treated=treated)]


class EditPatientForm(PatientForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, max_value=bounds.INT_MAX)
