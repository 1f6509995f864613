"""Forms for managing staff accounts and teams (administrators only)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, SetPasswordForm
from django.core.validators import MaxLengthValidator
from django.db.models import Q

from interpersonal.web import bounds
from interpersonal.web.accounts import enrolment
from interpersonal.web.accounts.models import Role, Team

PASSWORD_MAX_LENGTH = 256
"""No password needs more; a longer one is refused before it is hashed (Argon2 over a megabyte
of "password" is seconds of a worker's time)."""


def _bound_password(field: forms.Field) -> None:
    field.validators.append(MaxLengthValidator(PASSWORD_MAX_LENGTH))
    field.max_length = PASSWORD_MAX_LENGTH  # type: ignore[attr-defined]
    field.widget.attrs["maxlength"] = str(PASSWORD_MAX_LENGTH)


class SignInForm(AuthenticationForm):
    """Django's sign-in form, with the username's length checked before anyone is asked about it.

    ``AuthenticationForm`` sets the field's ``max_length`` after the field is built, so no
    validator enforces it: a long username (or one NFKC normalisation lengthens: "\ufdfa" becomes
    18 characters) went on to ``authenticate``, whose failure django-axes records in a 255-character
    column — a 500 on PostgreSQL. No account has a longer name than the model allows, so it is
    refused as a form error, and audited as a failed sign-in for no account, as an unknown username
    is (axes has no attempt to count: no account has that name)."""

    def __init__(self, request: Any = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(request, *args, **kwargs)
        field = self.fields["username"]
        field.validators.append(MaxLengthValidator(field.max_length or 150))
        field.widget.attrs["maxlength"] = str(field.max_length or 150)
        _bound_password(self.fields["password"])

    def clean(self) -> dict[str, Any]:
        if self.has_error("username", "max_length"):
            from interpersonal.web.accounts import signals

            signals.login_failed(sender=type(self), credentials={}, request=self.request)
        return super().clean()


def _supervisors() -> Any:
    return get_user_model().objects.filter(role=Role.SUPERVISOR, is_active=True).order_by("last_name", "first_name")


class StaffForm(forms.Form):
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(required=False)
    role = forms.ChoiceField(choices=Role.choices)
    team = forms.ModelChoiceField(queryset=Team.objects.filter(retired_at__isnull=True), required=False,
                                  empty_label="No team", help_text="Retired teams take no new members.")
    supervisor = forms.ModelChoiceField(
        queryset=_supervisors(), required=False, empty_label="No individual supervisor",
        label="Individual supervisor",
        help_text="For therapists: their individual supervisor, who reads their cases. Choosing another ends the "
                  "current one today; group and accreditation supervision are kept (below, on their page).",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["supervisor"].queryset = _supervisors()
        self.fields["supervisor"].label_from_instance = lambda u: u.display_name
        # A retired team takes no new members; someone already in one keeps it when edited.
        current = self.initial.get("team")
        current_pk = getattr(current, "pk", current)
        self.fields["team"].queryset = Team.objects.filter(Q(retired_at__isnull=True) | Q(pk=current_pk or 0))


class NewStaffForm(StaffForm):
    """No password: the new colleague sets their own with a one-time enrolment link (ADR 0008)."""

    username = forms.CharField(max_length=150)
    field_order = ("username", "first_name", "last_name", "email", "role", "team", "supervisor")


class EditStaffForm(StaffForm):
    is_active = forms.BooleanField(required=False, label="May sign in")


class TeamForm(forms.Form):
    name = forms.CharField(max_length=100)


class RenameTeamForm(TeamForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, max_value=bounds.INT_MAX)


class ResetSecondFactorForm(forms.Form):
    confirm = forms.BooleanField(
        label="I have checked, with the person, that they asked for this",
        help_text="They set up a new authenticator app at their next sign-in, with their own password.",
    )


class ResetSignInForm(forms.Form):
    confirm = forms.BooleanField(
        label="I have checked, with the person, that they asked for this",
        help_text="Their password stops working and their authenticator app is removed at once.",
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=(("confirm", "Confirm"), ("decline", "Decline")), widget=forms.RadioSelect)


class EnrolmentForm(SetPasswordForm):  # type: ignore[type-arg]
    """Choose one's own password (Django's validators), with a server-side bound on its length; for a
    clinical account, with the enrolment code the administrator gave (ADR 0008)."""

    code = forms.CharField(
        max_length=enrolment.MAX_CODE_LENGTH, required=False, label="Enrolment code",
        help_text="The 8-character code the administrator gave you, for example K7QM-3XPA.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
    )
    field_order = ("code", "new_password1", "new_password2")

    def __init__(self, *args: Any, needs_code: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("new_password1", "new_password2"):
            _bound_password(self.fields[name])
        if needs_code:
            self.fields["code"].required = True
        else:
            del self.fields["code"]


def _caseload_holders() -> Any:
    from interpersonal.web.accounts.roles import ROLES, Permission

    roles = [r for r, d in ROLES.items() if Permission.HOLD_CASELOAD in d.permissions]
    return get_user_model().objects.filter(role__in=roles, is_active=True).order_by("last_name", "first_name")


class HandoverForm(forms.Form):
    """Hand a clinician's caseload over to another (accounts.actions.hand_over_caseload)."""

    to_therapist = forms.ModelChoiceField(queryset=_caseload_holders(), label="Hand the caseload over to",
                                          empty_label="Choose a clinician")
    confirm = forms.BooleanField(
        label="The clinical lead has agreed who takes these patients on",
        help_text="A supervisor who does not gain access by it confirms before anything moves.",
    )

    def __init__(self, *args: Any, exclude: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_therapist"].queryset = _caseload_holders().exclude(pk=getattr(exclude, "pk", None))
        self.fields["to_therapist"].label_from_instance = lambda u: u.display_name
