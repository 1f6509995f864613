"""A course's notes page (with search) and its non-session contacts: record, correct, delete.

Each view: parse → access (``get_course_for_user``, audited; ``write=True`` for the contact
pages: the course's therapist, a supervisor reads only, 403) → action (courses.contacts) →
respond. Invalid input re-renders the form with the message and status 400; nothing is saved.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from interpersonal.web import bounds
from interpersonal.web.accounts.decorators import require_permission
from interpersonal.web.accounts.roles import Permission
from interpersonal.web.audit import log
from interpersonal.web.courses import contacts, notes
from interpersonal.web.courses.access import get_course_for_user
from interpersonal.web.courses.correction_views import DeleteForm, ReasonForm
from interpersonal.web.courses.forms import DATE, TIME
from interpersonal.web.courses.models import CONTACT_WITH_MAX, Contact, ContactCorrection, Course
from interpersonal.web.formerrors import add_action_errors

clinician = require_permission(Permission.HOLD_CASELOAD)
CONTACT_FIELDS = {"at": "date"}
"""Where the action's date-and-time errors show on the form."""


class ContactForm(forms.Form):
    kind = forms.ChoiceField(label="Kind of contact", choices=[("", "Choose…"), *Contact.Kind.choices],
                             error_messages={"required": "Choose the kind of contact."})
    date = bounds.DateField(window=bounds.PAST_CLINICAL, widget=DATE)
    time = forms.TimeField(widget=TIME)
    duration_minutes = forms.IntegerField(label="Duration (minutes)", required=False,
                                          min_value=bounds.SESSION_MINUTES[0], max_value=bounds.SESSION_MINUTES[1])
    with_whom = forms.CharField(label="With whom", max_length=CONTACT_WITH_MAX, required=False,
                                help_text="For liaison, the professional’s role and organisation (for example "
                                          "“GP, Elm Surgery” or “social worker, CMHT”).")
    note = forms.CharField(max_length=bounds.NOTE, widget=forms.Textarea(attrs={"rows": 5}),
                           help_text="What was said or done, and what happens next.",
                           error_messages={"required": "Write what was said or done."})

    def at(self) -> dt.datetime:
        naive = dt.datetime.combine(self.cleaned_data["date"], self.cleaned_data["time"])
        return timezone.make_aware(naive, timezone.get_current_timezone())

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"kind": data["kind"], "at": self.at(), "duration_minutes": data["duration_minutes"],
                "with_whom": data["with_whom"], "note": data["note"]}


class ContactCorrectionForm(ContactForm, ReasonForm):
    """A contact's fields with the reason for correcting them (and the version corrected)."""


def _back(course: Course, anchor: str = "") -> HttpResponse:
    return redirect(reverse("courses:notes", args=[course.pk]) + anchor)


# -- the notes page ----------------------------------------------------------------------------

@require_GET
@clinician
def notes_page(request: HttpRequest, pk: int) -> HttpResponse:
    course = get_course_for_user(request.user, pk, audited=False)  # audited below, with what was shown
    form = notes.SearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    writer = notes.may_correct(request.user, course)
    every = notes.notes_of(course, may_correct=writer)
    found = [n for n in every if n.matches(query)] if query else every
    page = Paginator(found, notes.PER_PAGE).get_page(request.GET.get("page"))
    # The search itself is clinical free text: the trail keeps that a search was made, not its words.
    log.record("course.notes_viewed", actor=request.user, target=course, patient_id=course.patient_id,
               searched=bool(query), shown=len(page.object_list), page=page.number)
    return render(request, "courses/notes.html", {
        "course": course, "patient": course.patient, "form": form, "query": query, "page": page,
        "rows": [notes.shown(n, query) for n in page.object_list], "total": len(every), "matched": len(found),
        "may_record": writer and course.is_active, "forms_with_errors": [form] if form.errors else [],
    }, status=400 if form.errors else 200)


