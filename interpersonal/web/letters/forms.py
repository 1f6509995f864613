from __future__ import annotations

from django import forms

from interpersonal.web import bounds
from interpersonal.web.letters.models import MAX_BODY_CHARS, Letter, too_long


class LetterForm(forms.Form):
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 28, "class": "letter-body", "spellcheck": "true",
                                     "maxlength": str(MAX_BODY_CHARS)}),
        strip=False, required=False, label="Letter",
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=bounds.INT_MAX)

    def clean_body(self) -> str:
        body = self.cleaned_data.get("body", "")
        problem = too_long(body)
        if problem:
            raise forms.ValidationError(problem)
        return body


class NewLetterForm(forms.Form):
    kind = forms.ChoiceField(choices=Letter.Kind.choices)


INCOMPLETE = "The form was incomplete; reload the letter and try again."


class FinaliseForm(forms.Form):
    """Finalise: the version shown, the confirmation ticked, and (from the letter's own form) the
    text to save first."""

    version = forms.CharField(max_length=10, error_messages={
        "required": INCOMPLETE, "max_length": INCOMPLETE})
    body = forms.CharField(strip=False, required=False)
    confirm = forms.BooleanField(
        required=True, label="I have read the letter through and it is ready to send. Once final, it cannot be changed.",
        error_messages={"required": "Not finalised: tick the box to confirm the letter is ready to send "
                                    "(once final, it cannot be changed)."},
    )

    def clean_body(self) -> str:
        body = self.cleaned_data.get("body", "")
        problem = too_long(body)
        if problem:
            raise forms.ValidationError(problem)
        return body

    def clean_version(self) -> int:
        """Digits only: "1.0", "1e0" or "+1" is a garbled form, never taken as version 1."""
        value = self.cleaned_data["version"]
        if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= bounds.INT_MAX:
            raise forms.ValidationError(INCOMPLETE)
        return int(value)
