"""Referral forms: they parse; referrals.actions validates and writes.

The public self-referral form is written for the person referring themselves (GOV.UK-style
wording and a three-part date of birth, which a phone's date picker makes hard to reach); the
staff forms follow the clinic's (patients.forms).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone

from interpersonal.core.identifiers import InvalidNHSNumber, normalise_nhs_number
from interpersonal.web import bounds
from interpersonal.web.patients.forms import RegisterPatientForm
from interpersonal.web.referrals.actions import MATCH_EXISTING, MATCH_NEW
from interpersonal.web.referrals.models import Referral, ReferralSource, SelfReferral

YES_NO = [("yes", "Yes"), ("no", "No")]


def _text(label: str, limit: int, *, required: bool = True, help_text: str = "", textarea: int = 0,
          autocomplete: str = "", **attrs: str) -> forms.CharField:
    widget: forms.Widget = forms.Textarea(attrs={"rows": textarea}) if textarea else forms.TextInput()
    if autocomplete:
        widget.attrs["autocomplete"] = autocomplete
    widget.attrs.update(attrs)
    return forms.CharField(label=label, max_length=limit, required=required, help_text=help_text, widget=widget)


class SelfReferralForm(forms.Form):
    """The public form at /refer/: what a person tells the service about themselves."""

    given_name = _text("First name", bounds.NAME, autocomplete="given-name", spellcheck="false")
    family_name = _text("Last name", bounds.NAME, autocomplete="family-name", spellcheck="false")
    dob_day = forms.IntegerField(label="Day", min_value=1, max_value=31, required=False,
                                 widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "bday-day",
                                                               "maxlength": "2"}))
    dob_month = forms.IntegerField(label="Month", min_value=1, max_value=12, required=False,
                                   widget=forms.TextInput(attrs={"inputmode": "numeric",
                                                                 "autocomplete": "bday-month", "maxlength": "2"}))
    dob_year = forms.IntegerField(label="Year", min_value=bounds.EARLIEST_BIRTH.year, max_value=9999, required=False,
                                  widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "bday-year",
                                                                "maxlength": "4"}))
    nhs_number = _text("NHS number", 14, required=False, inputmode="numeric", autocomplete="off",
                       help_text="If you know it. It is 10 digits, like 485 777 3456. You can find it in the NHS App "
                                 "or on a letter from your GP.")
    phone = bounds.PhoneField(label="Phone number", required=False,
                              help_text="A mobile if you have one, like 07700 900 982.",
                              widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}))
    email = forms.EmailField(label="Email address", required=False, max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}))
    address = _text("Address", bounds.ADDRESS, required=False, textarea=3, autocomplete="street-address",
                    help_text="Only if you would like us to write to you.")
    contact_method = forms.ChoiceField(label="How would you like us to contact you?",
                                       choices=SelfReferral.ContactMethod.choices, widget=forms.RadioSelect,
                                       error_messages={"required": "Choose how you would like us to contact you."})
    leave_message = forms.ChoiceField(
        label="Can we leave a message saying who we are?", choices=YES_NO, widget=forms.RadioSelect,
        help_text="For example on your voicemail, or with someone who answers your phone.",
        error_messages={"required": "Say whether we can leave a message saying who we are."})
    gp_practice = _text("GP practice", bounds.SHORT_TEXT, autocomplete="off",
                        help_text="The name of the surgery where you are registered, and the town.")
    presenting_problem = _text(
        "What would you like help with?", bounds.NOTE, textarea=6,
        help_text="In your own words: what has been troubling you, for how long, and how it affects your life.")
    preference = _text(
        "Is there anything about the help you would prefer?", bounds.NOTE, required=False, textarea=3,
        help_text="For example a kind of therapy, a therapist who is a man or a woman, times that suit you, or an "
                  "interpreter.")
    consent = forms.BooleanField(
        label="I agree that the service may contact me about this referral, using the details I have given.",
        error_messages={"required": "To refer yourself, agree that the service may contact you."})
    website = forms.CharField(label="Leave this field empty", max_length=200, required=False,
                              widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}))
    """A honeypot: hidden from people (display: none), filled by bots that fill every field."""
    started = forms.CharField(max_length=500, required=False, widget=forms.HiddenInput)
    """The signed time the form was opened (referrals.formtokens)."""

    REQUIRED_MESSAGES = {
        "given_name": "Enter your first name.",
        "family_name": "Enter your last name.",
        "gp_practice": "Enter the name of your GP practice.",
        "presenting_problem": "Tell us what you would like help with.",
    }

    DETAILS = ("given_name", "family_name", "nhs_number", "phone", "email", "address", "gp_practice",
               "presenting_problem", "preference", "contact_method")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, message in self.REQUIRED_MESSAGES.items():
            self.fields[name].error_messages["required"] = message

    def clean_nhs_number(self) -> str:
        text: str = self.cleaned_data.get("nhs_number", "")
        if not text.strip():
            return ""
        try:
            return normalise_nhs_number(text)
        except InvalidNHSNumber:
            raise forms.ValidationError("Enter the 10 digits of your NHS number, or leave it empty.") from None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        parts = [data.get(f"dob_{p}") for p in ("day", "month", "year")]
        wrong = [p for p in ("day", "month", "year") if f"dob_{p}" in self.errors]
        if wrong:
            for p in wrong:
                self.errors.pop(f"dob_{p}")
            self.add_error(f"dob_{wrong[0]}", "Date of birth must be a real date, like 27 3 1985.")
        elif all(p is None for p in parts):
            self.add_error("dob_day", "Enter your date of birth.")
        elif any(p is None for p in parts):
            first = ("day", "month", "year")[[p is None for p in parts].index(True)]
            self.add_error(f"dob_{first}", f"Date of birth must include a {first}.")
        else:
            try:
                born = dt.date(parts[2], parts[1], parts[0])  # type: ignore[arg-type]
            except ValueError:
                self.add_error("dob_day", "Date of birth must be a real date, like 27 3 1985.")
            else:
                if not bounds.BIRTH.contains(born):
                    self.add_error("dob_year", "Date of birth must be in the past, and after 1900.")
                else:
                    data["date_of_birth"] = born
        return data

    def submission(self) -> dict[str, Any]:
        """The cleaned answers, as referrals.actions.receive_self_referral takes them."""
        data = self.cleaned_data
        return {**{k: data[k] for k in self.DETAILS}, "date_of_birth": data["date_of_birth"],
                "leave_message": data["leave_message"] == "yes", "consent": data["consent"]}


class NewReferralForm(RegisterPatientForm):
    """A referral from a GP or another professional (or taken by phone), entered by staff: the
    patient's details and the referral's, and, when registered patients may be the same person,
    which one it is (or a new patient)."""

    match = forms.ChoiceField(required=False, widget=forms.RadioSelect, label="Is this one of these patients?",
                              choices=[("", "Not decided"), (MATCH_EXISTING, "Yes"), (MATCH_NEW, "No")])
    existing_patient = forms.IntegerField(required=False, min_value=1, max_value=bounds.INT_MAX,
                                          widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["received_on"].initial = timezone.localdate
        self.fields["source"].initial = ReferralSource.GP

    def referral_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("match", None)
        data.pop("existing_patient", None)
        return data


STATUS_CHOICES = [("", "Any status"), *Referral.Status.choices]


class InboxFilterForm(forms.Form):
    """The inbox's filters (GET): by default, referrals awaiting triage from any source. Anything
    that is not a choice falls back to the default."""

    source = forms.ChoiceField(label="Source", required=False, choices=[("", "Any source"), *ReferralSource.choices])
    status = forms.ChoiceField(label="Status", required=False, choices=STATUS_CHOICES)

    DEFAULT = {"source": "", "status": Referral.Status.AWAITING_TRIAGE}

    def __init__(self, query: Any = None) -> None:
        data = None
        if query is not None:
            data = query.copy() if hasattr(query, "copy") else dict(query)
            if "status" not in data:
                data["status"] = self.DEFAULT["status"]
        super().__init__(data)

    def filters(self) -> dict[str, str]:
        if self.is_valid():
            return {"source": self.cleaned_data["source"], "status": self.cleaned_data["status"]}
        return dict(self.DEFAULT)


class DuplicateDecisionForm(forms.Form):
    same_person = forms.ChoiceField(
        label="Is this the same person?", widget=forms.RadioSelect,
        choices=[("yes", "Yes: the same person (this second record is to be erased)"),
                 ("no", "No: a different person")],
        error_messages={"required": "Say whether this is the same person."})
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, max_value=bounds.INT_MAX)
