"""Forms for managing staff accounts and teams (administrators only)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model

from interpersonal.web.accounts.models import Role, Team


def _supervisors() -> Any:
    return get_user_model().objects.filter(role=Role.SUPERVISOR, is_active=True).order_by("last_name", "first_name")


class StaffForm(forms.Form):
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(required=False)
    role = forms.ChoiceField(choices=Role.choices)
    team = forms.ModelChoiceField(queryset=Team.objects.all(), required=False, empty_label="No team")
    supervisor = forms.ModelChoiceField(
        queryset=_supervisors(), required=False, empty_label="No supervisor",
        help_text="For therapists: the supervisor who may read their cases.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["supervisor"].queryset = _supervisors()
        self.fields["supervisor"].label_from_instance = lambda u: u.display_name


class NewStaffForm(StaffForm):
    username = forms.CharField(max_length=150)
    password = forms.CharField(
        widget=forms.PasswordInput(render_value=False), strip=False,
        help_text="A first password (at least 12 characters); they can change it under 'Your account'.",
    )
    field_order = ("username", "password", "first_name", "last_name", "email", "role", "team", "supervisor")


class EditStaffForm(StaffForm):
    is_active = forms.BooleanField(required=False, label="May sign in")


class TeamForm(forms.Form):
    name = forms.CharField(max_length=100)
