"""Patient forms: they parse; patients.actions validates and writes."""

from __future__ import annotations

from django import forms

from interpersonal.web import bounds
from interpersonal.web.referrals.models import ReferralSource

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


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


class RegisterPatientForm(PatientForm):
    """A new patient with the referral they came with (referrals.models.Referral)."""

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


class EditPatientForm(PatientForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, max_value=bounds.INT_MAX)
