"""Pages and endpoints of recordings and ratings: parse -> access -> action -> respond."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from interpersonal.core.fidelity import scales
from interpersonal.web.audit import log
from interpersonal.web.courses.models import ATTENDED, TherapySession
from interpersonal.web.fidelity import access, actions, crypto, reports, rules, streaming
from interpersonal.web.fidelity.models import Recording, RecordingConsent

JSON_MAX = 4096


def _date(raw: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(raw or "").strip())
    except ValueError:
        return None


def _json(request: HttpRequest) -> dict[str, Any]:
    if int(request.META.get("CONTENT_LENGTH") or 0) > JSON_MAX:
        raise actions.Refused("The request is too large.", status=413)
    try:
        data = json.loads(request.read(JSON_MAX + 1) or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise actions.Refused("The request is not valid JSON.") from None
    if not isinstance(data, dict):
        raise actions.Refused("The request must be a JSON object.")
    return data


def _refused(exc: actions.Refused | crypto.RecordingCryptoError) -> JsonResponse:
    status = exc.status if isinstance(exc, actions.Refused) else 503
    return JsonResponse({"error": str(exc)}, status=status)


# --- The course's recordings page (consent, upload, list) ------------------------------------


@require_GET
def course_recordings(request: HttpRequest, pk: int) -> HttpResponse:
    course = access.get_course_for_recordings(request.user, pk)
    return _course_page(request, course)


def _course_page(request: HttpRequest, course: Any, *, error: str = "", status: int = 200) -> HttpResponse:
    is_therapist = course.therapist_id == request.user.pk
    sessions = (TherapySession.objects.filter(course=course, attendance__in=ATTENDED).order_by("-scheduled_at")
                if is_therapist else TherapySession.objects.none())
    return render(request, "fidelity/course_recordings.html", {
        "course": course, "patient": course.patient, "is_therapist": is_therapist, "error": error,
        "consent": actions.consent_in_force(course), "consents": course.recording_consents.select_related(
            "given_by", "withdrawn_by"), "how_choices": RecordingConsent.How.choices,
        "recordings": course.recordings.select_related("session").order_by("-started_at"),
        "sessions": sessions, "phases": rules.phases_for(course), "content_types": rules.content_types(),
        "max_mib": rules.max_bytes() // (1024 * 1024), "key_configured": crypto.is_configured(),
        "today": timezone.localdate().isoformat(),
    }, status=status)


@require_POST
def give_consent(request: HttpRequest, pk: int) -> HttpResponse:
    course = access.get_course_for_recordings(request.user, pk, write=True)
    given_on = _date(request.POST.get("given_on"))
    if given_on is None:
        return _course_page(request, course, error="Give the date consent was given.", status=400)
    try:
        actions.record_consent(course=course, given_on=given_on, how=request.POST.get("how", ""), by=request.user)
    except actions.Refused as exc:
        return _course_page(request, course, error=str(exc), status=exc.status)
    messages.success(request, "Consent to recording recorded.")
    return redirect("fidelity:course_recordings", course.pk)


@require_POST
def withdraw_consent(request: HttpRequest, pk: int) -> HttpResponse:
    course = access.get_course_for_recordings(request.user, pk, write=True)
    withdrawn_on = _date(request.POST.get("withdrawn_on"))
    if withdrawn_on is None:
        return _course_page(request, course, error="Give the date consent was withdrawn.", status=400)
    try:
        deleted = actions.withdraw_consent(course=course, withdrawn_on=withdrawn_on, by=request.user)
    except actions.Refused as exc:
        return _course_page(request, course, error=str(exc), status=exc.status)
    messages.success(request, f"Consent withdrawn; {deleted} recording{'s' if deleted != 1 else ''} deleted.")
    return redirect("fidelity:course_recordings", course.pk)


# --- Upload (JSON and raw chunks, driven by static/fidelity/upload.js) -----------------------


@require_POST
def upload_start(request: HttpRequest, pk: int) -> JsonResponse:
    course = access.get_course_for_recordings(request.user, pk, write=True)
    try:
        data = _json(request)
        session = TherapySession.objects.filter(course=course, pk=_int(data.get("session"))).first()
        if session is None:
            raise actions.Refused("Choose a session of this course.")
        recording = actions.start_upload(course=course, session=session, phase=str(data.get("phase", "")),
                                         content_type=str(data.get("content_type", ""))[:100],
                                         size=_int(data.get("size")), by=request.user)
    except (actions.Refused, crypto.RecordingCryptoError) as exc:
        return _refused(exc)
    return JsonResponse({
        "recording": recording.pk, "chunk_size": recording.chunk_size, "chunk_count": recording.chunk_count,
        "chunk_url": reverse("fidelity:upload_chunk", args=[recording.pk, 0])[:-1],
        "finish_url": reverse("fidelity:upload_finish", args=[recording.pk]),
        "recording_url": reverse("fidelity:recording", args=[recording.pk]),
    }, status=201)


def _int(raw: Any) -> int:
    if isinstance(raw, bool):
        return -1
    try:
        return int(raw)
    except (TypeError, ValueError):
        return -1


def _own_upload(request: HttpRequest, pk: int) -> Recording:
    recording = access.get_recording_for_user(request.user, pk, audited=False)
    if not access.may_upload(request.user, recording):
        raise PermissionDenied("Only the course's therapist uploads its recordings.")
    return recording


@require_POST
def upload_chunk(request: HttpRequest, pk: int, index: int) -> JsonResponse:
    recording = _own_upload(request, pk)
    limit = recording.chunk_size
    if int(request.META.get("CONTENT_LENGTH") or 0) > limit:
        return JsonResponse({"error": f"A chunk holds at most {limit} bytes."}, status=413)
    data = request.read(limit + 1)  # the stream, not request.body: bounded by the chunk size
    if len(data) > limit:
        return JsonResponse({"error": f"A chunk holds at most {limit} bytes."}, status=413)
    try:
        recording = actions.receive_chunk(recording=recording, index=index, data=data, by=request.user)
    except (actions.Refused, crypto.RecordingCryptoError) as exc:
        return _refused(exc)
    return JsonResponse({"received": recording.chunks_received, "chunk_count": recording.chunk_count})


@require_POST
def upload_finish(request: HttpRequest, pk: int) -> JsonResponse:
    recording = _own_upload(request, pk)
    try:
        data = _json(request)
        recording = actions.finish_upload(recording=recording, sha256=str(data.get("sha256", "")), by=request.user)
    except (actions.Refused, crypto.RecordingCryptoError) as exc:
        return _refused(exc)
    return JsonResponse({"state": recording.state, "recording_url": reverse("fidelity:recording", args=[recording.pk])})


# --- A recording: page, media, raters, hold --------------------------------------------------


@require_GET
def recording_page(request: HttpRequest, pk: int) -> HttpResponse:
    recording = access.get_recording_for_user(request.user, pk)
    return _recording_page(request, recording)


def _recording_page(request: HttpRequest, recording: Recording, *, error: str = "", status: int = 200) -> HttpResponse:
    course = recording.course
    manager = access.may_manage(request.user, recording)
    therapy = rules.therapy_of(course)
    raters = []
    if manager:
        taken = set(recording.assignments.values_list("rater_id", flat=True))
        raters = [u for u in get_user_model().objects.filter(is_active=True).exclude(pk__in=taken | {course.therapist_id})
                  .order_by("last_name", "first_name") if access.may_rate(u)]
    own = recording.assignments.filter(rater=request.user).first()
    return render(request, "fidelity/recording.html", {
        "recording": recording, "course": course, "patient": course.patient,
        "consent": actions.consent_in_force(course), "manager": manager, "raters": raters,
        "scales": [s for s in rules.scales_for(course) if recording.phase in s.phases_for(therapy)],
        "ratings": access.ratings_visible_to(request.user, recording), "own": own,
        "assigned": recording.assignments.count(), "submitted": recording.assignments.filter(
            submitted_at__isnull=False).count(), "error": error,
    }, status=status)


@require_GET
def recording_media(request: HttpRequest, pk: int) -> HttpResponse | StreamingHttpResponse:
    recording = access.get_recording_for_user(request.user, pk, audited=False)
    if recording.state != Recording.State.READY:
        raise Http404("No such recording")
    try:
        key = actions.data_key(recording)
    except crypto.RecordingCryptoError as exc:
        return HttpResponse(str(exc), status=503, content_type="text/plain; charset=utf-8")
    range_header = request.headers.get("Range", "")
    log.record("recording.played", actor=request.user, target=recording, patient_id=recording.course.patient_id,
               range=range_header[:40])
    return streaming.respond(recording, key, range_header)


@require_POST
def assign(request: HttpRequest, pk: int) -> HttpResponse:
    recording = access.get_recording_for_user(request.user, pk)
    rater = get_user_model().objects.filter(pk=_int(request.POST.get("rater"))).first()
    try:
        if rater is None:
            raise actions.Refused("Choose a rater.")
        actions.assign_rater(recording=recording, rater=rater, scale_id=request.POST.get("scale", ""), by=request.user)
    except actions.Refused as exc:
        return _recording_page(request, recording, error=str(exc), status=exc.status)
    messages.success(request, "Rater assigned.")
    return redirect("fidelity:recording", recording.pk)


@require_POST
def hold(request: HttpRequest, pk: int) -> HttpResponse:
    recording = access.get_recording_for_user(request.user, pk)
    actions.hold_for_accreditation(recording=recording, held=request.POST.get("held") == "1", by=request.user)
    return redirect("fidelity:recording", recording.pk)


# --- Rating ---------------------------------------------------------------------------------


@require_GET
def awaiting(request: HttpRequest) -> HttpResponse:
    rows = list(reports.awaiting_rating(request.user)) if access.may_rate(request.user) else []
    if rows:
        log.record("ratings.awaiting_listed", actor=request.user, target=("rater", request.user.pk),
                   course_ids=sorted({a.recording.course_id for a in rows}))
    return render(request, "fidelity/awaiting.html", {"assignments": rows})


def _item_ratings(request: HttpRequest, scale: scales.Scale) -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for item in scale.items:
        raw = request.POST.get(f"item_{item.id}", "").strip()
        out[item.id] = _int(raw) if raw else None
    return out


@require_http_methods(["GET", "POST"])
def rate(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = access.get_assignment_for_rater(request.user, pk)
    try:
        scale = scales.get(assignment.scale)
    except scales.UnknownScale:
        raise Http404("The scale of this rating is not loaded") from None
    error, status, entered = "", 200, dict(assignment.ratings)
    if request.method == "POST":
        entered = _item_ratings(request, scale)
        try:
            if assignment.is_submitted:
                actions.correct_rating(assignment=assignment, ratings=entered, reason=request.POST.get("reason", ""),
                                       expected_version=_int(request.POST.get("version")), by=request.user)
            else:
                actions.submit_rating(assignment=assignment, ratings=entered, by=request.user)
        except actions.Refused as exc:
            error, status = str(exc), exc.status
        else:
            messages.success(request, "Rating corrected." if assignment.is_submitted else "Rating submitted.")
            return redirect("fidelity:rate", assignment.pk)
    recording = assignment.recording
    return render(request, "fidelity/rate.html", {
        "assignment": assignment, "scale": scale, "recording": recording, "error": error,
        "items": [(item, entered.get(item.id), list(zip(scale.points, item.anchors or ("",) * len(scale.points),
                                                        strict=True))) for item in scale.items],
        "points": scale.points, "corrections": assignment.corrections.order_by("at"),
        "others": [a for a in access.ratings_visible_to(request.user, recording) if a.pk != assignment.pk],
    }, status=status)
