"""Outcome metrics: NHS Talking Therapies definitions applied to courses and referrals.

One rule per outcome (rules.py: caseness, paired, reliable change, recovery, the anxiety
measure), read by the per-course path (course.py) and the service path (service.py); ADSMs
(adsm.toml) and national standards (standards.toml) are data.

    >>> from interpersonal.core.outcomes import course_outcome
    >>> o = course_outcome({"phq9": 16, "gad7": 12}, {"phq9": 6, "gad7": 5})
    >>> o.recovered, o.reliable_improvement, o.reliable_recovery
    (True, True, True)

Service-level metrics over a data set on disk (DOMAIN.md §4; docs/outcomes.md)::

    data = dataset.read("exports/2026-q3")        # referrals, contacts, scores
    service.report(data, by="therapist")          # {"overall": ..., "by_therapy": ..., "by_therapist": ...}
    service.funnel(data)                          # per-therapist recovery with control limits
"""

from __future__ import annotations

from . import dataset, rules, service, standards
from .course import (
    ANXIETY_MEASURE,
    DEPRESSION_MEASURE,
    NOT_AT_CASENESS,
    NOT_PAIRED,
    CourseOutcome,
    course_outcome,
    outcome_of_series,
)
from .dataset import Dataset, DatasetError
from .service import funnel, report

__all__ = [
    "ANXIETY_MEASURE",
    "DEPRESSION_MEASURE",
    "NOT_AT_CASENESS",
    "NOT_PAIRED",
    "CourseOutcome",
    "Dataset",
    "DatasetError",
    "course_outcome",
    "dataset",
    "funnel",
    "outcome_of_series",
    "report",
    "rules",
    "service",
    "standards",
]
