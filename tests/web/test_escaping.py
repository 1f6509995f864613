"""Patient-entered text is escaped wherever the pages build HTML in Python (caseload rows,
course fragments, measure forms): a name is never markup."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from interpersonal.web.courses.actions import start_course
from interpersonal.web.patients.actions import register_patient

NASTY = '<script>alert("x")</script>'


def test_a_name_with_markup_is_escaped_on_the_caseload_and_course_pages(client_for, therapist):
    patient = register_patient(
        by=therapist, given_name=NASTY, family_name=f"O'Brien{NASTY}", date_of_birth=dt.date(1990, 1, 1),
        received_on=timezone.localdate(), source="self",
    )
    course = start_course(patient=patient, protocol="ipt", therapist=therapist, by=therapist)
    client = client_for(therapist)

    for url in ("/caseload/", f"/courses/{course.pk}/", f"/courses/{course.pk}/sessions/new/", f"/patients/{patient.pk}/"):
        body = client.get(url).content.decode()
        assert NASTY not in body, url
        assert "&lt;script&gt;" in body, url
