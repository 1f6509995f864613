"""Show an action's ValidationError on a form: field errors beside their fields, the rest
at the top. Actions raise ``ValidationError({"field": "message"})`` (or a plain message)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError


def add_action_errors(form: forms.Form, exc: ValidationError, *, rename: dict[str, str] | None = None) -> None:
    rename = rename or {}
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for name, errors in exc.error_dict.items():
        field = rename.get(name, name)
        messages = [m for e in errors for m in e.messages]
        if field in form.fields and field not in form.errors:
            form.add_error(field, messages)
        else:
            form.add_error(None, messages)
