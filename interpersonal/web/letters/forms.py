from __future__ import annotations

from django import forms

from interpersonal.web.letters.models import Letter


class LetterForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 28, "class": "letter-body", "spellcheck": "true"}),
                           strip=False, required=False, label="Letter")
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class NewLetterForm(forms.Form):
    kind = forms.ChoiceField(choices=Letter.Kind.choices)
