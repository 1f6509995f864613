"""A course's notes (issue 14): sessions' notes and home practice and contacts outside sessions,
newest first, searchable, read by the course's supervisor, written by its therapist only; and the
record-session form's note template for the protocol phase the session falls in.

Clinical facts used (DOMAIN.md §1, §4): a DIT course is 16 sessions, initial phase 1–4, middle
5–12, ending 13–16 (seeds/002); only attended sessions (codes 5 and 6) count, and a course is
finished with at least two attended treatment sessions (NHS Talking Therapies).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from interpersonal.core import protocols
from interpersonal.web.courses import notes
from interpersonal.web.courses.actions import end_course, record_session
from interpersonal.web.courses.contacts import correct_contact, delete_contact, record_contact
from interpersonal.web.courses.corrections import delete_session
from interpersonal.web.courses.models import Contact, ContactCorrection, TherapySession
from interpersonal.web.courses.summary import summarise

pytestmark = pytest.mark.django_db

DIT = protocols.get("dit")


def _ago(days: int = 0, hours: int = 0) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days, hours=hours)


def _session(course, therapist, *, days: int, notes_text: str = "", home_practice: str = "", attendance: int = 5):
    return record_session(course=course, by=therapist, attendance=attendance, duration_minutes=50,
                          scheduled_at=_ago(days), notes=notes_text, home_practice=home_practice)


def _phone(course, therapist, *, days: int = 1, note: str = "Rang to rearrange; agreed Thursday.", **more):
    return record_contact(course=course, by=therapist, kind="phone", at=_ago(days), note=note, **more)


# --- contacts: the action ---------------------------------------------------------------------

def test_recording_a_phone_call_is_audited_without_its_text(dit_course, therapist, audit_trail):
    contact = _phone(dit_course, therapist, duration_minutes=10)

    assert (contact.kind, contact.duration_minutes, contact.version, contact.recorded_by) == ("phone", 10, 1, therapist)
    [event] = audit_trail.new()
    assert (event.type, event.target_id, event.patient_id) == ("contact.recorded", str(contact.pk), dit_course.patient_id)
    assert event.data == {"course_id": dit_course.pk, "kind": "phone"}


def test_a_contact_is_not_a_session_and_never_counts_as_attended(dit_course, therapist, attended_session):
    before = summarise(dit_course)
    for kind in Contact.Kind.values:
        record_contact(course=dit_course, by=therapist, kind=kind, at=_ago(1), note="Spoke about the plan.",
                       with_whom="GP, Elm Surgery")

    after = summarise(dit_course)
    assert TherapySession.all_rows.filter(course=dit_course).count() == 1
    assert (after.attended, after.attended_treatment, after.finished_treatment) == \
           (before.attended, before.attended_treatment, before.finished_treatment) == (1, 1, False)


@pytest.mark.parametrize(("changes", "field"), [
    ({"kind": "visit"}, "kind"),
    ({"note": "   "}, "note"),
    ({"note": "x" * 5001}, "note"),
    ({"note": "a\x00b"}, "note"),
    ({"kind": "liaison", "with_whom": ""}, "with_whom"),
    ({"with_whom": "x" * 201}, "with_whom"),
    ({"duration_minutes": 0}, "duration_minutes"),
    ({"duration_minutes": 241}, "duration_minutes"),
    ({"at": timezone.now() + dt.timedelta(days=1)}, "at"),
    ({"at": timezone.now() - dt.timedelta(days=40)}, "at"),  # before the course started (30 days ago)
])
def test_a_contact_with_a_bad_value_is_refused_and_nothing_saved(dit_course, therapist, changes, field):
    values = {"kind": "phone", "at": _ago(1), "note": "Called.", "duration_minutes": None, "with_whom": ""} | changes

    with pytest.raises(ValidationError) as error:
        record_contact(course=dit_course, by=therapist, **values)

    assert field in error.value.error_dict
    assert not Contact.all_rows.exists()


def test_only_the_courses_therapist_records_a_contact(dit_course, supervisor, unrelated_therapist):
    for someone in (supervisor, unrelated_therapist):
        with pytest.raises(ValidationError):
            _phone(dit_course, someone)

    assert not Contact.all_rows.exists()


def test_an_ended_course_takes_no_new_contact_but_its_contacts_stay_correctable(dit_course, therapist,
                                                                               attended_session):
    contact = _phone(dit_course, therapist, days=2)
    end_course(course=dit_course, reason="dropped_out", by=therapist)

    with pytest.raises(ValidationError, match="ended"):
        _phone(dit_course, therapist)
    corrected = correct_contact(contact=contact, by=therapist, expected_version=1, reason="Wrong kind",
                                kind="message", at=contact.at, note=contact.note)
    assert corrected.kind == "message"


def test_correcting_a_contact_keeps_the_earlier_values_and_refuses_a_stale_copy(dit_course, therapist, audit_trail):
    contact = _phone(dit_course, therapist)

    correct_contact(contact=contact, by=therapist, expected_version=1, reason="It was the CMHT, not the patient",
                    kind="liaison", at=contact.at, note="Liaised with the CMHT duty worker.",
                    with_whom="Duty worker, CMHT")

    contact.refresh_from_db()
    assert (contact.kind, contact.with_whom, contact.version) == ("liaison", "Duty worker, CMHT", 2)
    [kept] = ContactCorrection.objects.filter(contact=contact)
    assert kept.previous["kind"] == "phone"
    assert kept.previous["note"] == "Rang to rearrange; agreed Thursday."
    assert (kept.kind, kept.version, kept.reason) == ("corrected", 1, "It was the CMHT, not the patient")
    assert audit_trail.new_types()[-1] == "contact.corrected"
    with pytest.raises(ValidationError, match="changed"):  # the page opened before the correction
        correct_contact(contact=contact, by=therapist, expected_version=1, reason="Again", kind="phone",
                        at=contact.at, note="x")
    with pytest.raises(ValidationError, match="Nothing was changed"):
        correct_contact(contact=contact, by=therapist, expected_version=2, reason="Same", kind=contact.kind,
                        at=contact.at, note=contact.note, with_whom=contact.with_whom)
    with pytest.raises(ValidationError) as error:
        correct_contact(contact=contact, by=therapist, expected_version=2, reason="", kind="phone", at=contact.at,
                        note="x")
    assert "reason" in error.value.error_dict


def test_deleting_a_contact_takes_it_out_of_the_notes_and_keeps_it_in_history(dit_course, therapist, audit_trail):
    contact = _phone(dit_course, therapist)

    delete_contact(contact=contact, by=therapist, expected_version=1, reason="Wrong patient")

    assert notes.notes_of(dit_course) == []
    kept = Contact.all_rows.get(pk=contact.pk)
    assert kept.entered_in_error_at is not None
    assert kept.version == 2
    assert ContactCorrection.objects.get(contact=contact).kind == "entered_in_error"
    assert audit_trail.new_types()[-1] == "contact.deleted"


# --- the read model ---------------------------------------------------------------------------

def test_notes_are_newest_first_with_session_numbers_and_leave_out_what_has_no_text(dit_course, therapist):
    first = _session(dit_course, therapist, days=14, notes_text="Agreed the focus.", home_practice="Diary of rows")
    _session(dit_course, therapist, days=10)  # attended, nothing written: no note, still session 2
    _session(dit_course, therapist, days=7, attendance=3, notes_text="DNA; letter sent.")
    third = _session(dit_course, therapist, days=3, notes_text="Worked the IPAF with her sister.")
    call = _phone(dit_course, therapist, days=1)

    found = notes.notes_of(dit_course)

    assert [(n.source, n.title) for n in found] == [
        ("contact", "Phone call"), ("session", "Session 3"),
        ("session", "Session not held: Did not attend, no advance warning given"), ("session", "Session 1")]
    assert found[0].pk == call.pk
    assert found[1].pk == third.pk
    assert found[3].home_practice == "Diary of rows"
    assert found[3].pk == first.pk
    assert "Initial phase" in found[1].detail
    assert found[1].author == therapist.display_name


def test_a_session_deleted_as_entered_in_error_leaves_the_notes(dit_course, therapist):
    session = _session(dit_course, therapist, days=3, notes_text="Wrong patient's notes.")

    delete_session(session=session, by=therapist, expected_version=session.version, reason="Wrong patient")

    assert notes.notes_of(dit_course) == []


def test_highlight_escapes_the_text_and_marks_every_match_whatever_its_case():
    marked = notes.highlight("<b>Sister</b> visited; her sister's call.", "SISTER")

    assert marked == "&lt;b&gt;<mark>Sister</mark>&lt;/b&gt; visited; her <mark>sister</mark>&#x27;s call."
    assert notes.highlight("a.b", ".") == "a<mark>.</mark>b"  # the query is text, not a pattern


def test_search_matches_notes_home_practice_and_whom_a_contact_was_with(dit_course, therapist):
    _session(dit_course, therapist, days=5, notes_text="Talked about work.", home_practice="Call her Sister")
    record_contact(course=dit_course, by=therapist, kind="liaison", at=_ago(1), note="Shared the plan.",
                   with_whom="Social worker, CMHT")

    every = notes.notes_of(dit_course)

    assert [n.source for n in every if n.matches("sister")] == ["session"]
    assert [n.source for n in every if n.matches("cmht")] == ["contact"]


# --- note templates: the record-session form ------------------------------------------------

def test_the_first_session_form_starts_with_the_initial_phase_template(dit_course, therapist, client_for):
    response = client_for(therapist).get(reverse("courses:record_session", args=[dit_course.pk]))

    form = response.context["form"]
    assert form["notes"].value() == DIT.phase("initial").note_template
    assert "Template: Initial phase" in response.content.decode()


def test_after_four_attended_sessions_the_form_starts_with_the_middle_phase_template(dit_course, therapist,
                                                                                    client_for):
    for days in (20, 15, 10, 5):
        _session(dit_course, therapist, days=days)

    response = client_for(therapist).get(reverse("courses:record_session", args=[dit_course.pk]))

    assert response.context["form"]["notes"].value() == DIT.phase("middle").note_template
    assert "Template: Middle phase" in response.content.decode()


def _post_session(client, course, notes_text: str):
    now = timezone.localtime() - dt.timedelta(hours=1)
    return client.post(reverse("courses:record_session", args=[course.pk]), {
        "date": now.date().isoformat(), "time": now.strftime("%H:%M"), "attendance": "5", "duration_minutes": "50",
        "medium": "face_to_face", "notes": notes_text, "home_practice": ""})


def test_typed_notes_are_kept_and_an_untouched_template_is_not_saved_as_a_note(dit_course, therapist, client_for):
    client = client_for(therapist)
    typed = DIT.phase("initial").note_template.replace("Plan for the next session:",
                                                       "Plan for the next session: map the IPAF")

    assert _post_session(client, dit_course, DIT.phase("initial").note_template).status_code == 302
    assert _post_session(client, dit_course, typed).status_code == 302

    saved = list(TherapySession.objects.filter(course=dit_course).order_by("scheduled_at", "id")
                 .values_list("notes", flat=True))
    assert saved == ["", typed]


def test_a_form_posted_back_with_an_error_keeps_the_typed_text(dit_course, therapist, client_for):
    response = client_for(therapist).post(reverse("courses:record_session", args=[dit_course.pk]), {
        "date": "", "time": "10:00", "attendance": "5", "medium": "face_to_face", "notes": "My own words"})

    assert response.status_code == 400
    assert response.context["form"]["notes"].value() == "My own words"


# --- the pages ----------------------------------------------------------------------------------

def _three_notes(course, therapist):
    _session(course, therapist, days=9, notes_text="Her <script>alert(1)</script> sister\nvisited.")
    _session(course, therapist, days=5, notes_text="Work stress; line one\nline two")
    return _phone(course, therapist, days=1, note="Sister rang on her behalf.")


def test_the_therapist_reads_every_note_with_correction_links(dit_course, therapist, client_for, audit_trail):
    contact = _three_notes(dit_course, therapist)
    audit_trail.mark()

    response = client_for(therapist).get(reverse("courses:notes", args=[dit_course.pk]))

    body = response.content.decode()
    assert response.status_code == 200
    assert "3 notes, newest first" in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<script>alert(1)" not in body
    assert "line one\nline two" in body  # kept as written; the page shows its line breaks (pre-wrap)
    assert reverse("courses:correct_contact", args=[dit_course.pk, contact.pk]) in body
    assert reverse("courses:record_contact", args=[dit_course.pk]) in body
    [event] = [e for e in audit_trail.new() if e.patient_id]  # not the sign-in's
    assert (event.type, event.patient_id, event.data["searched"], event.data["shown"]) == \
           ("course.notes_viewed", dit_course.patient_id, False, 3)


def test_search_shows_n_of_m_marks_the_matches_and_links_back(dit_course, therapist, client_for, audit_trail):
    _three_notes(dit_course, therapist)
    audit_trail.mark()

    response = client_for(therapist).get(reverse("courses:notes", args=[dit_course.pk]), {"q": "SISTER"})

    body = response.content.decode()
    assert "2 of 3 notes match" in body
    assert "<mark>Sister</mark> rang" in body
    assert "<mark>sister</mark>" in body
    assert "Work stress" not in body
    assert f'href="{reverse("courses:notes", args=[dit_course.pk])}">Show all notes' in body
    [event] = [e for e in audit_trail.new() if e.patient_id]  # not the sign-in's
    assert event.data["searched"] is True
    assert "sister" not in str(event.data).lower()


def test_a_search_too_long_is_refused_with_a_message(dit_course, therapist, client_for):
    response = client_for(therapist).get(reverse("courses:notes", args=[dit_course.pk]),
                                         {"q": "x" * (notes.SEARCH_MAX + 1)})

    assert response.status_code == 400
    assert f"at most {notes.SEARCH_MAX} characters" in response.content.decode()


def test_long_lists_page(dit_course, therapist, client_for):
    for i in range(notes.PER_PAGE + 2):
        _phone(dit_course, therapist, days=1, note=f"Call {i}")
    client = client_for(therapist)

    first = client.get(reverse("courses:notes", args=[dit_course.pk]))
    second = client.get(reverse("courses:notes", args=[dit_course.pk]), {"page": "2"})

    assert len(first.context["rows"]) == notes.PER_PAGE
    assert "Page 1 of 2" in first.content.decode()
    assert len(second.context["rows"]) == 2
    assert client.get(reverse("courses:notes", args=[dit_course.pk]), {"page": "nope"}).status_code == 200


def test_the_supervisor_reads_the_notes_but_cannot_write_them(dit_course, therapist, supervisor, client_for):
    contact = _three_notes(dit_course, therapist)
    client = client_for(supervisor)

    page = client.get(reverse("courses:notes", args=[dit_course.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assert "Sister rang on her behalf." in body
    assert "only the course’s therapist can record or correct them" in body
    assert reverse("courses:correct_contact", args=[dit_course.pk, contact.pk]) not in body
    assert reverse("courses:record_contact", args=[dit_course.pk]) not in body
    assert client.get(reverse("courses:record_contact", args=[dit_course.pk])).status_code == 403
    posted = client.post(reverse("courses:record_contact", args=[dit_course.pk]), {
        "kind": "phone", "date": timezone.localdate().isoformat(), "time": "00:01", "note": "Supervisor's call"})
    assert posted.status_code == 403
    assert Contact.objects.count() == 1


def test_an_unrelated_therapist_gets_404(dit_course, therapist, unrelated_therapist, client_for):
    contact = _three_notes(dit_course, therapist)
    client = client_for(unrelated_therapist)

    for url in (reverse("courses:notes", args=[dit_course.pk]),
                reverse("courses:correct_contact", args=[dit_course.pk, contact.pk])):
        assert client.get(url).status_code == 404


def test_the_course_page_shows_the_latest_three_notes_and_a_link_to_all(dit_course, therapist, client_for):
    _three_notes(dit_course, therapist)
    _phone(dit_course, therapist, days=0, note="Newest call.")

    body = client_for(therapist).get(reverse("courses:detail", args=[dit_course.pk])).content.decode()

    section = body[body.index('id="notes"'):body.index('id="notes-heading"') + 2000]
    assert "Newest call." in section
    assert "Work stress" in section
    assert "Her &lt;script&gt;" not in section
    assert f'href="{reverse("courses:notes", args=[dit_course.pk])}">All notes (4)' in body


def test_recording_a_contact_from_its_page(dit_course, therapist, client_for):
    when = timezone.localtime() - dt.timedelta(hours=2)
    response = client_for(therapist).post(reverse("courses:record_contact", args=[dit_course.pk]), {
        "kind": "liaison", "date": when.date().isoformat(), "time": when.strftime("%H:%M"), "duration_minutes": "15",
        "with_whom": "GP, Elm Surgery", "note": "Agreed the GP reviews medication."})

    contact = Contact.objects.get()
    assert response.status_code == 302
    assert response["Location"].endswith(f"#note-contact-{contact.pk}")
    assert (contact.kind, contact.duration_minutes, contact.with_whom) == ("liaison", 15, "GP, Elm Surgery")


def test_a_liaison_without_whom_is_refused_on_the_form(dit_course, therapist, client_for):
    response = client_for(therapist).post(reverse("courses:record_contact", args=[dit_course.pk]), {
        "kind": "liaison", "date": timezone.localdate().isoformat(), "time": "00:01", "note": "Called someone."})

    assert response.status_code == 400
    assert "Say who the liaison was with" in response.content.decode()
    assert not Contact.objects.exists()


def test_correcting_and_deleting_a_contact_from_its_page(dit_course, therapist, client_for):
    contact = _phone(dit_course, therapist)
    client = client_for(therapist)
    url = reverse("courses:correct_contact", args=[dit_course.pk, contact.pk])
    when = timezone.localtime(contact.at)

    assert client.get(url).status_code == 200
    response = client.post(url, {"kind": "message", "date": when.date().isoformat(), "time": when.strftime("%H:%M"),
                                 "note": contact.note, "reason": "It was a text message", "version": "1"})
    assert response.status_code == 302
    assert "It was a text message" in client.get(url).content.decode()  # the earlier version, with its reason
    response = client.post(reverse("courses:delete_contact", args=[dit_course.pk, contact.pk]),
                           {"delete-reason": "Wrong patient", "delete-version": "2"})
    assert response.status_code == 302
    assert not Contact.objects.exists()
    assert Contact.all_rows.get().version == 3


def test_the_course_page_cuts_a_long_note_and_links_to_it_whole(dit_course, therapist, client_for):
    long_note = "\n".join(f"Line {i}: {'words ' * 10}" for i in range(1, 13))
    contact = _phone(dit_course, therapist, note=long_note)

    body = client_for(therapist).get(reverse("courses:detail", args=[dit_course.pk])).content.decode()

    assert "Line 6:" in body
    assert "Line 7:" not in body
    assert f'{reverse("courses:notes", args=[dit_course.pk])}#note-contact-{contact.pk}">Read the whole note' in body
    assert notes.shorten("Short.") == "Short."
    assert notes.shorten("x" * 500) == "x" * notes.SHORT_CHARS + " …"


def test_the_notes_page_queries_do_not_grow_with_the_notes(dit_course, therapist, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(therapist)
    url = reverse("courses:notes", args=[dit_course.pk])
    _three_notes(dit_course, therapist)
    client.get(url)  # warm caches
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for days in range(2, 12):
        _session(dit_course, therapist, days=days, notes_text=f"Session notes {days}")
        _phone(dit_course, therapist, days=days)
    with CaptureQueriesContext(connection) as many:
        client.get(url)

    assert len(many.captured_queries) == len(few.captured_queries)
