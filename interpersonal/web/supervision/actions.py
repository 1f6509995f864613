"""The only writers of the supervision log (issue 15): keyword-only, ``by=`` the actor, one
transaction, audited. Audit events carry identifiers and numbers only, never the actions agreed.

Supervision *relationships* are account reach, and are written by ``accounts.actions``
(``add_supervision``, ``end_supervision``, the staff form's individual supervisor) under the
four-eyes rule of ADR 0008; nothing here changes who may read what.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from interpersonal.web.accounts.roles import Permission, has_permission
from interpersonal.web.audit import log
from interpersonal.web.supervision.models import (
    ACTIONS_MAX,
    CASE_MINUTES_MIN,
    MINUTES_MAX,
    MINUTES_MIN,
    DiscussedCase,
    SupervisionSession,
)
from interpersonal.web.supervision.reach import current_relationships, today


@dataclass(frozen=True)
class CaseEntry:
    """One case to log as discussed: the course, the minutes spent on it, the therapy sessions
    reviewed (of that course) and the actions agreed for it."""

    course: Any
    minutes: int
    sessions_reviewed: Sequence[Any] = field(default_factory=tuple)
    actions_agreed: str = ""


def supervised_on(supervisor: Any, day: dt.date) -> Any:
    """The ids of the accounts ``supervisor`` supervises both on ``day`` and today (a subquery):
    whom a session on ``day`` may name — reach is today's, and the session must have been supervision."""
    return (current_relationships().filter(supervisor_id=supervisor.pk)
            .filter(pk__in=current_relationships(day).values("pk")).values("supervisee_id"))


def _check_people(supervisor: Any, supervisees: Sequence[Any], fmt: str, day: dt.date) -> None:
    if not supervisees:
        raise ValidationError({"supervisees": "Name who was supervised."})
    if fmt == SupervisionSession.Format.INDIVIDUAL and len(supervisees) != 1:
        raise ValidationError({"supervisees": "Individual supervision has exactly one supervisee; choose group "
                                              "supervision for several."})
    if fmt == SupervisionSession.Format.GROUP and len(supervisees) < 2:
        raise ValidationError({"supervisees": "Group supervision has at least two supervisees; choose individual "
                                              "supervision for one."})
    allowed = set(supervised_on(supervisor, day).values_list("supervisee_id", flat=True))
    strangers = [s.display_name for s in supervisees if s.pk not in allowed]
    if strangers:
        raise ValidationError({"supervisees": f"You do not supervise {', '.join(strangers)} both on that date and "
                                              "now; only your current supervisees can be named."})


def _check_cases(cases: Sequence[CaseEntry], supervisees: Sequence[Any], minutes: int) -> None:
    ids = {s.pk for s in supervisees}
    seen: set[int] = set()
    for entry in cases:
        course = entry.course
        if course.therapist_id not in ids:
            raise ValidationError({"cases": "Name only cases of the supervisees in this session (a case of someone "
                                            "you do not supervise cannot be named)."})
        if course.pk in seen:
            raise ValidationError({"cases": "Name each case once."})
        seen.add(course.pk)
        if not CASE_MINUTES_MIN <= entry.minutes <= minutes:
            raise ValidationError({"cases": f"Minutes on a case are between {CASE_MINUTES_MIN} and the session's "
                                            f"{minutes}."})
        if any(s.course_id != course.pk for s in entry.sessions_reviewed):
            raise ValidationError({"cases": "Sessions reviewed must be sessions of the case they are listed under."})
        if len(entry.actions_agreed or "") > ACTIONS_MAX:
            raise ValidationError({"cases": f"Actions agreed for a case: at most {ACTIONS_MAX} characters."})
    if sum(e.minutes for e in cases) > minutes:
        raise ValidationError({"cases": f"The minutes on cases add up to more than the session's {minutes}."})


