"""Treatment and therapy features are protocol data: a service adds a protocol (a definition file
in INTERPERSONAL_PROTOCOLS_DIRS, protocols/definitions/README.md) and the pages and actions follow
it with no code change. And a session is treatment or not by the phase of its position in the
course: only attended *treatment* sessions make a course finished (≥ 2, NHS Talking Therapies,
DOMAIN.md §4); assessment contacts are not treatment (DOMAIN.md §6)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from interpersonal.core import protocols
from interpersonal.web.courses.actions import record_attendance, record_session, start_course
from interpersonal.web.courses.models import TherapySession
from interpersonal.web.courses.summary import summarise
from interpersonal.web.formulation import links
from interpersonal.web.formulation.models import IpafRevision
from interpersonal.web.letters.actions import kinds_for
from interpersonal.web.letters.models import Letter
from interpersonal.web.questionnaires.schedule import bundle_for

pytestmark = pytest.mark.django_db

# A therapy the shipped code never names: its IPAF, its letters, what it sends by link and its
# assessment session come from this file alone. (therapy = "cbt": the feature, not the therapy,
# opens the IPAF.)
SERVICE_PROTOCOL = """\
schema = 1
id = "service_focus"
name = "Service protocol with an interpersonal focus"
therapy = "cbt"
step = 3
description = "A service's own protocol (tests): an assessment session, then treatment organised around an IPAF."
source = "Tests."
session_measures = ["phq9", "gad7"]
baseline_measures = ["phq9", "gad7"]
link_measures = ["phq9"]
features = ["ipaf"]
letters = ["goodbye"]

[snomed]
source = "Tests."

[sessions]
cadence = "weekly"
default = 8
min = 6
max = 10
source = "Tests."
confirmed = true

[[phases]]
id = "assessment"
name = "Assessment"
length = 1
treatment = false
source = "Tests: an assessment session that is not treatment."
confirmed = true
tasks = [{ id = "assessed", label = "Assessed" }]

