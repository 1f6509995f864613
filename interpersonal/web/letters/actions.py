"""The only writers of letters (atomic, validated, audited with identifiers only — a
letter's text never reaches the audit trail)."""

from __future__ import annotations

import difflib
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from interpersonal.web.accounts.roles import Permission, has_permission
from interpersonal.web.audit import log
from interpersonal.web.courses.models import Course
from interpersonal.web.letters import drafting
from interpersonal.web.letters.models import Letter, LetterRevision, too_long

MAX_DIFF_LINES = 40

PLACEHOLDER = re.compile(r"\[\[(.*?)\]\]", re.DOTALL)
"""A prompt the first draft leaves for the therapist to replace: ``[[Add the plan …]]``
(drafting.prompt writes them). A letter holding one is not ready to send."""
MAX_SHOWN_PLACEHOLDERS = 10


def placeholders(body: str) -> list[str]:
    """The prompts still in ``body``, as written (``[[…]]``), in order; an opening ``[[`` left
    without its ``]]`` counts too (the prompt was half deleted)."""
    found = [" ".join(m.group(0).split()) for m in PLACEHOLDER.finditer(body)]
    rest = PLACEHOLDER.sub("", body)
    if "[[" in rest or "]]" in rest:
        found.append("an unfinished prompt (a [[ or ]] without its pair)")
    return found


def unfinished(body: str) -> str | None:
    """Why ``body`` cannot be finalised because prompts remain, or None."""
    remaining = placeholders(body)
    if not remaining:
        return None
    shown = [f"“{p}”" if p.startswith("[[") else p for p in remaining[:MAX_SHOWN_PLACEHOLDERS]]
    more = len(remaining) - len(shown)
    return (f"Not finalised: the letter still has {len(remaining)} prompt{'s' if len(remaining) != 1 else ''} "
            "in [[double brackets]] to replace with your own words: " + "; ".join(shown)
            + (f"; and {more} more" if more > 0 else "") + ".")


def kinds_for(course: Course) -> tuple[str, ...]:
    """The letters a course may have: its protocol's ``letters`` (protocol data; the core's
    LETTERS are Letter.Kind's values, a test checks)."""
    return tuple(k for k in course.definition.letters if k in Letter.Kind.values)


class StaleLetter(ValidationError):
    """Someone else saved the letter since it was opened; ``changes`` is their diff."""

    def __init__(self, letter: Letter, changes: str) -> None:
        self.letter = letter
        self.changes = changes
        who = letter.updated_by.get_full_name() or letter.updated_by.get_username()
        when = timezone.localtime(letter.updated_at)
        self.summary = (
            f"Not saved: {who} saved this letter at {when:%H:%M on %-d %b %Y} while you were editing it. "
            "Their changes are shown (lines starting - were removed, + added); your text is kept in the form. "
            "Merge the two and save again."
        )
        super().__init__(f"{self.summary}\n{changes}")


def _require_writer(user: Any, course: Course) -> None:
    if not has_permission(user, Permission.HOLD_CASELOAD) or course.therapist_id != user.pk:
        raise ValidationError("Only the course's therapist can write its letters.")


def _require_draft(letter: Letter) -> None:
    if letter.is_final:
        raise ValidationError("This letter is final and cannot be changed; start a new version instead.")


def changes_between(before: str, after: str) -> str:
    """A short unified diff of ``before`` → ``after`` (lines starting ``-`` removed, ``+`` added)."""
    lines = [
        line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if not line.startswith(("---", "+++"))
    ]
    if len(lines) > MAX_DIFF_LINES:
        lines = [*lines[:MAX_DIFF_LINES], f"… and {len(lines) - MAX_DIFF_LINES} more changed lines"]
    return "\n".join(lines) or "(no change to the text)"


def _normalise(body: str) -> str:
    return body.replace("\r\n", "\n").strip() + "\n"


def _audit(event: str, letter: Letter, by: Any, **data: Any) -> None:
    log.record(event, actor=by, target=letter, patient_id=letter.course.patient_id, course_id=letter.course_id,
               kind=letter.kind, number=letter.number, version=letter.version, **data)


@transaction.atomic
def draft_letter(*, course: Course, kind: str, by: Any) -> Letter:
    """Start a letter of ``kind`` with a first draft from the formulation and the outcomes."""
    _require_writer(by, course)
    Course.objects.select_for_update().get(pk=course.pk)  # one draft at a time per course
    if kind not in kinds_for(course):
        labels = ", ".join(Letter.Kind(k).label.lower() for k in kinds_for(course))
        raise ValidationError({"kind": f"A {course.definition.name} course can have: {labels}." if labels
                               else f"The {course.definition.name} protocol lists no letters."})
    if Letter.objects.filter(course=course, kind=kind, status=Letter.Status.DRAFT).exists():
        raise ValidationError(f"There is already a draft {Letter.Kind(kind).label.lower()}; edit that one.")
    previous = Letter.objects.filter(course=course, kind=kind).order_by("-number").first()
    body = _normalise(drafting.draft_body(course, kind))
    letter = Letter.objects.create(
        course=course, kind=kind, body=body, number=(previous.number + 1) if previous else 1,
        supersedes=previous, created_by=by, updated_by=by,
    )
    LetterRevision.objects.create(letter=letter, version=letter.version, body=body, saved_by=by)
    _audit("letter.generated", letter, by)
    return letter


