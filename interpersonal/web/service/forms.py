"""Waiting-list and operations forms: they parse; service.actions validates and writes."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django import forms

from interpersonal.web import bounds
from interpersonal.web.service.models import COST_MAX_DIGITS, WEEKLY_CAPACITY_MAX, OptInInvitation, StaffGrade

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class InviteForm(forms.Form):
    channel = forms.ChoiceField(label="Send the invitation by", widget=forms.RadioSelect,
                                choices=OptInInvitation.Channel.choices)
    sent_on = bounds.DateField(window=bounds.PAST_CLINICAL, widget=DATE, required=False, label="Date of the invitation",
                               help_text="Leave blank for today. The patient is asked to opt in within the "
                                         "service's opt-in period from this date.")

    def __init__(self, *args: Any, channels: Sequence[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if channels is not None:
            field = self.fields["channel"]
            assert isinstance(field, forms.ChoiceField)  # noqa: S101 - declared above
            field.choices = [(v, label) for v, label in OptInInvitation.Channel.choices if v in channels]


class OptedInForm(forms.Form):
    opted_in_on = bounds.DateField(window=bounds.PAST_CLINICAL, widget=DATE, required=False,
                                   label="Date the patient opted in", help_text="Leave blank for today.")


class DischargeForm(forms.Form):
    """The bulk discharge's confirmation; the referrals come as ``referral`` values "id:version"."""

    confirm = forms.BooleanField(
        label="I have checked these referrals: discharge them as not opted in",
        error_messages={"required": "Tick the box to confirm the discharge."},
    )


class GradeForm(forms.Form):
    name = forms.CharField(label="Grade", max_length=100,
                           help_text="For example: Band 7 high-intensity therapist.")


class GradeCostForm(forms.Form):
    grade = forms.ModelChoiceField(queryset=StaffGrade.objects.all(), empty_label=None)
    cost_per_session = forms.DecimalField(
        label="Cost of one attended treatment session (£)", min_value=Decimal("0.01"),
        max_value=Decimal("999999.99"), max_digits=COST_MAX_DIGITS, decimal_places=2)
    effective_from = bounds.DateField(window=bounds.CLINICAL, widget=DATE, label="For sessions from")
    source = forms.CharField(label="Source of the figure", max_length=bounds.SHORT_TEXT, required=False,
                             help_text="A pay scale or unit-cost publication, so the figure can be checked.")


class StaffProfileForm(forms.Form):
    grade = forms.ModelChoiceField(queryset=StaffGrade.objects.all(), required=False, empty_label="No grade")
    weekly_capacity = forms.IntegerField(label="Treatment sessions a week", required=False, min_value=0,
                                         max_value=WEEKLY_CAPACITY_MAX)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0, max_value=bounds.INT_MAX)
