"""Letters: list a course's letters, draft, edit (optimistic locking), finalise, revise, and
ask for a PDF — made by the task worker, followed on a progress page and downloaded when ready
(documents app). Each view: parse → access (audited) → action → respond."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from interpersonal.web.accounts.decorators import require_permission
from interpersonal.web.accounts.roles import Permission, has_permission
from interpersonal.web.courses.access import get_course_for_user
from interpersonal.web.courses.models import Course
from interpersonal.web.documents import actions as documents
from interpersonal.web.documents import views as document_pages
from interpersonal.web.documents.models import Document
from interpersonal.web.letters import actions, kept
from interpersonal.web.letters.access import get_letter_for_user
from interpersonal.web.letters.forms import FinaliseForm, LetterForm, NewLetterForm
from interpersonal.web.letters.models import Letter

clinician = require_permission(Permission.HOLD_CASELOAD)

WARN_BEFORE_SECONDS = 120
"""How long before the idle timeout the letter page warns (the page's script; without it, the
text posted after the timeout is kept all the same, see kept.py)."""


def keeps_text_after_timeout(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """For the views a letter's text is posted to: a post that arrives after the session ended
    is kept (kept.keep) before the user is sent to sign in, and back to the letter afterwards,
    where it is restored. Any other request without a user is sent to sign in, as everywhere."""
    @wraps(view)
    def wrapped(request: HttpRequest, pk: int, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            return view(request, pk, *args, **kwargs)
        if request.method == "POST":
            kept.keep(request, pk)
        return redirect_to_login(reverse("letters:edit", args=[pk]))

    return login_not_required(wrapped)


def _may_write(user, course: Course) -> bool:
    return course.therapist_id == user.pk and has_permission(user, Permission.HOLD_CASELOAD)


def _render_list(request: HttpRequest, course: Course, *, errors: list[str] | None = None, status: int = 200) -> HttpResponse:
    letters = list(Letter.objects.filter(course=course).select_related("created_by", "finalised_by")
                   .order_by("kind", "-number"))
    kinds = [(k, Letter.Kind(k).label) for k in actions.kinds_for(course)]
    return render(request, "letters/list.html", {
        "course": course, "patient": course.patient, "letters": letters, "kinds": kinds,
        "may_write": _may_write(request.user, course), "errors": errors or [],
    }, status=status)


@require_GET
@clinician
def letter_list(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_list(request, get_course_for_user(request.user, pk))


@require_POST
@clinician
def new(request: HttpRequest, pk: int) -> HttpResponse:
    course = get_course_for_user(request.user, pk, write=True)
    form = NewLetterForm(request.POST)
    if not form.is_valid():
        return _render_list(request, course, errors=["Choose which letter to write."], status=400)
    try:
        letter = actions.draft_letter(course=course, kind=form.cleaned_data["kind"], by=request.user)
    except ValidationError as exc:
        return _render_list(request, course, errors=exc.messages, status=400)
    return redirect("letters:edit", letter.pk)


def _render_letter(request: HttpRequest, letter: Letter, form: LetterForm | None = None, *,
                   stale: actions.StaleLetter | None = None, errors: list[str] | None = None,
                   restored: kept.KeptText | None = None, confirm_error: str = "",
                   status: int = 200) -> HttpResponse:
    form = form or LetterForm(initial={"body": letter.body, "version": letter.version})
    may_write = _may_write(request.user, letter.course) and not letter.is_final
    return render(request, "letters/edit.html", {
        "letter": letter, "course": letter.course, "patient": letter.course.patient, "form": form,
        "may_write": may_write,
        "may_revise": _may_write(request.user, letter.course) and letter.is_final
        and not Letter.objects.filter(supersedes=letter).exists(),
        "stale": stale, "errors": errors or [], "restored": restored, "confirm_error": confirm_error,
        "prompts": actions.placeholders(letter.body) if may_write else [],
        "owner": kept.owner_token(request.user, letter) if may_write else "",
        "idle_seconds": settings.SESSION_COOKIE_AGE, "warn_seconds": WARN_BEFORE_SECONDS,
    }, status=status)


def _restore(request: HttpRequest, letter: Letter) -> HttpResponse:
    """The letter's page with the text its user posted after their session ended, if any."""
    restored = kept.take(request, letter)
    if restored is None:
        return _render_letter(request, letter)
    form = LetterForm(initial={"body": restored.body, "version": restored.version})
    return _render_letter(request, letter, form if not letter.is_final else None, restored=restored)