[[phases]]
id = "work"
name = "Work"
length = "rest"
source = "Tests."
confirmed = true
note_template = "The focus this week:\\nWhat the patient will try:"
tasks = [{ id = "worked", label = "Worked the focus" }]
"""


@pytest.fixture
def service_protocol(tmp_path, monkeypatch):
    directory = tmp_path / "protocols"
    directory.mkdir()
    (directory / "service_focus.toml").write_text(SERVICE_PROTOCOL, encoding="utf-8")
    monkeypatch.setenv("INTERPERSONAL_PROTOCOLS_DIRS", str(directory))
    protocols.reload()
    yield protocols.get("service_focus")
    protocols.reload()  # the environment is restored after this; the next read loads the shipped set


@pytest.fixture
def service_course(service_protocol, patient, therapist):
    return start_course(patient=patient, protocol="service_focus", therapist=therapist, by=therapist,
                        started_on=timezone.localdate() - dt.timedelta(days=30))


def _attend(course, therapist, days_ago: int, attendance: int | None = 5) -> TherapySession:
    return record_session(course=course, by=therapist, attendance=attendance, duration_minutes=50,
                          scheduled_at=timezone.now() - dt.timedelta(days=days_ago))


# -- features and letters from the protocol file ---------------------------------------------------

def test_a_new_protocol_file_is_offered_when_starting_a_course(client_for, therapist, patient, service_protocol):
    client = client_for(therapist)

    page = client.get(reverse("courses:new", args=[patient.pk])).content.decode()
    response = client.post(reverse("courses:new", args=[patient.pk]), {"protocol": "service_focus"})

    assert 'value="service_focus"' in page
    assert response.status_code == 302
    assert patient.courses.get().protocol == "service_focus"


def test_its_ipaf_feature_opens_the_ipaf_page_and_action(client_for, therapist, service_course):
    client = client_for(therapist)
    url = reverse("formulation:ipaf", args=[service_course.pk])

    course_page = client.get(reverse("courses:detail", args=[service_course.pk])).content.decode()
    saved = client.post(url, {"based_on": "", "affect": "Shame", "self_representation": "Small",
                              "other_representation": "", "defensive_function": "", "link_to_depression": "",
                              "agreed_on": ""})

    assert url in course_page
    assert reverse("formulation:inventory", args=[service_course.pk]) not in course_page
    assert client.get(url).status_code == 200
    assert saved.status_code == 302
    assert IpafRevision.objects.get(course=service_course).affect == "Shame"


def test_features_it_does_not_list_are_404_and_refused(client_for, therapist, service_course):
    client = client_for(therapist)

    for name in ("inventory", "timeline", "ipt"):
        assert client.get(reverse(f"formulation:{name}", args=[service_course.pk])).status_code == 404
    from interpersonal.web.formulation.actions import add_person

    with pytest.raises(ValidationError, match="has no Interpersonal inventory"):
        add_person(course=service_course, by=therapist, label="Partner")


def test_a_dit_course_is_not_given_ipt_pages_by_its_name_but_by_its_features(client_for, therapist, dit_course):
    page = client_for(therapist).get(reverse("courses:detail", args=[dit_course.pk])).content.decode()

    assert [text for text, _ in links.focus_links(dit_course)] == ["Interpersonal affective focus (IPAF)"]
    assert reverse("formulation:ipaf", args=[dit_course.pk]) in page
    assert reverse("formulation:timeline", args=[dit_course.pk]) not in page


def test_ipt_pages_follow_the_protocols_feature_order(ipt_course):
    assert [text for text, _ in links.focus_links(ipt_course)] == [
        "Timeline", "Interpersonal inventory", "Formulation and contract"]


def test_its_letters_are_the_protocols_list(client_for, therapist, service_course):
    client = client_for(therapist)
    new = reverse("letters:new", args=[service_course.pk])

    listing = client.get(reverse("letters:list", args=[service_course.pk])).content.decode()
    refused = client.post(new, {"kind": "gp_discharge"})
    drafted = client.post(new, {"kind": "goodbye"})

    assert kinds_for(service_course) == ("goodbye",)
    assert 'value="goodbye"' in listing
    assert 'value="gp_discharge"' not in listing
    assert refused.status_code == 400
    assert drafted.status_code == 302
    assert Letter.objects.get(course=service_course).kind == "goodbye"


def test_it_sends_its_link_measures(service_protocol):
    assert bundle_for(service_protocol) == ["phq9"]


def test_every_feature_has_a_page_and_every_letter_a_kind():
    assert set(links.PAGES) == set(protocols.FEATURES)
    assert set(Letter.Kind.values) == set(protocols.LETTERS)


# -- treatment follows the protocol's phases ------------------------------------------------------

def test_the_assessment_session_is_not_treatment_and_the_next_is(service_course, therapist):
    first = _attend(service_course, therapist, 14)
    second = _attend(service_course, therapist, 7)

    assert (first.treatment, second.treatment) == (False, True)


def test_assessment_sessions_do_not_make_a_course_finished(client_for, therapist, service_course):
    # NHS Talking Therapies (DOMAIN.md §4 [V]): finished = ≥ 2 attended *treatment* sessions.
    _attend(service_course, therapist, 21)
    _attend(service_course, therapist, 14)

    two = summarise(service_course)
    _attend(service_course, therapist, 7)
    three = summarise(service_course)

    assert (two.attended, two.attended_treatment, two.finished_treatment) == (2, 1, False)
    assert (three.attended, three.attended_treatment, three.finished_treatment) == (3, 2, True)


def test_the_course_page_marks_the_assessment_session(client_for, therapist, service_course):
    _attend(service_course, therapist, 14)
    _attend(service_course, therapist, 7)

    page = client_for(therapist).get(reverse("courses:detail", args=[service_course.pk])).content.decode()

    assert page.count("Assessment: not treatment") == 1
    assert "2 attended (1 of them treatment), 0 missed" in page
    assert "fewer than 2 attended treatment sessions" in page


def test_a_missed_first_appointment_leaves_the_next_attended_one_the_assessment(service_course, therapist):
    dna = _attend(service_course, therapist, 14, attendance=3)
    attended = _attend(service_course, therapist, 7)

    # Both sit at position 1 (no attended session before them): the assessment phase.
    assert (dna.treatment, attended.treatment) == (False, False)


def test_a_session_recorded_out_of_order_moves_the_later_ones(service_course, therapist):
    later = _attend(service_course, therapist, 7)
    assert later.treatment is False  # the first attended session, for now

    earlier = _attend(service_course, therapist, 14)
    later.refresh_from_db()

    assert (earlier.treatment, later.treatment) == (False, True)


def test_attendance_recorded_later_updates_the_following_sessions(service_course, therapist):
    booked = record_session(course=service_course, by=therapist, attendance=None,
                            scheduled_at=timezone.now() - dt.timedelta(days=10))
    after = _attend(service_course, therapist, 3)
    assert (booked.treatment, after.treatment) == (False, False)

    record_attendance(session=booked, attendance=5, by=therapist)
    booked.refresh_from_db()
    after.refresh_from_db()

    assert (booked.treatment, after.treatment) == (False, True)


def test_every_session_of_a_shipped_protocol_is_treatment(dit_course, therapist):
    sessions = [_attend(dit_course, therapist, d) for d in (14, 7)]

    assert [s.treatment for s in sessions] == [True, True]
    assert summarise(dit_course).finished_treatment


def test_an_assessment_contact_outside_a_course_cannot_have_its_attendance_recorded_as_a_session(patient, therapist):
    contact = TherapySession.objects.create(referral=patient.referrals.get(), treatment=False,
                                            scheduled_at=timezone.now() - dt.timedelta(days=1))

    with pytest.raises(ValidationError, match="assessment contact of the referral"):
        record_attendance(session=contact, attendance=5, by=therapist)


# -- note templates from the protocol file ----------------------------------------------------------

def test_the_record_session_form_starts_with_the_template_of_the_phase_the_session_falls_in(
        client_for, therapist, service_course):
    client = client_for(therapist)
    url = reverse("courses:record_session", args=[service_course.pk])

    first = client.get(url)  # session 1: the assessment phase, which has no template
    _attend(service_course, therapist, days_ago=7)
    second = client.get(url)  # session 2: the "work" phase

    assert first.context["form"]["notes"].value() in (None, "")
    assert "Template:" not in first.content.decode()
    assert second.context["form"]["notes"].value() == "The focus this week:\nWhat the patient will try:"
    assert "Template: Work" in second.content.decode()