# -- contacts ------------------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
@clinician
def record_contact(request: HttpRequest, pk: int) -> HttpResponse:
    course = get_course_for_user(request.user, pk, write=True)
    now = timezone.localtime()
    form = ContactForm(request.POST if request.method == "POST" else None,
                       initial={"date": now.date(), "time": now.replace(second=0, microsecond=0).time()})
    if form.is_bound and form.is_valid():
        try:
            contact = contacts.record_contact(course=course, by=request.user, **form.values())
        except ValidationError as exc:
            add_action_errors(form, exc, rename=CONTACT_FIELDS)
        else:
            return _back(course, f"#note-contact-{contact.pk}")
    return render(request, "courses/record_contact.html", {
        "course": course, "patient": course.patient, "form": form, "forms_with_errors": [form] if form.errors else [],
    }, status=400 if form.is_bound else 200)


def _contact(course: Course, pk: int) -> Contact:
    contact = Contact.objects.filter(course=course, pk=pk).first()
    if contact is None:
        raise Http404("No such contact in this course")
    return contact


def _contact_initial(contact: Contact) -> dict[str, Any]:
    when = timezone.localtime(contact.at)
    return {"kind": contact.kind, "date": when.date(), "time": when.time().replace(second=0, microsecond=0),
            "duration_minutes": contact.duration_minutes, "with_whom": contact.with_whom, "note": contact.note,
            "version": contact.version}


def _render_contact(request: HttpRequest, course: Course, contact: Contact, form: Any, delete_form: Any,
                    status: int) -> HttpResponse:
    kinds = dict(Contact.Kind.choices)
    history = [{"correction": c, "kind": kinds.get(c.previous.get("kind"), c.previous.get("kind")),
                "with_whom": c.previous.get("with_whom") or "—", "note": c.previous.get("note") or ""}
               for c in ContactCorrection.objects.filter(contact=contact).select_related("by").order_by("-at", "-id")]
    return render(request, "courses/correct_contact.html", {
        "course": course, "patient": course.patient, "contact": contact, "form": form, "delete_form": delete_form,
        "history": history, "forms_with_errors": [f for f in (form, delete_form) if f.errors],
    }, status=status)


@require_http_methods(["GET", "POST"])
@clinician
def correct_contact(request: HttpRequest, pk: int, contact_pk: int) -> HttpResponse:
    course = get_course_for_user(request.user, pk, write=True)
    contact = _contact(course, contact_pk)
    delete_form = DeleteForm(prefix="delete", initial={"version": contact.version})
    if request.method != "POST":
        return _render_contact(request, course, contact, ContactCorrectionForm(initial=_contact_initial(contact)),
                               delete_form, 200)
    form = ContactCorrectionForm(request.POST)
    if form.is_valid():
        try:
            contacts.correct_contact(contact=contact, by=request.user, expected_version=form.cleaned_data["version"],
                                     reason=form.cleaned_data["reason"], **form.values())
        except ValidationError as exc:
            add_action_errors(form, exc, rename=CONTACT_FIELDS)
        else:
            return _back(course, f"#note-contact-{contact.pk}")
    return _render_contact(request, course, contact, form, delete_form, 400)


@require_POST
@clinician
def delete_contact(request: HttpRequest, pk: int, contact_pk: int) -> HttpResponse:
    course = get_course_for_user(request.user, pk, write=True)
    contact = _contact(course, contact_pk)
    delete_form = DeleteForm(request.POST, prefix="delete")
    if delete_form.is_valid():
        try:
            contacts.delete_contact(contact=contact, by=request.user, reason=delete_form.cleaned_data["reason"],
                                    expected_version=delete_form.cleaned_data["version"])
        except ValidationError as exc:
            add_action_errors(delete_form, exc)
        else:
            return _back(course)
    return _render_contact(request, course, contact, ContactCorrectionForm(initial=_contact_initial(contact)),
                           delete_form, 400)
