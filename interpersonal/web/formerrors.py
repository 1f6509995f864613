"""Show an action's ValidationError on a form: field errors beside their fields, the rest
at the top. Actions raise ``ValidationError({"field": "message"})`` (or a plain message).
Also :func:`posted_version`, the stale-copy check's input read from a button's POST."""

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


def posted_version(value: str | None) -> int | None:
    """The ``version`` a page was shown, as its button posts it back: None when not sent (no check
    asked for); one that is not a whole number is refused, never taken as "no check"."""
    try:
        return int(value) if value is not None and value.strip() else None
    except ValueError:
        raise ValidationError("The form was incomplete; reload the page and try again.") from None