@transaction.atomic
def log_session(*, by: Any, date: dt.date, minutes: int, format: str, supervisees: Sequence[Any],
                cases: Sequence[CaseEntry] = (), actions_agreed: str = "") -> SupervisionSession:
    """The supervisor ``by`` logs a supervision session they gave. Only a supervisor records their
    own sessions (deny by default: not an administrator, not on someone's behalf); every
    supervisee must be theirs on that date and today, and every case one of those supervisees'."""
    if not has_permission(by, Permission.SUPERVISE):
        raise ValidationError("Only a supervisor logs supervision they gave.")
    if format not in SupervisionSession.Format.values:
        raise ValidationError({"format": "Choose individual or group supervision."})
    if date > today():
        raise ValidationError({"date": "Log a session once it has taken place (the date is in the future)."})
    if not MINUTES_MIN <= minutes <= MINUTES_MAX:
        raise ValidationError({"minutes": f"Between {MINUTES_MIN} and {MINUTES_MAX} minutes."})
    actions_agreed = (actions_agreed or "").strip()
    if len(actions_agreed) > ACTIONS_MAX:
        raise ValidationError({"actions_agreed": f"At most {ACTIONS_MAX} characters."})
    supervisees = list(dict.fromkeys(supervisees))
    _check_people(by, supervisees, format, date)
    _check_cases(cases, supervisees, minutes)
    session = SupervisionSession.objects.create(supervisor=by, date=date, minutes=minutes, format=format,
                                                actions_agreed=actions_agreed, created_by=by)
    session.supervisees.set(supervisees)
    log.record("supervision_session.logged", actor=by, target=session, date=date.isoformat(), minutes=minutes,
               format=format, supervisee_ids=sorted(s.pk for s in supervisees),
               course_ids=[e.course.pk for e in cases], has_actions=bool(actions_agreed))
    for entry in cases:
        discussed = DiscussedCase.objects.create(session=session, course=entry.course, minutes=entry.minutes,
                                                 actions_agreed=(entry.actions_agreed or "").strip())
        discussed.sessions_reviewed.set(entry.sessions_reviewed)
        # In the patient's own access log (subject access): their case was discussed in supervision.
        log.record("supervision.case_discussed", actor=by, target=discussed, patient_id=entry.course.patient_id,
                   course_id=entry.course.pk, session_id=session.pk, minutes=entry.minutes,
                   sessions_reviewed=sorted(s.pk for s in entry.sessions_reviewed))
    return session


@transaction.atomic
def add_hourly_cost(*, grade: Any, cost_per_hour: Any, effective_from: dt.date, by: Any,
                    source: str = "") -> Any:
    """A grade's cost of an hour of staff time (supervision, training) from ``effective_from``
    until its next one (docs/costs.md): the service lead's, as for the cost per session."""
    from decimal import Decimal

    from django.db import IntegrityError

    from interpersonal.web import bounds
    from interpersonal.web.service.actions import clean_cost
    from interpersonal.web.supervision.models import SupervisionHourlyCost

    if not has_permission(by, Permission.VIEW_SERVICE_AGGREGATES):
        raise ValidationError("Only the service lead can change the service's costs.")
    try:
        cost: Decimal = clean_cost(cost_per_hour)
    except ValidationError:
        raise ValidationError({"cost_per_hour": "Give a cost above £0 and below £1,000,000, in pounds and "
                                                "pence."}) from None
    if not isinstance(effective_from, dt.date) or bounds.outside(bounds.CLINICAL, effective_from):
        raise ValidationError({"effective_from": bounds.CLINICAL.message})
    source = (source or "").strip()
    if len(source) > bounds.SHORT_TEXT:
        raise ValidationError({"source": f"At most {bounds.SHORT_TEXT} characters."})
    try:
        with transaction.atomic():
            row = SupervisionHourlyCost.objects.create(grade=grade, cost_per_hour=cost, effective_from=effective_from,
                                                       source=source, created_by=by)
    except IntegrityError:
        raise ValidationError({"effective_from": "This grade already has an hourly cost from that date."}) from None
    log.record("supervision.hourly_cost_added", actor=by, target=row, grade_id=grade.pk,
               effective_from=effective_from.isoformat(), cost=str(cost))
    return row