@transaction.atomic
def edit_letter(*, letter: Letter, by: Any, expected_version: int, body: str) -> Letter:
    """Save the therapist's text. Refused (:class:`StaleLetter`, nothing saved) when someone
    saved since ``expected_version``: the message shows what they changed."""
    locked = Letter.objects.select_for_update().select_related("course", "updated_by").get(pk=letter.pk)
    _require_writer(by, locked.course)
    _require_draft(locked)
    if locked.version != expected_version:
        seen = LetterRevision.objects.filter(letter=locked, version=expected_version).first()
        raise StaleLetter(locked, changes_between(seen.body if seen else "", locked.body))
    problem = too_long(body)
    if problem:
        raise ValidationError({"body": problem})
    body = _normalise(body)
    if body == locked.body:
        return locked
    locked.body = body
    locked.version += 1
    locked.updated_by = by
    locked.save(update_fields=["body", "version", "updated_by", "updated_at"])
    LetterRevision.objects.create(letter=locked, version=locked.version, body=body, saved_by=by)
    _audit("letter.edited", locked, by)
    return locked


@transaction.atomic
def finalise_letter(*, letter: Letter, by: Any, expected_version: int | None = None, body: str | None = None) -> Letter:
    """Make the draft final: from now on it cannot change. With ``body``, the text is saved first
    (as :func:`edit_letter`, against ``expected_version``) and finalised in the same transaction, so
    a refusal keeps neither. Refused while the text holds a ``[[prompt]]`` of the first draft."""
    if body is not None:
        if expected_version is None:
            raise ValidationError("The form was incomplete; reload the letter and try again.")
        expected_version = edit_letter(letter=letter, by=by, expected_version=expected_version, body=body).version
    locked = Letter.objects.select_for_update().select_related("course", "updated_by").get(pk=letter.pk)
    _require_writer(by, locked.course)
    _require_draft(locked)
    if expected_version is not None and locked.version != expected_version:
        seen = LetterRevision.objects.filter(letter=locked, version=expected_version).first()
        raise StaleLetter(locked, changes_between(seen.body if seen else "", locked.body))
    if not locked.body.strip():
        raise ValidationError("An empty letter cannot be finalised.")
    problem = unfinished(locked.body)
    if problem:
        raise ValidationError({"body": problem})
    locked.status = Letter.Status.FINAL
    locked.finalised_by = by
    locked.finalised_at = timezone.now()
    locked.save(update_fields=["status", "finalised_by", "finalised_at", "updated_at"])
    _audit("letter.finalised", locked, by)
    return locked


@transaction.atomic
def new_version(*, letter: Letter, by: Any) -> Letter:
    """A new draft that supersedes a final letter, starting from its text."""
    locked = Letter.objects.select_for_update().select_related("course").get(pk=letter.pk)
    _require_writer(by, locked.course)
    if not locked.is_final:
        raise ValidationError("This letter is still a draft: edit it instead.")
    if Letter.objects.filter(supersedes=locked).exists():
        raise ValidationError("A newer version of this letter already exists.")
    if Letter.objects.filter(course=locked.course, kind=locked.kind, status=Letter.Status.DRAFT).exists():
        raise ValidationError("There is already a draft of this letter; edit that one.")
    latest = Letter.objects.filter(course=locked.course, kind=locked.kind).order_by("-number").first()
    assert latest is not None  # noqa: S101 - ``locked`` is one
    if latest.pk != locked.pk:
        raise ValidationError("Only the latest version of a letter can be revised.")
    created = Letter.objects.create(
        course=locked.course, kind=locked.kind, body=locked.body, number=locked.number + 1, supersedes=locked,
        created_by=by, updated_by=by,
    )
    LetterRevision.objects.create(letter=created, version=created.version, body=created.body, saved_by=by)
    _audit("letter.new_version", created, by, supersedes=locked.pk)
    return created


def record_download(*, letter: Letter, by: Any, final: bool | None = None, document_id: int | None = None) -> None:
    """Audit that ``by`` downloaded a PDF of the letter — made while it was ``final`` (or a draft),
    as generated document ``document_id``; the letter as it is now if not given. Reads need no
    transaction."""
    final = letter.is_final if final is None else final
    extra = {} if document_id is None else {"document_id": document_id}
    _audit("letter.downloaded", letter, by, status=Letter.Status.FINAL if final else Letter.Status.DRAFT, **extra)
