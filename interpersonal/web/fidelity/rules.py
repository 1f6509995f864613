"""The service's settings for recordings, read once per call from Django settings (documented in
.env.example and docs/fidelity-recordings.md), and the scale rules that follow from the course."""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from interpersonal.core.fidelity import scales
from interpersonal.web.courses.models import Course


def chunk_bytes() -> int:
    return int(settings.INTERPERSONAL_RECORDINGS_CHUNK_BYTES)


def max_bytes() -> int:
    return int(settings.INTERPERSONAL_RECORDINGS_MAX_BYTES)


def content_types() -> tuple[str, ...]:
    return tuple(settings.INTERPERSONAL_RECORDINGS_CONTENT_TYPES)


def retention() -> dt.timedelta:
    return dt.timedelta(days=int(settings.INTERPERSONAL_RECORDINGS_RETENTION_DAYS))


def keep_after_rating() -> dt.timedelta:
    return dt.timedelta(days=int(settings.INTERPERSONAL_RECORDINGS_KEEP_AFTER_RATING_DAYS))


def abandoned_after() -> dt.timedelta:
    return dt.timedelta(hours=int(settings.INTERPERSONAL_RECORDINGS_ABANDONED_HOURS))


def second_rater_percent() -> int:
    return int(settings.INTERPERSONAL_RECORDINGS_SECOND_RATER_PERCENT)


def therapy_of(course: Course) -> str:
    return course.definition.therapy


def scales_for(course: Course) -> tuple[scales.Scale, ...]:
    """The scales that fit the course's therapy (a phase key for it)."""
    return scales.catalogue(therapy=therapy_of(course))


def phases_for(course: Course) -> tuple[str, ...]:
    """Every phase key a recording of this course may be tagged with (over the scales that fit it)."""
    therapy = therapy_of(course)
    return tuple(dict.fromkeys(p for s in scales_for(course) for p in s.phases_for(therapy)))


def default_scale(course: Course) -> scales.Scale | None:
    """``INTERPERSONAL_RECORDINGS_DEFAULT_SCALE`` when it fits the course; else the first licensed
    (non-example) scale that fits; else the example; None when no scale fits."""
    fitting = scales_for(course)
    wanted = str(getattr(settings, "INTERPERSONAL_RECORDINGS_DEFAULT_SCALE", "") or "")
    for scale in fitting:
        if scale.id == wanted:
            return scale
    licensed = [s for s in fitting if not s.example]
    return (licensed or list(fitting) or [None])[0]
