import datetime as dt

import pytest
from django.utils import timezone


@pytest.fixture
def ipt_course(therapist):
    """An active 16-session IPT course of ``therapist`` for a second synthetic patient."""
    from interpersonal.web.courses.actions import start_course
    from interpersonal.web.patients.actions import register_patient

    other = register_patient(by=therapist, given_name="Robin", family_name="Sample", date_of_birth=dt.date(1990, 7, 2),
                             nhs_number="943 476 5870", referral_date=timezone.localdate() - dt.timedelta(days=40),
                             referral_source="gp")
    return start_course(patient=other, protocol="ipt", therapist=therapist, by=therapist,
                        started_on=timezone.localdate() - dt.timedelta(days=30))
