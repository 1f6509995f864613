"""Reads of a course's focus, after courses.access.get_course_for_user has checked (and
audited) access to the course. The letters app reads the formulation through these."""

from __future__ import annotations

from django.db.models import QuerySet

from interpersonal.web.courses.models import Course
from interpersonal.web.formulation.models import InventoryPerson, IpafRevision, IptFormulation, TimelineEvent


def ipaf_history(course: Course) -> QuerySet[IpafRevision]:
    """Every IPAF revision of the course, oldest first."""
    return course.ipaf_revisions.select_related("created_by").order_by("number")


def current_ipaf(course: Course) -> IpafRevision | None:
    """The latest IPAF revision, or None before the first."""
    return course.ipaf_revisions.select_related("created_by").order_by("-number").first()


def inventory(course: Course) -> QuerySet[InventoryPerson]:
    """The people in the inventory (removed ones left out), in the order added."""
    return course.inventory_people.filter(removed_at__isnull=True).order_by("position", "id")


def timeline(course: Course) -> QuerySet[TimelineEvent]:
    """The timeline's events (removed ones left out), oldest first."""
    return course.timeline_events.filter(removed_at__isnull=True).order_by("occurred_on", "id")


def ipt_formulation(course: Course) -> IptFormulation | None:
    """The interpersonal formulation with its focal areas, or None before the first save."""
    return IptFormulation.objects.filter(course=course).prefetch_related("focal_areas").first()
