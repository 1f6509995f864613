"""Outcome metrics: NHS Talking Therapies definitions applied to courses.

    >>> from interpersonal.core.outcomes import course_outcome
    >>> o = course_outcome({"phq9": 16, "gad7": 12}, {"phq9": 6, "gad7": 5})
    >>> o.recovered, o.reliable_improvement, o.reliable_recovery
    (True, True, True)
"""

from __future__ import annotations

from .course import ANXIETY_MEASURE, DEPRESSION_MEASURE, NOT_AT_CASENESS, NOT_PAIRED, CourseOutcome, course_outcome

__all__ = ["ANXIETY_MEASURE", "DEPRESSION_MEASURE", "NOT_AT_CASENESS", "NOT_PAIRED", "CourseOutcome", "course_outcome"]
