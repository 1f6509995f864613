"""A stand-alone measure's date (issue #12): a year-1 date was stored and became the baseline."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from interpersonal.web.assessments.models import Measurement

PHQ9 = {f"phq9-item_{i}": "1" for i in range(1, 10)} | {"phq9-item_9": "0"}


def post_measure(client, course, date: str):
    url = reverse("courses:record_measure", args=[course.pk]) + "?instrument=phq9"
    return client.post(url, {"instrument": "phq9", "session": "", "date": date, **PHQ9})


@pytest.mark.parametrize("date", ["0001-01-01", "1999-12-31", "9999-12-31"])
def test_a_stand_alone_measure_with_an_implausible_date_is_a_form_error(client_for, therapist, dit_course, date):
    response = post_measure(client_for(therapist), dit_course, date)

    assert response.status_code == 400
    assert response.context["meta"].errors["date"] == [
        "Give a date between 1 January 2000 and today: it cannot be in the future. Check the year."]
    assert not Measurement.objects.filter(course=dit_course).exists()


def test_a_stand_alone_measure_cannot_be_dated_tomorrow(client_for, therapist, dit_course):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)

    response = post_measure(client_for(therapist), dit_course, tomorrow.isoformat())

    assert response.status_code == 400
    assert "date" in response.context["meta"].errors
    assert not Measurement.objects.filter(course=dit_course).exists()


def test_a_stand_alone_measure_dated_last_week_is_stored_on_that_date(client_for, therapist, dit_course):
    last_week = timezone.localdate() - dt.timedelta(days=7)

    response = post_measure(client_for(therapist), dit_course, last_week.isoformat())

    assert response.status_code == 302
    assert timezone.localdate(Measurement.objects.get(course=dit_course).recorded_at) == last_week


def test_a_stand_alone_measure_dated_before_the_course_started_is_refused_not_made_the_baseline(
        client_for, therapist, dit_course):
    before_start = dit_course.started_on - dt.timedelta(days=1)

    response = post_measure(client_for(therapist), dit_course, before_start.isoformat())

    assert response.status_code == 400
    assert response.context["meta"].errors["date"] == [
        f"The course started on {dit_course.started_on:%d %b %Y}; a measure in it cannot be dated earlier. "
        "Check the date."]
    assert not Measurement.objects.filter(course=dit_course).exists()
