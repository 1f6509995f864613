"""Patient phone numbers (issue #12): the SMS path's address, so digits only, stored as E.164."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from interpersonal.web.patients.actions import register_patient
from interpersonal.web.patients.models import Patient
from interpersonal.web.questionnaires.notify import reach


def registration(phone: str) -> dict[str, str]:
    return {"given_name": "Ada", "family_name": "Phone", "date_of_birth": "1980-02-03", "phone": phone,
            "received_on": (timezone.localdate() - dt.timedelta(days=3)).isoformat(), "source": "gp"}


@pytest.mark.parametrize("phone", ["<b>01234</b>", "1e308", "ring me", "01234", "+44 1234 567", "+44 7700 900123 45"])
def test_a_phone_number_that_is_not_one_is_a_form_error(client_for, therapist, phone):
    response = client_for(therapist).post(reverse("patients:new"), registration(phone))

    assert response.status_code == 400
    assert response.context["form"].errors["phone"] == [
        "Enter a phone number of digits only, such as 07700 900123 or +44 7700 900123."]
    assert not Patient.objects.filter(family_name="Phone").exists()


def test_a_uk_mobile_is_stored_in_e164_and_is_the_sms_address(client_for, therapist):
    response = client_for(therapist).post(reverse("patients:new"), registration("07700 900123"))

    assert response.status_code == 302
    patient = Patient.objects.get(family_name="Phone")
    assert patient.phone == "+447700900123"
    contact = reach(patient, "sms", consent=False).contact  # the address; consent is questionnaires' own test
    assert contact is not None
    assert (contact.channel, contact.to) == ("sms", "+447700900123")


def test_the_action_refuses_a_phone_number_that_is_not_one(therapist):
    with pytest.raises(ValidationError) as refused:
        register_patient(by=therapist, given_name="Ada", family_name="Phone", date_of_birth=dt.date(1980, 2, 3),
                         phone="1e308", received_on=timezone.localdate(), source="gp")

    assert "phone" in refused.value.error_dict


def test_a_number_stored_before_numbers_were_checked_is_sent_in_e164_or_not_at_all(patient):
    """Rows from before the check: the migration converts what it can; the SMS path converts
    again and skips what is not a number, rather than handing markup to the gateway."""
    Patient.objects.filter(pk=patient.pk).update(email="", phone="07700 900123")
    patient.refresh_from_db()
    assert reach(patient, "sms", consent=False).contact.to == "+447700900123"

    Patient.objects.filter(pk=patient.pk).update(phone="<b>01234</b>")
    patient.refresh_from_db()
    assert reach(patient, "sms", consent=False).contact is None


def test_the_migration_converts_stored_numbers_and_leaves_the_rest(patient, other_patient):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("interpersonal.web.patients.migrations.0002_phone_numbers_e164")
    Patient.objects.filter(pk=patient.pk).update(phone="(07700) 900-123")
    Patient.objects.filter(pk=other_patient.pk).update(phone="ring me")

    migration.to_e164(apps, None)

    assert Patient.objects.get(pk=patient.pk).phone == "+447700900123"
    assert Patient.objects.get(pk=other_patient.pk).phone == "ring me"
