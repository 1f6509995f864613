"""A course's risk assessment and safety plan as people read them: the one read model of the
course page's risk summary, the risk page and the printable safety plan.

Callers pass a course already read through courses.access (audited there).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils import timezone

from interpersonal.core import risk
from interpersonal.web.assessments.models import RiskAssessment
from interpersonal.web.courses.models import Course


@dataclass(frozen=True, slots=True)
class Version:
    """One recorded version: its answers as (label, answer) pairs, labels as recorded."""

    record: RiskAssessment
    assessment: list[tuple[str, str]]
    safety_plan: list[tuple[str, str]]

    @property
    def level(self) -> str:
        return self.record.level_label

    @property
    def reviewed(self) -> bool:
        """It reviews an earlier version."""
        return self.record.reviews_id is not None


@dataclass(frozen=True, slots=True)
class RiskSummary:
    course: Course
    current: Version | None
    history: list[Version]
    """The earlier versions, newest first."""
    overdue: bool
    may_write: bool

    @property
    def new_url(self) -> str:
        return reverse("assessments:risk_new", args=[self.course.pk])

    @property
    def page_url(self) -> str:
        return reverse("assessments:risk", args=[self.course.pk])

    @property
    def plan_url(self) -> str:
        return reverse("assessments:safety_plan", args=[self.course.pk])


def version(record: RiskAssessment) -> Version:
    return Version(record, risk.answered(record.assessment_fields, record.assessment),
                   risk.answered(record.safety_plan_fields, record.safety_plan))


def may_record_risk(user: Any, course: Course) -> bool:
    """The course's therapist (with a caseload); the action checks the course's state."""
    from interpersonal.web.accounts.roles import Permission, has_permission

    return course.therapist_id == user.pk and has_permission(user, Permission.HOLD_CASELOAD)


def risk_summary(course: Course, user: Any, *, history: bool = False, today: dt.date | None = None) -> RiskSummary:
    """``course``'s current risk assessment (and with ``history`` the earlier versions) for ``user``."""
    found = list(RiskAssessment.objects.filter(course=course).select_related("recorded_by", "alert")
                 .order_by("-number")[: None if history else 1])
    current = version(found[0]) if found else None
    overdue = current is not None and current.record.review_due < (today or timezone.localdate())
    return RiskSummary(course, current, [version(r) for r in found[1:]], overdue, may_record_risk(user, course))


def latest_sentence(course: Course) -> str:
    """The course's latest risk assessment in one sentence, for a letter: "The latest risk
    assessment (5 Dec 2026, by Tess Therapist) judged the overall risk level Low; its review is
    due by 2 Jan 2027." Empty when none was recorded."""
    record = (RiskAssessment.objects.filter(course=course).select_related("recorded_by").order_by("-number").first())
    if record is None:
        return ""
    when = timezone.localtime(record.recorded_at)
    due = record.review_due
    return (f"The latest risk assessment ({when.day} {when:%b %Y}, by {record.recorded_by.display_name}) judged the "
            f"overall risk level {record.level_label}; its review is due by {due.day} {due:%b %Y}.")
