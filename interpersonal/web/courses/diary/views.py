"""Diary pages: the week, booking a series, one appointment (move, cancel, mark, follow up),
the calendar feed's settings and the feed itself.

Each view: parse → access (audited) → action → respond. Invalid input re-renders the form with
the action's message and status 400; nothing is saved.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET, require_http_methods

from interpersonal.web.accounts.decorators import require_permission
from interpersonal.web.accounts.roles import Permission
from interpersonal.web.audit import log
from interpersonal.web.courses.access import courses_visible_to, get_course_for_user
from interpersonal.web.courses.diary import actions, ical
from interpersonal.web.courses.diary import week as read
from interpersonal.web.courses.diary.forms import BookSeriesForm, CancelForm, MarkForm, RescheduleForm, WeekForm
from interpersonal.web.courses.models import DiaryFeed, FollowUp, TherapySession
from interpersonal.web.formerrors import add_action_errors
from interpersonal.web.questionnaires.tokens import hash_token, plausible
from interpersonal.web.referrals.models import Referral

clinician = require_permission(Permission.HOLD_CASELOAD)


def _week_url(day: Any, **query: Any) -> str:
    params = "&".join(f"{k}={v}" for k, v in query.items() if v)
    return f"{reverse('courses:diary')}?week={day:%Y-%m-%d}{'&' + params if params else ''}"


@require_GET
@clinician
def diary(request: HttpRequest) -> HttpResponse:
    form = WeekForm(request.GET)
    if not form.is_valid():
        return render(request, "courses/diary/week.html", {"form": form, "forms_with_errors": [form]}, status=400)
    user = request.user
    therapist_id = form.cleaned_data["therapist"]
    if therapist_id and therapist_id != user.pk and not courses_visible_to(user).filter(therapist_id=therapist_id).exists():
        raise Http404("No such diary")
    day = form.cleaned_data["week"] or timezone.localdate()
    room = " ".join((form.cleaned_data["room"] or "").split())
    shown = read.week(user, monday=read.monday_of(day), therapist_id=therapist_id, room=room)
    follow_ups = read.open_follow_ups(user)
    log.record("diary.viewed", actor=user, target=("user", shown.therapist_id or user.pk),
               course_ids=sorted({s.course_id for s in shown.sessions if s.course_id}),
               follow_up_course_ids=sorted({f.course_id for f in follow_ups}), room=bool(room))
    return render(request, "courses/diary/week.html", {
        "form": form, "week": shown, "follow_ups": follow_ups, "room": room, "today": timezone.localdate(),
        "previous_url": _week_url(shown.previous, therapist=therapist_id, room=room),
        "next_url": _week_url(shown.next, therapist=therapist_id, room=room),
    })


@require_http_methods(["GET", "POST"])
@clinician
def book(request: HttpRequest, pk: int) -> HttpResponse:
    course = get_course_for_user(request.user, pk, write=True)
    form = BookSeriesForm(request.POST or None, initial={
        "count": course.planned_sessions or 1, "every_days": 7, "duration_minutes": actions.DEFAULT_MINUTES})
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            booked = actions.book_series(course=course, by=request.user, first_day=data["first_day"], at=data["time"],
                                         count=data["count"], every_days=data["every_days"],
                                         duration_minutes=data["duration_minutes"], medium=data["medium"],
                                         room=data["room"])
        except ValidationError as exc:
            add_action_errors(form, exc)
        else:
            messages.success(request, f"{len(booked)} appointment{'' if len(booked) == 1 else 's'} booked, from "
                                      f"{timezone.localtime(booked[0].scheduled_at):%a %d %b %Y %H:%M}.")
            return redirect(_week_url(timezone.localdate(booked[0].scheduled_at)))
    return render(request, "courses/diary/book.html", {
        "course": course, "patient": course.patient, "form": form,
        "forms_with_errors": [form] if form.errors else [],
    }, status=400 if form.is_bound else 200)


def _appointment(course: Any, session_pk: int) -> TherapySession:
    session = TherapySession.objects.filter(pk=session_pk, course=course).first()
    if session is None:
        raise Http404("No such appointment")
    return session


@require_http_methods(["GET", "POST"])
@clinician
def appointment(request: HttpRequest, pk: int, session_pk: int) -> HttpResponse:
    """One appointment: move it, cancel it (2 / 4), mark what happened (5, 6, 3, 7), and after a
    missed one, the follow-up."""
    course = get_course_for_user(request.user, pk, write=request.method == "POST")
    session = _appointment(course, session_pk)
    op = request.POST.get("op", "")
    data = request.POST if request.method == "POST" else None
    expected = {"expected": session.scheduled_at.isoformat()}
    local = timezone.localtime(session.scheduled_at)
    forms = {
        "reschedule": RescheduleForm(data if op == "reschedule" else None, initial={
            **expected, "date": local.date(), "time": local.time().replace(second=0, microsecond=0),
            "room": session.room}),
        "cancel": CancelForm(data if op == "cancel" else None, initial=expected),
        "mark": MarkForm(data if op == "mark" else None, initial=expected),
    }
    follow_up = FollowUp.objects.filter(session=session).first()
    if data is not None:
        if op == "follow_up_done" and follow_up is not None:
            try:
                actions.complete_follow_up(follow_up=follow_up, by=request.user)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            return redirect(_week_url(local.date()))
        form = forms.get(op)
        if form is None:
            return HttpResponse("Choose what to do with the appointment.", status=400, content_type="text/plain")
        if form.is_valid():
            try:
                _apply(op, form, session=session, by=request.user)
            except ValidationError as exc:
                add_action_errors(form, exc, rename={"scheduled_at": "date", "first_day": "date"})
            else:
                session.refresh_from_db()
                messages.success(request, _done_message(op, session))
                return redirect(_week_url(timezone.localdate(session.scheduled_at)))
    # The service's opt-in letter is for a referral awaiting contact (service.actions): offered
    # after a missed appointment only there, never for a course in treatment.
    offer_invite = follow_up is not None and course.referral.status in (Referral.Status.AWAITING_TRIAGE,
                                                                         Referral.Status.WAITING)
    return render(request, "courses/diary/appointment.html", {
        "course": course, "patient": course.patient, "session": session, "local": local,
        "slot": read.Slot(session, read.session_numbers([course.pk]).get(session.pk), own=True, follow_up=follow_up),
        "forms": forms, "follow_up": follow_up, "offer_invite": offer_invite,
        "may_write": course.therapist_id == request.user.pk and course.is_active,
        "forms_with_errors": [f for f in forms.values() if f.errors],
    }, status=400 if data is not None else 200)


def _apply(op: str, form: Any, *, session: TherapySession, by: Any) -> None:
    expected = form.cleaned_data["expected"]
    if op == "reschedule":
        actions.reschedule(session=session, by=by, to=form.to(), expected_at=expected, room=form.cleaned_data["room"])
    elif op == "cancel":
        actions.cancel(session=session, by=by, code=form.cleaned_data["code"], expected_at=expected)
    else:
        actions.mark(session=session, by=by, code=form.cleaned_data["code"], expected_at=expected)


def _done_message(op: str, session: TherapySession) -> str:
    when = f"{timezone.localtime(session.scheduled_at):%a %d %b %Y %H:%M}"
    if op == "reschedule":
        return f"The appointment was moved to {when}."
    if op == "cancel":
        return f"The appointment of {when} was cancelled (code {session.attendance})."
    if session.attendance in actions.FOLLOW_UP_REASON:
        return f"Recorded (code {session.attendance}). A follow-up task was added to your diary."
    return f"Recorded (code {session.attendance}). Record the session's notes and measures from the course page."


@require_http_methods(["GET", "POST"])
@clinician
def feed_settings(request: HttpRequest) -> HttpResponse:
    """The user's calendar feed: issue (or reissue) its private URL, or stop it."""
    key = None
    if request.method == "POST":
        op = request.POST.get("op")
        if op == "revoke":
            actions.revoke_feed(by=request.user)
            messages.success(request, "Your calendar feed was stopped: its address no longer works.")
            return redirect("courses:diary_feed_settings")
        if op != "new":
            return HttpResponse("Choose to make a new address or to stop the feed.", status=400,
                                content_type="text/plain")
        key = actions.new_feed_key(by=request.user)
    response = render(request, "courses/diary/feed_settings.html", {
        "has_feed": DiaryFeed.objects.filter(therapist=request.user).exists(),
        "feed_url": request.build_absolute_uri(reverse("courses:diary_feed", args=[key])) if key else "",
    })
    add_never_cache_headers(response)  # the one page that shows the key
    return response


@require_GET
@login_not_required
def feed(request: HttpRequest, feed_key: str) -> HttpResponse:
    """The calendar (text/calendar) of the feed's therapist: times and session numbers only."""
    found = DiaryFeed.objects.select_related("therapist").filter(key_hash=hash_token(feed_key)).first() \
        if plausible(feed_key) else None
    if found is None or not found.therapist.is_active:
        raise Http404("No such calendar")
    events = read.feed_events(found.therapist)
    log.record("diary.feed_read", actor=None, target=("user", found.therapist_id), events=len(events))
    body = ical.calendar(events, name="Appointments", now=timezone.now())
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    add_never_cache_headers(response)
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response
