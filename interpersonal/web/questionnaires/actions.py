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
from django.db import transaction
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
    """The link cannot be used; ``reason`` is one of unknown, expired, withdrawn, submitted,
    rate_limited. Patients are told kindly and learn nothing about whether a token exists."""

    def __init__(self, reason: str, link: QuestionnaireLink | None = None) -> None:
        self.reason = reason
        self.link = link
        super().__init__(reason)


def answerable_by_patient(instrument_id: str) -> bool:
    """Patients answer by link only self-report measures whose licence lets us show the items."""
    inst = measures.get(instrument_id)
    return inst.respondent is measures.Respondent.PATIENT and inst.licence.item_text


class _Schedule:
    """The audit actor of links the course schedule sends (tasks.send_questionnaire): no user.

    ``is_authenticated`` makes audit.log.record snapshot the name; there is no account (pk None)."""

    pk = None
    is_authenticated = True
    role = "system"

    def get_username(self) -> str:
        return "schedule"


SCHEDULE = _Schedule()


@transaction.atomic
def issue_link(
    *, instruments: Sequence[str], by: Any, course: Course | None = None, referral: Referral | None = None,
    session: TherapySession | None = None, valid_for: dt.timedelta | None = None,
    remind_at: dt.datetime | None = None, scheduled: bool = False,
) -> tuple[QuestionnaireLink, str]:
    """A new link for ``course``'s patient or, at screening (no course), for ``referral``'s;
    returns (link, token). The token is not stored.

    ``scheduled=True`` (with ``by=None``) is the course schedule sending a session's link: no
    clinician acts, the audit actor is "schedule" and the link has no ``created_by``. A screening
    link is sent by a clinician who may screen the referral (referrals.screening_access)."""
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
        patient_id, referral_id, where = course.patient_id, course.referral_id, {"course_id": course.pk}
    elif referral is not None:
        from interpersonal.web.referrals.screening_access import may_screen

        if scheduled or session is not None:
            raise ValueError("a screening link is sent by a clinician and is for no session")
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
    token = new_token()
    link = QuestionnaireLink.objects.create(
        token_hash=hash_token(token), patient_id=patient_id, referral_id=referral_id, course=course, session=session,
        instruments=wanted, created_at=now,
        created_by=None if scheduled or not getattr(by, "is_authenticated", False) else by,
        expires_at=now + valid_for, reminder_due_at=remind_at,
    )
    log.record("questionnaire_link.issued", actor=by, target=link, patient_id=patient_id, **where,
               instruments=wanted)
    return link, token


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
    if state != QuestionnaireLink.State.OPEN:
        raise LinkUnavailable(state, link)
    if not link_usable(link):  # the course ended, or the screening referral was discharged
        raise LinkUnavailable(QuestionnaireLink.State.WITHDRAWN, link)
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
    recorded = []
    for iid, given in final.items():
        recorded.append(record_measurement(
            course=link.course, referral=link.referral if link.course_id is None else None, instrument=iid, answers=given, by=None, session=link.session, recorded_at=now,
            source=Measurement.Source.PATIENT, questionnaire_link=link,
        ))
    QuestionnaireLink.objects.filter(pk=link.pk).update(submitted_at=now, draft={})
    link.refresh_from_db()
    log.record("questionnaire_link.submitted", actor=None, target=link, patient_id=link.patient_id,
               **_where(link), instruments=list(final))
    return Submitted(link, tuple(recorded), any(m.risk for m in recorded), repeated=False)


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
    QuestionnaireLink.objects.filter(pk=link.pk).update(withdrawn_at=timezone.now(), draft={})
    link.refresh_from_db()
    log.record("questionnaire_link.withdrawn", actor=by, target=link, patient_id=link.patient_id, **_where(link))
    return link
