"""Every field of every form has a bound, kept on the server (issue #12; interpersonal.web.bounds).

Every Form class under ``interpersonal.web`` is found by walking the package, instantiated (with
the arguments its constructor needs, below), and every field checked: text has a ``max_length``
(and its visible widget a ``maxlength``), a number a ``min_value`` and a ``max_value``, a date a
plausible-date window. A choice, a yes/no and a time are bounded by what they accept. Then each
bound is exercised: text one character over is a field error, and so are the dates 0001-01-01 and
9999-12-31 — a form error, never a 500 or a course's baseline.
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import pkgutil
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from django import forms

import interpersonal.web
from interpersonal.core import measures
from interpersonal.web import bounds

EXEMPT: dict[tuple[str, str], str] = {
    # ("interpersonal.web.<app>.forms.<Form>", "field"): how its bound is kept instead.
    **{(f"interpersonal.web.courses.forms.{form}", "alerts_seen"): (
        "courses.forms.AlertDecisionForm.clean_alerts_seen: at most 1000 ids of at most 18 digits, the error shown "
        "at the top of the form (a max_length error would sit on the hidden field, unseen)")
       for form in ("AlertDecisionForm", "EndCourseForm", "StepUpForm")},
    ("interpersonal.web.letters.forms.LetterForm", "body"): (
        "letters.models.too_long, in clean_body and again in letters.actions.edit_letter: 20 000 characters "
        "with a line break counted once (a browser sends CRLF, which max_length would count twice); the "
        "textarea carries maxlength"),
    ("interpersonal.web.letters.forms.FinaliseForm", "body"): (
        "the same text posted by the same form to finalise: letters.models.too_long in clean_body and again in "
        "letters.actions.edit_letter, which finalise_letter calls first"),
}

BOUNDED_BY_WHAT_THEY_ACCEPT = (forms.ChoiceField, forms.BooleanField, forms.TimeField)
"""Choice fields (incl. typed, multiple and model choices) accept only their choices; a
yes/no only yes or no; a time only 00:00–23:59."""


def _instrument() -> measures.Instrument:
    return measures.get("phq9")


CONSTRUCTORS: dict[str, Callable[[type[forms.BaseForm], Any], forms.BaseForm]] = {
    "interpersonal.web.accounts.forms.SignInForm": lambda cls, data: cls(None, data),  # (request, data)
    "interpersonal.web.accounts.forms.EnrolmentForm": lambda cls, data: cls(SimpleNamespace(), data),  # (user, data)
    "interpersonal.web.assessments.forms.ScoreForm": lambda cls, data: cls(_instrument(), data),
    "interpersonal.web.outcomes.forms.FilterForm": lambda cls, data: cls(data, providers=["P1"], therapists=["T1"]),
    "interpersonal.web.privacy.forms.EraseForm": lambda cls, data: cls(data, patient=SimpleNamespace(local_id="P000001")),
    "interpersonal.web.questionnaires.forms.QuestionForm": lambda cls, data: cls(_instrument().items[0], data),
    "interpersonal.web.questionnaires.forms.AllQuestionsForm": lambda cls, data: cls([_instrument()], data),
    "interpersonal.web.supervision.forms.LogSessionForm": lambda cls, data: cls(data, supervisees=_no_users()),
    "interpersonal.web.supervision.forms.AddRelationshipForm": lambda cls, data: cls(
        data, supervisee=SimpleNamespace(pk=0)),
    "interpersonal.web.questionnaires.forms.SendForm": lambda cls, data: cls(
        data, choices=[_instrument()], sessions=_no_sessions(), default=[]),
}
"""Forms whose constructor takes more than the data."""


def _no_users() -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.none()


def _no_sessions() -> Any:
    from interpersonal.web.courses.models import TherapySession

    return TherapySession.objects.none()


def form_classes() -> list[tuple[str, type[forms.BaseForm]]]:
    found = []
    for module in pkgutil.walk_packages(interpersonal.web.__path__, "interpersonal.web."):
        if any(part in module.name for part in (".migrations", ".management", "settings", "wsgi")):
            continue
        loaded = importlib.import_module(module.name)
        for value in vars(loaded).values():
            if (inspect.isclass(value) and issubclass(value, forms.BaseForm)
                    and value.__module__ == loaded.__name__):
                found.append((f"{value.__module__}.{value.__qualname__}", value))
    return sorted(found, key=lambda pair: pair[0])


FORMS = form_classes()
CHECKED = FORMS


def make(name: str, cls: type[forms.BaseForm], data: Any = None) -> forms.BaseForm:
    return CONSTRUCTORS[name](cls, data) if name in CONSTRUCTORS else cls(data)


def problems(name: str, form: forms.BaseForm) -> list[str]:
    out = []
    for field_name, field in form.fields.items():
        if (name, field_name) in EXEMPT:
            continue
        if isinstance(field, BOUNDED_BY_WHAT_THEY_ACCEPT):
            continue
        if isinstance(field, forms.CharField):
            if field.max_length is None:
                out.append(f"{field_name}: text without max_length")
            elif not field.widget.is_hidden and field.widget.attrs.get("maxlength") != str(field.max_length):
                out.append(f"{field_name}: the widget does not carry maxlength")
        elif isinstance(field, forms.IntegerField | forms.DecimalField | forms.FloatField):
            if field.min_value is None or field.max_value is None:
                out.append(f"{field_name}: a number without min_value and max_value")
        elif isinstance(field, forms.DateField | forms.DateTimeField):
            if bounds.window_of(field) is None:
                out.append(f"{field_name}: a date without a plausible-date window (bounds.DateField)")
        else:
            out.append(f"{field_name}: a {type(field).__name__} this test does not know how to bound")
    return out


def test_the_walk_finds_the_forms():
    names = {name for name, _ in FORMS}
    assert {"interpersonal.web.patients.forms.PatientForm", "interpersonal.web.courses.forms.MeasureMetaForm",
            "interpersonal.web.assessments.forms.ScoreForm"} <= names


@pytest.mark.parametrize(("name", "cls"), CHECKED, ids=[name.removeprefix("interpersonal.web.") for name, _ in CHECKED])
def test_every_field_of_the_form_has_a_bound(name, cls):
    assert problems(name, make(name, cls)) == []


@pytest.mark.django_db  # a refused sign-in is audited (accounts.forms.SignInForm)
@pytest.mark.parametrize(("name", "cls"), CHECKED, ids=[name.removeprefix("interpersonal.web.") for name, _ in CHECKED])
def test_text_one_character_over_its_bound_is_a_field_error(name, cls):
    form = make(name, cls)
    texts = {f: field.max_length for f, field in form.fields.items()
             if isinstance(field, forms.CharField) and field.max_length is not None}
    bound = make(name, cls, {f: "7" * (n + 1) for f, n in texts.items()})
    bound.is_valid()
    assert sorted(f for f in texts if f not in bound.errors) == []


@pytest.mark.parametrize("date", ["0001-01-01", "9999-12-31", "1899-12-31"])
@pytest.mark.parametrize(("name", "cls"), CHECKED, ids=[name.removeprefix("interpersonal.web.") for name, _ in CHECKED])
def test_an_implausible_date_is_a_field_error(name, cls, date):
    form = make(name, cls)
    dates = [f for f, field in form.fields.items() if isinstance(field, forms.DateField | forms.DateTimeField)]
    bound = make(name, cls, dict.fromkeys(dates, date))
    bound.is_valid()
    assert sorted(f for f in dates if f not in bound.errors) == []


# --- the windows themselves ---------------------------------------------------------------


def test_a_date_of_birth_is_from_1900_to_today(settings):
    today = dt.date(2026, 12, 4)
    assert bounds.BIRTH.contains(dt.date(1900, 1, 1), today=today)
    assert bounds.BIRTH.contains(today, today=today)
    assert not bounds.BIRTH.contains(dt.date(1899, 12, 31), today=today)
    assert not bounds.BIRTH.contains(today + dt.timedelta(days=1), today=today)


def test_a_measure_date_is_from_2000_to_today_never_ahead():
    today = dt.date(2026, 12, 4)
    assert bounds.PAST_CLINICAL.contains(dt.date(2000, 1, 1), today=today)
    assert not bounds.PAST_CLINICAL.contains(dt.date(1999, 12, 31), today=today)
    assert not bounds.PAST_CLINICAL.contains(today + dt.timedelta(days=1), today=today)


def test_a_booking_may_be_up_to_a_year_ahead():
    today = dt.date(2026, 12, 4)
    assert bounds.CLINICAL.contains(today + dt.timedelta(days=366), today=today)
    assert not bounds.CLINICAL.contains(today + dt.timedelta(days=367), today=today)


def test_the_window_moves_with_the_calendar(settings):
    from django.utils import timezone

    validator = bounds.PlausibleDate(bounds.PAST_CLINICAL)
    validator(timezone.localdate())  # today is in; nothing fixed at import time
    with pytest.raises(forms.ValidationError, match="cannot be in the future"):
        validator(timezone.localdate() + dt.timedelta(days=1))


# --- phone numbers ------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "stored"), [
    ("07700 900123", "+447700900123"),
    ("07700-900-123", "+447700900123"),
    ("(01632) 960 001", "+441632960001"),
    ("+44 7700 900123", "+447700900123"),
    ("+44 (0)7700 900123", "+447700900123"),
    ("0044 7700 900123", "+447700900123"),
    ("+353 85 123 4567", "+353851234567"),
])
def test_a_phone_number_is_stored_in_e164(typed, stored):
    assert bounds.normalise_phone(typed) == stored


@pytest.mark.parametrize("typed", ["<b>01234</b>", "1e308", "01234", "7700900123", "+0 123 456 789", "call me",
                                   "07700 900123 ext 4", "٠٧٧٠٠٩٠٠١٢٣", "+44 7700 900123 4567 89", "++447700900123"])
def test_anything_else_is_not_a_phone_number(typed):
    with pytest.raises(bounds.InvalidPhoneNumber):
        bounds.normalise_phone(typed)


# --- the actions keep the windows too: a command, the API or a test calls them without a form ---


def _register(by, course, day):
    from interpersonal.web.patients.actions import register_patient

    register_patient(by=by, given_name="Ada", family_name="Window", date_of_birth=dt.date(1980, 1, 1),
                     received_on=day, source="gp")


def _start(by, course, day):
    from interpersonal.web.courses.actions import start_course

    start_course(patient=course.patient, protocol="ipt", therapist=by, by=by, started_on=day)


def _agree(by, course, day):
    from interpersonal.web.formulation.actions import revise_ipaf

    revise_ipaf(course=course, by=by, based_on=None, agreed_with_patient=True, agreed_on=day)


def _event(by, course, day):
    from interpersonal.web.formulation.actions import add_event

    add_event(course=course, by=by, occurred_on=day, event="Moved house", mood=0)


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "act", "day"), [
    ("received_on", _register, dt.date(1999, 12, 31)),  # after the date of birth, before any clinical record
    ("started_on", _start, dt.date(1999, 12, 31)),
    ("started_on", _start, dt.date(1, 1, 1)),
    ("agreed_on", _agree, dt.date(1999, 12, 31)),
    ("occurred_on", _event, dt.date(1899, 12, 31)),
    ("occurred_on", _event, dt.date(1, 1, 1)),
])
def test_an_action_refuses_an_implausible_date(therapist, dit_course, ipt_course, field, act, day):
    from django.core.exceptions import ValidationError

    course = ipt_course if act is _event else dit_course
    with pytest.raises(ValidationError) as refused:
        act(therapist, course, day)

    assert field in refused.value.message_dict
