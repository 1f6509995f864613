"""Who may read or write which letter: the rule of the letter's course (courses.access)."""

from __future__ import annotations

from typing import Any

from django.http import Http404

from interpersonal.web.audit import log
from interpersonal.web.courses.access import courses_visible_to, get_course_for_user
from interpersonal.web.letters.models import Letter


def get_letter_for_user(user: Any, pk: Any, *, write: bool = False, audited: bool = True) -> Letter:
    """The letter, read by ``user`` (audited); 404 if its course is not visible to them, 403
    if they may only read it (the supervisor).

    ``audited=False`` is for pages that show none of the letter's text — a PDF's progress page,
    polled every few seconds while the worker makes it — where a ``letter.viewed`` event per poll
    would bury the patient's access log; what is handed over (the download) is audited."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404("No such letter") from None
    course_id = (Letter.objects.filter(pk=pk, course__in=courses_visible_to(user))
                 .values_list("course_id", flat=True).first())
    if course_id is None:
        raise Http404("No such letter")
    course = get_course_for_user(user, course_id, write=write, audited=audited)
    letter = Letter.objects.select_related("created_by", "updated_by", "finalised_by", "supersedes").get(pk=pk)
    letter.course = course
    if audited:
        log.record("letter.viewed", actor=user, target=letter, patient_id=course.patient_id, course_id=course.pk)
    return letter
