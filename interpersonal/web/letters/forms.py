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
