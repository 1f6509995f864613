"""The only writers of questionnaire links (atomic, validated, audited).

Submitting is idempotent: the link's row is locked, and a link already submitted returns the
recorded result instead of recording again, so a double submit or a retry stores one response.
The measurements, the risk alerts they raise and the link's closing commit together.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from interpersonal.core import measures
from interpersonal.web.assessments.actions import raise_alert, record_measurement
from interpersonal.web.assessments.models import Measurement
from interpersonal.web.audit import log
from interpersonal.web.courses.actions import _require_active, _require_clinician
from interpersonal.web.courses.models import Course, TherapySession
from interpersonal.web.questionnaires.models import QuestionnaireLink, TokenAttempt
from interpersonal.web.questionnaires.tokens import hash_token, new_token, plausible
from interpersonal.web.referrals.models import Referral

T = TypeVar("T")


class LinkUnavailable(Exception):
    """The link cannot be used; ``reason`` is one of unknown, expired, withdrawn, closed (its
    course ended, or its screening referral closed), submitted, rate_limited. Patients are told kindly and learn nothing about whether a token exists."""

    def __init__(self, reason: str, link: QuestionnaireLink | None = None) -> None:
        self.reason = reason
        self.link = link
        super().__init__(reason)


def answerable_by_patient(instrument_id: str) -> bool:
    """Patients answer by link only self-report measures whose licence lets us show the items."""
    inst = measures.get(instrument_id)
    return inst.respondent is measures.Respondent.PATIENT and inst.licence.item_text


class _System:
    """An audit actor that is the service itself, not a user: the course schedule sending a
    session's link (tasks.send_questionnaire), the task worker sending a queued one
    (tasks.deliver_link).

    ``is_authenticated`` makes audit.log.record snapshot the name; there is no account (pk None)."""

    pk = None
    is_authenticated = True
    role = "system"

    def __init__(self, name: str) -> None:
        self.name = name

    def get_username(self) -> str:
        return self.name


SCHEDULE = _System("schedule")
WORKER = _System("worker")


class OpenLinkExists(ValidationError):
    """The session (or, with no session booked, the course's next session) already has an open
    link: ``link``. The clinician may send that one again or withdraw it."""

    def __init__(self, link: QuestionnaireLink) -> None:
        self.link = link
        if link.session_id is not None:
            when = timezone.localtime(link.session.scheduled_at)
            what = f"the session on {when:%a} {when.day} {when:%b}, {when:%H:%M}"
        else:
            what = "the next session"
        sent = timezone.localtime(link.created_at)
        super().__init__(
            f"A link for {what} is already open (sent {sent.day} {sent:%b} at {sent:%H:%M}). Send it again or "
            "withdraw it before sending another: one open link per session.", code="open_link")


def next_booked_session(course: Course) -> TherapySession | None:
    """The course's next booked session (ahead, no attendance yet), if any."""
    return (course.sessions.filter(attendance__isnull=True, scheduled_at__gt=timezone.now())
            .order_by("scheduled_at", "id").first())


def _open_links(course: Course, session: TherapySession | None) -> Any:
    qs = QuestionnaireLink.objects.filter(course=course, submitted_at__isnull=True, withdrawn_at__isnull=True)
    return qs.filter(session=session) if session is not None else qs.filter(session__isnull=True)


def _require_no_open_link(course: Course, session: TherapySession | None) -> None:
    """One open link per session: lock what the link will be for (the session's row, or the
    course's for "the next session"), close the links there that have expired, and refuse if one
    is still open. Concurrent issues for one session queue on the lock; the unique constraints
    ``one_open_link_per_session`` / ``one_open_link_for_the_next_session`` catch anything else."""
    if session is not None:
        TherapySession.objects.select_for_update().filter(pk=session.pk).first()
    else:
        Course.objects.select_for_update().filter(pk=course.pk).first()
    open_ = _open_links(course, session)
    open_.filter(expires_at__lte=timezone.now()).update(withdrawn_at=F("expires_at"),
                                                        closed_reason=QuestionnaireLink.Closed.EXPIRED, draft={})
    existing = open_.select_related("session").order_by("-created_at", "-id").first()
    if existing is not None:
        raise OpenLinkExists(existing)


@transaction.atomic
def issue_link(
    *, instruments: Sequence[str], by: Any, course: Course | None = None, referral: Referral | None = None,
    session: TherapySession | None = None, valid_for: dt.timedelta | None = None,
    remind_at: dt.datetime | None = None, scheduled: bool = False, send_by: str = "",
) -> tuple[QuestionnaireLink, str]:
    """A new link for ``course``'s patient or, at screening (no course), for ``referral``'s;
    returns (link, token). The token is not stored.

    ``scheduled=True`` (with ``by=None``) is the course schedule sending a session's link: no
    clinician acts, the audit actor is "schedule" and the link has no ``created_by``. A screening
    link is sent by a clinician who may screen the referral (referrals.screening_access).

    A course's link is for one session: the one given or, when none is, the course's next booked
    session; with none booked it is "for the next session" (no session). Either way it is refused
    (:class:`OpenLinkExists`) while that session — or, with none, the course — has an open link:
    one open link per session, and at most one open "for the next session" per course.

    ``send_by`` "email" or "sms" queues the link to be sent to the patient by that channel
    (:func:`queue_delivery`); the token returned is then not to be shown: the sending gives the
    link a fresh one."""
    if course is not None:
        if referral is not None and referral.pk != course.referral_id:
            raise ValidationError({"referral": "That course belongs to another referral."})
        if scheduled:
            if by is not None or session is None:
                raise ValueError("a scheduled link is for one session and has no user as its actor")
            by = SCHEDULE
        else:
            _require_clinician(by, course)
        _require_active(course)
        if session is not None and session.course_id != course.pk:
            raise ValidationError({"session": "That session belongs to another course."})
        if session is None:
            session = next_booked_session(course)
        _require_no_open_link(course, session)
        patient_id, referral_id, where = course.patient_id, course.referral_id, {"course_id": course.pk}
    elif referral is not None:
        from interpersonal.web.referrals.screening_access import may_screen

        if scheduled or session is not None or send_by:
            raise ValueError("a screening link is sent by a clinician, is for no session, and is copied")
        if not may_screen(by, referral):
            raise ValidationError("Only the referral's allocated clinician, or a clinician who triages referrals, can "
                                  "send screening questionnaires.")
        locked = Referral.objects.select_for_update().get(pk=referral.pk)
        if locked.courses.filter(status=Course.Status.ACTIVE).exists():
            raise ValidationError("This referral is in treatment: send questionnaires from its course.")
        patient_id, referral_id, where = locked.patient_id, locked.pk, {"referral_id": locked.pk}
    else:
        raise ValidationError("A link is sent for a course or, at screening, for a referral.")
    wanted = list(dict.fromkeys(instruments))
    if not wanted:
        raise ValidationError({"instruments": "Choose at least one questionnaire."})
    for iid in wanted:
        try:
            ok = answerable_by_patient(iid)
        except measures.UnknownInstrument:
            raise ValidationError({"instruments": f"Unknown questionnaire {iid!r}."}) from None
        if not ok:
            raise ValidationError({"instruments": f"{measures.get(iid).abbreviation} cannot be answered by link "
                                                  "(clinician-rated, or its licence does not allow showing the items)."})
    now = timezone.now()
    valid_for = valid_for or dt.timedelta(days=settings.INTERPERSONAL_LINK_VALID_DAYS)
    if not dt.timedelta(hours=1) <= valid_for <= dt.timedelta(days=31):
        raise ValidationError({"valid_for": "A link lasts between an hour and 31 days."})
    if send_by:
        _require_reach(course.patient if course is not None else None, send_by)
    token = new_token()
    try:
        with transaction.atomic():  # a savepoint: the constraint's refusal leaves the outer transaction usable
            link = QuestionnaireLink.objects.create(
                token_hash=hash_token(token), patient_id=patient_id, referral_id=referral_id, course=course,
                session=session, instruments=wanted, created_at=now,
                created_by=None if scheduled or not getattr(by, "is_authenticated", False) else by,
                expires_at=now + valid_for, reminder_due_at=remind_at,
            )
    except IntegrityError:
        if course is None:
            raise
        existing = _open_links(course, session).select_related("session").first()
        if existing is None:
            raise
        raise OpenLinkExists(existing) from None
    log.record("questionnaire_link.issued", actor=by, target=link, patient_id=patient_id, **where,
               instruments=wanted, **({"session_id": session.pk} if session is not None else {}))
    if send_by:
        _queue(link, channel=send_by, by=by)
    return link, token


def _require_reach(patient: Any, channel: str) -> None:
    from interpersonal.web.questionnaires import notify

    if patient is None or channel not in QuestionnaireLink.Channel.values:
        raise ValidationError({"channel": "Choose e-mail, text message or copying the link."})
    found = notify.reach(patient, channel)
    if found.contact is None:
        raise ValidationError({"channel": found.reason + "."})


def _queue(link: QuestionnaireLink, *, channel: str, by: Any) -> None:
    from interpersonal.web.questionnaires import tasks

    QuestionnaireLink.objects.filter(pk=link.pk).update(
        delivery_channel=channel, delivery=QuestionnaireLink.Delivery.QUEUED, delivered_to="", delivered_at=None,
        delivery_error="")
    link.refresh_from_db()
    log.record("questionnaire_link.send_queued", actor=by, target=link, patient_id=link.patient_id,
               **_where(link), channel=channel)
    pk = link.pk
    transaction.on_commit(lambda: tasks.deliver_link.enqueue(pk))


@transaction.atomic
def queue_delivery(*, link: QuestionnaireLink, channel: str, by: Any) -> QuestionnaireLink:
    """Send an open course link (again) to the patient by ``channel``, in the task worker. The
    sending gives it a fresh token, so a link sent or copied before stops working: the patient
    holds one working link, the latest."""
    if link.course_id is None:
        raise ValidationError("A screening link is copied, not sent from here.")
    _require_clinician(by, link.course)
    locked = QuestionnaireLink.objects.select_for_update(of=("self",)).select_related("course__patient").get(pk=link.pk)
    if locked.state != QuestionnaireLink.State.OPEN or not link_usable(locked):
        raise ValidationError("This link is closed: send a new one instead.")
    if locked.delivery == QuestionnaireLink.Delivery.QUEUED:
        raise ValidationError("This link is already waiting to be sent.")
    _require_reach(locked.course.patient, channel)
    _queue(locked, channel=channel, by=by)
    return locked


@transaction.atomic
def close_links_of_course(*, course: Course, by: Any) -> int:
    """Close the course's open links as its course ends (called by courses.actions.end_course);
    how many. Their unsent answers go with them, as when withdrawn."""
    closing = QuestionnaireLink.objects.select_for_update().filter(course=course, submitted_at__isnull=True,
                                                                   withdrawn_at__isnull=True)
    ids = list(closing.values_list("pk", flat=True))
    QuestionnaireLink.objects.filter(pk__in=ids).update(
        withdrawn_at=timezone.now(), closed_reason=QuestionnaireLink.Closed.COURSE_ENDED, draft={})
    if ids:
        log.record("questionnaire_link.closed_with_course", actor=by, target=course, patient_id=course.patient_id,
                   course_id=course.pk, links=ids)
    return len(ids)


@dataclass(frozen=True, slots=True)
class Closure:
    """Why a link no longer takes answers, in words for the link list."""

    reason: str
    """answered, withdrawn, course_ended, referral_closed, expired or replaced."""
    text: str


def closure(link: QuestionnaireLink) -> Closure | None:
    """None while the link takes answers; else why not."""
    def day(moment: dt.datetime | dt.date) -> str:
        if isinstance(moment, dt.datetime):
            moment = timezone.localtime(moment)
        return f"{moment.day} {moment:%b %Y}"

    if link.submitted_at is not None:
        return Closure("answered", f"answered on {day(link.submitted_at)}")
    ended = link.course_id is not None and not link.course.is_active
    if link.closed_reason == QuestionnaireLink.Closed.COURSE_ENDED or (ended and link.withdrawn_at is None):
        on = link.course.ended_on if link.course_id is not None and link.course.ended_on else link.withdrawn_at
        return Closure("course_ended", f"course ended on {day(on)}" if on else "course ended")
    if link.withdrawn_at is not None:
        if link.closed_reason == QuestionnaireLink.Closed.EXPIRED:
            return Closure("expired", f"expired on {day(link.withdrawn_at)}")
        if link.closed_reason == QuestionnaireLink.Closed.REPLACED:
            return Closure("replaced", f"replaced by a newer link on {day(link.withdrawn_at)}")
        return Closure("withdrawn", f"withdrawn on {day(link.withdrawn_at)}")
    if link.course_id is None and not link.referral.is_open:
        return Closure("referral_closed", "referral closed")
    if link.expires_at <= timezone.now():
        return Closure("expired", f"expired on {day(link.expires_at)}")
    return None


def link_usable(link: QuestionnaireLink) -> bool:
    """Whether what the link belongs to still takes answers: its course is active or, for a
    screening link (no course), its referral is open."""
    if link.course_id is not None:
        return link.course.is_active
    return link.referral.is_open


def _client_key(client: str) -> str:
    return hash_token(f"client:{client}")


def _window() -> dt.timedelta:
    return dt.timedelta(minutes=settings.INTERPERSONAL_LINK_ATTEMPT_WINDOW_MINUTES)


def too_many_attempts(client: str) -> bool:
    since = timezone.now() - _window()
    return TokenAttempt.objects.filter(client=_client_key(client), at__gte=since).count() >= settings.INTERPERSONAL_LINK_MAX_ATTEMPTS


def guarded(func: Callable[..., T]) -> Callable[..., T]:
    """Count each unknown token a client tries, and answer a client that has guessed too
    often with ``rate_limited`` instead of ``unknown``.

    A valid token is always served, whoever sends it: behind a proxy many patients share one
    address, and one person's guessing must not lock the others out of their links. Guessing
    is slowed, not the patients. The count is written after the action's transaction has
    rolled back, so it survives; attempts older than the window are purged as new ones come."""

    @functools.wraps(func)
    def wrapper(token: str, *args: Any, client: str, **kwargs: Any) -> T:
        try:
            return func(token, *args, client=client, **kwargs)
        except LinkUnavailable as exc:
            if exc.reason != "unknown":
                raise
            limited = too_many_attempts(client)
            TokenAttempt.objects.create(client=_client_key(client))
            TokenAttempt.objects.filter(at__lt=timezone.now() - 4 * _window()).delete()
            if limited:
                raise LinkUnavailable("rate_limited") from None
            raise

    return wrapper


def find_link(token: str, *, client: str, for_update: bool = False) -> QuestionnaireLink:
    """The open link for ``token``; LinkUnavailable (with the reason) otherwise."""
    link = None
    if plausible(token):
        qs = QuestionnaireLink.objects.select_related("patient", "course", "referral")
        if for_update:
            qs = qs.select_for_update(of=("self",))
        link = qs.filter(token_hash=hash_token(token)).first()
    if link is None:
        raise LinkUnavailable("unknown")
    state = link.state
    if link.closed_reason == QuestionnaireLink.Closed.COURSE_ENDED:
        raise LinkUnavailable("closed", link)
    if state != QuestionnaireLink.State.OPEN:
        raise LinkUnavailable(state, link)
    if not link_usable(link):  # the course ended, or the screening referral was discharged
        raise LinkUnavailable("closed", link)
    return link


@guarded
@transaction.atomic
def open_link(token: str, *, client: str) -> QuestionnaireLink:
    """The patient opens the link (audited each time; the first time is kept)."""
    link = find_link(token, client=client, for_update=True)
    first = link.opened_at is None
    if first:
        QuestionnaireLink.objects.filter(pk=link.pk).update(opened_at=timezone.now())
        link.refresh_from_db()
    log.record("questionnaire_link.opened", actor=None, target=link, patient_id=link.patient_id, first=first)
    return link


@guarded
@transaction.atomic
def save_answers(token: str, *, client: str, instrument: str, answers: Mapping[str, int | None]) -> QuestionnaireLink:
    """Keep answers as the patient goes, so a closed tab resumes where it stopped."""
    link = find_link(token, client=client, for_update=True)
    if instrument not in link.instruments:
        raise ValidationError({"instrument": "That questionnaire is not part of this link."})
    merged = {**link.draft.get(instrument, {}), **answers}
    merged = {k: v for k, v in merged.items() if v is not None}
    try:
        scored = measures.score(instrument, merged)  # validates every item and value
    except measures.InvalidAnswers as exc:
        raise ValidationError({f"item_{exc.item}": str(exc)}) from None
    link.draft = {**link.draft, instrument: merged}
    QuestionnaireLink.objects.filter(pk=link.pk).update(draft=link.draft)
    if scored.risk and not link.risk_alerts.filter(instrument=instrument).exists():
        # Safety first: the clinician hears of a risk answer when it is saved, not only if
        # the patient goes on to send the questionnaire. Sending attaches the measurement.
        raise_alert(course=link.course, referral=link.referral if link.course_id is None else None,
                    instrument=instrument, items=scored.risk, by=None, questionnaire_link=link)
    return link


@dataclass(frozen=True, slots=True)
class Submitted:
    link: QuestionnaireLink
    measurements: tuple[Measurement, ...]
    risk: bool
    repeated: bool
    """True when the link had already been submitted: nothing new was recorded."""


@guarded
@transaction.atomic
def submit(token: str, *, client: str, answers: Mapping[str, Mapping[str, int | None]] | None = None) -> Submitted:
    """Score and record every questionnaire of the link, close it, raise any risk alert.

    ``answers`` (by measure) are merged over the saved draft. Idempotent: submitting a link
    that was already submitted records nothing and returns the first result.
    """
    link = None
    if plausible(token):
        link = (QuestionnaireLink.objects.select_for_update(of=("self",)).select_related("course", "referral")
                .filter(token_hash=hash_token(token)).first())
    if link is not None and link.submitted_at is not None:
        done = tuple(Measurement.objects.filter(questionnaire_link=link).order_by("id"))
        return Submitted(link, done, any(m.risk for m in done), repeated=True)
    link = find_link(token, client=client, for_update=True)
    final: dict[str, dict[str, int]] = {}
    for iid in link.instruments:
        given = {**link.draft.get(iid, {}), **dict((answers or {}).get(iid, {}))}
        given = {k: v for k, v in given.items() if v is not None}
        try:
            measures.score(iid, given)
        except measures.InvalidAnswers as exc:
            raise ValidationError({f"{iid}_item_{exc.item}": str(exc)}) from None
        if given:
            # Recorded as given: a questionnaire with items skipped is stored unscored (the
            # measure's missing-item rule decides), and any risk answer in it still raises
            # the clinician's alert. Refusing the whole link would lose that answer.
            final[iid] = given
    if not final:
        raise ValidationError("Please answer at least one question before sending.")
    now = timezone.now()
    session = link.session if link.session_id is not None else _session_answered_for(link.course)
    recorded = []
    for iid, given in final.items():
        recorded.append(record_measurement(
            course=link.course, referral=link.referral if link.course_id is None else None, instrument=iid, answers=given, by=None, session=session, recorded_at=now,
            source=Measurement.Source.PATIENT, questionnaire_link=link,
        ))
    QuestionnaireLink.objects.filter(pk=link.pk).update(submitted_at=now, draft={}, session=session)
    link.refresh_from_db()
    log.record("questionnaire_link.submitted", actor=None, target=link, patient_id=link.patient_id,
               **_where(link), instruments=list(final))
    return Submitted(link, tuple(recorded), any(m.risk for m in recorded), repeated=False)


def _session_answered_for(course: Course | None) -> TherapySession | None:
    """The session a link sent "for the next session" is answered for (issue 14: a questionnaire
    answered before a session belongs to that session, never the previous one): the course's
    earliest booked appointment after the last one attended, if one is booked by the time the patient
    sends their answers — unlike :func:`next_booked_session` (for sending), one that has begun counts,
    since a patient may answer in the waiting room; else None (summary.py then counts the answers towards the session after the
    last attended one)."""
    if course is None:
        return None
    from django.db.models import Max

    from interpersonal.web.courses.models import ATTENDED

    last = TherapySession.objects.filter(course=course, attendance__in=ATTENDED).aggregate(at=Max("scheduled_at"))["at"]
    booked = TherapySession.objects.filter(course=course, attendance__isnull=True)
    if last is not None:
        booked = booked.filter(scheduled_at__gt=last)
    return booked.order_by("scheduled_at", "id").first()


def _where(link: QuestionnaireLink) -> dict[str, int]:
    """The audit event's pointer to what the link belongs to: its course, or its referral."""
    return {"course_id": link.course_id} if link.course_id is not None else {"referral_id": link.referral_id}


@transaction.atomic
def withdraw_link(*, link: QuestionnaireLink, by: Any) -> QuestionnaireLink:
    if link.course_id is not None:
        _require_clinician(by, link.course)
    else:
        from interpersonal.web.referrals.screening_access import may_screen

        if not may_screen(by, link.referral):
            raise ValidationError("Only the referral's allocated clinician, or a clinician who triages referrals, can "
                                  "withdraw this link.")
    if link.submitted_at or link.withdrawn_at:
        raise ValidationError("This link is already closed.")
    # The unsent answers go with the link (any risk answer in them has already raised an alert).
    QuestionnaireLink.objects.filter(pk=link.pk).update(withdrawn_at=timezone.now(), draft={},
                                                        closed_reason=QuestionnaireLink.Closed.WITHDRAWN)
    link.refresh_from_db()
    log.record("questionnaire_link.withdrawn", actor=by, target=link, patient_id=link.patient_id, **_where(link))
    return link