@keeps_text_after_timeout
@require_http_methods(["GET", "POST"])
@clinician
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    if request.method == "GET":
        return _restore(request, get_letter_for_user(request.user, pk))
    letter = get_letter_for_user(request.user, pk, write=True)
    form = LetterForm(request.POST)
    if not form.is_valid():
        errors = list(form.errors.get("body", [])) or ["The form was incomplete; reload the letter."]
        return _render_letter(request, letter, form, errors=errors, status=400)
    try:
        actions.edit_letter(letter=letter, by=request.user, expected_version=form.cleaned_data["version"],
                            body=form.cleaned_data["body"])
    except actions.StaleLetter as exc:
        # Keep the user's text; the next save is made against the version they have now seen.
        kept = LetterForm(initial={"body": form.cleaned_data["body"], "version": exc.letter.version})
        return _render_letter(request, exc.letter, kept, stale=exc, status=409)
    except ValidationError as exc:
        return _render_letter(request, letter, form, errors=exc.messages, status=400)
    return redirect("letters:edit", letter.pk)


@keeps_text_after_timeout
@require_POST
@clinician
def finalise(request: HttpRequest, pk: int) -> HttpResponse:
    """Save the posted text (when the letter's form posts it) and finalise it — only when the
    therapist ticked the confirmation, and refused while a ``[[prompt]]`` remains."""
    letter = get_letter_for_user(request.user, pk, write=True)
    form = FinaliseForm(request.POST)
    posted_body = request.POST.get("body")
    # On any refusal the page shows the text as posted, never the saved one over it.
    kept_form = LetterForm(request.POST) if posted_body is not None else None
    if not form.is_valid():
        if "version" in form.errors or "body" in form.errors:
            errors = list(form.errors.get("body", [])) or ["The form was incomplete; reload the letter."]
            return _render_letter(request, letter, kept_form, errors=errors, status=400)
        message = form.errors["confirm"][0]
        return _render_letter(request, letter, kept_form, errors=[message], confirm_error=message, status=400)
    try:
        actions.finalise_letter(letter=letter, by=request.user, expected_version=form.cleaned_data["version"],
                                body=form.cleaned_data["body"] if posted_body is not None else None)
    except actions.StaleLetter as exc:
        kept_stale = LetterForm(initial={"body": posted_body, "version": exc.letter.version}) if posted_body else None
        return _render_letter(request, exc.letter, kept_stale, stale=exc, status=409)
    except ValidationError as exc:
        return _render_letter(request, letter, kept_form, errors=exc.messages, status=400)
    return redirect("letters:edit", letter.pk)


@require_POST
@clinician
def new_version(request: HttpRequest, pk: int) -> HttpResponse:
    letter = get_letter_for_user(request.user, pk, write=True)
    try:
        created = actions.new_version(letter=letter, by=request.user)
    except ValidationError as exc:
        return _render_letter(request, letter, errors=exc.messages, status=400)
    return redirect("letters:edit", created.pk)


@require_POST
@clinician
def request_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask for the letter's PDF as it is now; the worker makes it (or an earlier request's is reused)."""
    letter = get_letter_for_user(request.user, pk)
    document = documents.request_letter_pdf(letter=letter, by=request.user)
    return redirect("letters:pdf_progress", letter.pk, document.pk)


def _letter_document(request: HttpRequest, pk: int, document_pk: int) -> tuple[Letter, Document]:
    letter = get_letter_for_user(request.user, pk, audited=False)
    return letter, get_object_or_404(Document, pk=document_pk, letter=letter, kind=Document.Kind.LETTER_PDF)


@require_GET
@clinician
def pdf_progress(request: HttpRequest, pk: int, document_pk: int) -> HttpResponse:
    letter, document = _letter_document(request, pk, document_pk)
    return document_pages.progress(
        request, document, title=f"PDF: {letter.get_kind_display()} (version {letter.number}"
        f"{', draft' if not document.letter_final else ''})",
        download_url=reverse("letters:pdf_download", args=[letter.pk, document.pk]),
        again_url=reverse("letters:pdf", args=[letter.pk]), again_fields={},
        back_url=reverse("letters:edit", args=[letter.pk]), back_label="Back to the letter",
    )


@require_GET
@clinician
def pdf_download(request: HttpRequest, pk: int, document_pk: int) -> HttpResponseBase:
    letter, document = _letter_document(request, pk, document_pk)
    response = document_pages.download(document, progress_url=reverse("letters:pdf_progress",
                                                                      args=[letter.pk, document.pk]))
    if response.status_code == 200:
        actions.record_download(letter=letter, by=request.user, final=document.letter_final, document_id=document.pk)
    return response
