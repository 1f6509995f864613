"""The clinician's side of questionnaire links: send a bundle, see the link once, list,
withdraw; who may do what."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from interpersonal.web.audit.models import AuditEvent
from interpersonal.web.courses.actions import record_session
from interpersonal.web.questionnaires.models import QuestionnaireLink

pytestmark = pytest.mark.django_db


def send_url(course) -> str:
    return reverse("questionnaires:send", args=[course.pk])


def test_send_form_offers_only_answerable_measures_and_defaults_to_the_protocols(dit_course, therapist, client_for):
    response = client_for(therapist).get(send_url(dit_course))

    text = response.content.decode()
    assert response.status_code == 200
    offered = re.findall(r'name="instruments" value="([a-z0-9_]+)"', text)
    assert offered == ["phq9", "gad7", "wsas"]  # the protocol's session measures first
    for licensed in ("bdi2", "core10", "qids_sr16", "hrsd17"):
        assert f'value="{licensed}"' not in text
    assert re.search(r'value="phq9"[^>]*checked', text)
    assert re.search(r'value="gad7"[^>]*checked', text)
    assert not re.search(r'value="wsas"[^>]*checked', text)


def test_sending_shows_the_link_once_and_audits_it(dit_course, therapist, client_for, audit_trail):
    client = client_for(therapist)

    response = client.post(send_url(dit_course), {"instruments": ["wsas", "phq9", "gad7"], "valid_days": "5"})

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    url = re.search(r'id="link-url"[^>]*>(http://testserver/q/[A-Za-z0-9_-]+/)</textarea>', response.content.decode())
    assert url, "the full link is shown"
    link = QuestionnaireLink.objects.get()
    assert link.instruments == ["phq9", "gad7", "wsas"]  # answered in the protocol's order
    assert dt.timedelta(days=4, hours=23) < link.expires_at - timezone.now() <= dt.timedelta(days=5)
    assert "questionnaire_link.issued" in audit_trail.new_types()
    token = url.group(1).rsplit("/", 2)[-2]
    assert link.token_hash != token
    assert token not in str(list(AuditEvent.objects.values_list("data", flat=True)))
    listing = client.get(reverse("questionnaires:list", args=[dit_course.pk])).content.decode()
    assert token not in listing
    assert "PHQ-9, GAD-7, WSAS" in listing


def test_sending_for_a_booked_session(dit_course, therapist, client_for):
    booked = record_session(course=dit_course, by=therapist, attendance=None,
                            scheduled_at=timezone.now() + dt.timedelta(days=3))
    client = client_for(therapist)
    assert f'<option value="{booked.pk}">' in client.get(send_url(dit_course)).content.decode()

    client.post(send_url(dit_course), {"instruments": ["phq9"], "session": str(booked.pk), "valid_days": "7"})

    assert QuestionnaireLink.objects.get().session == booked


def test_past_sessions_are_not_offered(dit_course, therapist, client_for, attended_session):
    response = client_for(therapist).post(send_url(dit_course), {"instruments": ["phq9"], "valid_days": "7",
                                                                 "session": str(attended_session.pk)})

    assert response.status_code == 400
    assert not QuestionnaireLink.objects.exists()


@pytest.mark.parametrize("data", [
    {"instruments": ["bdi2"], "valid_days": "7"},
    {"instruments": ["hrsd17"], "valid_days": "7"},
    {"valid_days": "7"},
    {"instruments": ["phq9"], "valid_days": "40"},
])
def test_licensed_clinician_rated_none_or_too_long_is_400(dit_course, therapist, client_for, data):
    response = client_for(therapist).post(send_url(dit_course), data)

    assert response.status_code == 400
    assert "There is a problem" in response.content.decode()
    assert not QuestionnaireLink.objects.exists()


def test_withdraw_closes_the_link(dit_course, therapist, client_for, sent):
    link, _token = sent
    client = client_for(therapist)

    response = client.post(reverse("questionnaires:withdraw", args=[dit_course.pk, link.pk]))

    assert response["Location"] == reverse("questionnaires:list", args=[dit_course.pk])
    link.refresh_from_db()
    assert link.state == QuestionnaireLink.State.WITHDRAWN
    assert "withdrawn on" in client.get(response["Location"]).content.decode()


def test_unrelated_therapist_gets_404_everywhere(dit_course, unrelated_therapist, client_for, sent):
    link, _ = sent
    client = client_for(unrelated_therapist)

    assert client.get(reverse("questionnaires:list", args=[dit_course.pk])).status_code == 404
    assert client.get(send_url(dit_course)).status_code == 404
    assert client.post(send_url(dit_course), {"instruments": ["phq9"], "valid_days": "7"}).status_code == 404
    assert client.post(reverse("questionnaires:withdraw", args=[dit_course.pk, link.pk])).status_code == 404
    assert QuestionnaireLink.objects.count() == 1
    link.refresh_from_db()
    assert link.withdrawn_at is None


def test_supervisor_reads_the_list_but_may_not_send_or_withdraw(dit_course, supervisor, client_for, sent):
    link, _ = sent
    client = client_for(supervisor)

    listing = client.get(reverse("questionnaires:list", args=[dit_course.pk]))
    assert listing.status_code == 200
    assert "Send questionnaires" not in listing.content.decode()
    assert client.post(send_url(dit_course), {"instruments": ["phq9"], "valid_days": "7"}).status_code == 403
    assert client.post(reverse("questionnaires:withdraw", args=[dit_course.pk, link.pk])).status_code == 403
    assert QuestionnaireLink.objects.count() == 1
    link.refresh_from_db()
    assert link.withdrawn_at is None


def test_a_link_of_another_course_cannot_be_withdrawn_through_this_one(dit_course, therapist, client_for, sent):
    from interpersonal.web.courses.actions import start_course
    from interpersonal.web.patients.actions import register_patient

    link, _ = sent
    other = register_patient(by=therapist, given_name="Quinn", family_name="Second", date_of_birth=dt.date(1991, 1, 1),
                             received_on=timezone.localdate(), source="self")
    other_course = start_course(patient=other, protocol="ipt", therapist=therapist, by=therapist,
                                started_on=timezone.localdate())

    response = client_for(therapist).post(reverse("questionnaires:withdraw", args=[other_course.pk, link.pk]))

    assert response.status_code == 404
    link.refresh_from_db()
    assert link.withdrawn_at is None
