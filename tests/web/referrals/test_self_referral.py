"""The public self-referral form (/refer/): a person refers themselves without signing in.

Happy path, bad input (400, nothing recorded), spam refused quietly (honeypot, too fast, no or a
forged start token: a thank-you page as for a real one, nothing recorded), the per-address limit,
possible duplicates flagged (never merged, never a silent second patient), the crisis message on
every page, and the audit trail.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from interpersonal.web.audit.models import AuditEvent
from interpersonal.web.patients.models import Patient
from interpersonal.web.referrals import actions, formtokens
from interpersonal.web.referrals.models import Referral, SelfReferral, SelfReferralAttempt
from tests.web.signed import altered

pytestmark = pytest.mark.django_db

URL = "/refer/"


def opened(seconds_ago: float = 60) -> str:
    """A start token for a form opened ``seconds_ago``."""
    return formtokens.start_token(now=time.time() - seconds_ago)


def answers(**changes: str) -> dict[str, str]:
    data = {
        "given_name": "Morgan", "family_name": "Selfton", "dob_day": "14", "dob_month": "3", "dob_year": "1985",
        "nhs_number": "", "phone": "07700 900982", "email": "morgan@example.org", "address": "",
        "contact_method": "text", "leave_message": "no", "gp_practice": "Riverside Surgery, Exampletown",
        "presenting_problem": "Low mood for six months since I lost my job; I stopped seeing friends.",
        "preference": "Evenings, please; a woman therapist if possible.", "consent": "on",
        "website": "", "started": opened(),
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def everything() -> tuple:
    return (Patient.objects.count(), Referral.objects.count(), SelfReferral.objects.count(),
            AuditEvent.objects.filter(type__in=["patient.registered", "referral.received",
                                                "self_referral.received"]).count())


def reference_on(response, client: Client) -> str | None:
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("referrals:self_refer_thanks"))
    page = client.get(response["Location"])
    assert page.status_code == 200
    return page.context["reference"]


# --- the happy path --------------------------------------------------------------------------


def test_the_form_is_public_and_mobile_ready():
    response = Client().get(URL)

    assert response.status_code == 200
    body = response.content.decode()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in body
    assert "Set-Cookie" not in str(response.cookies)
    assert not response.cookies
    assert 'name="started"' in body
    assert 'name="website"' in body
    assert escape(settings.INTERPERSONAL_UNDER_18_MESSAGE) in body  # where an under-18 should go


def test_a_self_referral_makes_a_patient_and_a_referral_awaiting_triage(audit_trail):
    client = Client()
    response = client.post(URL, answers())

    reference = reference_on(response, client)
    submission = SelfReferral.objects.get()
    referral, patient = submission.referral, submission.referral.patient
    assert reference == submission.reference
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", reference)
    assert (patient.given_name, patient.family_name, patient.date_of_birth) == ("Morgan", "Selfton",
                                                                               dt.date(1985, 3, 14))
    assert patient.phone == "+447700900982"  # E.164 (bounds.normalise_phone)
    assert patient.therapist is None  # allocated to nobody: it waits in the inbox
    assert patient.gp_practice == "Riverside Surgery, Exampletown"
    assert referral.source == "self"
    assert referral.status == Referral.Status.AWAITING_TRIAGE
    assert referral.received_on == timezone.localdate()
    assert referral.therapist is None
    assert referral.presenting_problem.startswith("Low mood")
    assert referral.patient_preference == "Evenings, please; a woman therapist if possible."
    assert (submission.contact_method, submission.leave_message) == ("text", False)
    assert submission.consented_at is not None
    assert submission.duplicate == ""
    # Audited as done by the form: nobody signed in.
    events = {e.type: e for e in audit_trail.new()}
    assert {"patient.registered", "referral.received", "self_referral.received"} <= set(events)
    received = events["self_referral.received"]
    assert (received.actor_id, received.actor_username, received.actor_role) == (None, "self-referral form", "public")
    assert received.patient_id == patient.pk
    assert received.data["referral_id"] == referral.pk
    assert "Morgan" not in str(received.data)
    assert "Low mood" not in str(received.data)


def test_the_thanks_page_shows_the_reference_and_nothing_the_person_wrote():
    client = Client()
    page = client.get(client.post(URL, answers())["Location"])
    body = page.content.decode()

    assert SelfReferral.objects.get().reference in body
    for written in ("Morgan", "Selfton", "07700", "morgan@example.org", "Low mood", "Riverside", "Evenings"):
        assert written not in body


def test_the_thanks_page_without_a_fresh_receipt_shows_no_reference():
    client = Client()
    location = client.post(URL, answers())["Location"]
    receipt = parse_qs(urlsplit(location).query)["r"][0]
    reference = SelfReferral.objects.get().reference

    assert reference not in client.get(reverse("referrals:self_refer_thanks")).content.decode()
    assert reference not in client.get(reverse("referrals:self_refer_thanks"), {"r": receipt + "x"}).content.decode()
    later = time.time() + formtokens.RECEIPT_MAX_AGE + 5
    from unittest import mock

    with mock.patch("django.core.signing.time.time", return_value=later):
        assert client.get(location).context["reference"] is None


# --- bad input: a clear error, nothing recorded -----------------------------------------------


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"given_name": ""}, "given_name", "Enter your first name."),
    ({"dob_day": "", "dob_month": "", "dob_year": ""}, "dob_day", "Enter your date of birth."),
    ({"dob_day": "31", "dob_month": "2"}, "dob_day", "Date of birth must be a real date"),
    ({"dob_year": "2999"}, "dob_year", "Date of birth must be in the past"),
    ({"dob_month": ""}, "dob_month", "Date of birth must include a month."),
    ({"nhs_number": "123 456 7890"}, "nhs_number", "Enter the 10 digits of your NHS number"),
    ({"phone": "call me"}, "phone", "Enter a phone number of digits only"),
    ({"phone": "", "email": "", "contact_method": "letter", "address": "1 Example Street"}, "phone",
     "Enter a phone number or an email address"),
    ({"contact_method": "email", "email": ""}, "email", "Enter an email address, or choose another way"),
    ({"consent": None}, "consent", "agree that the service may contact you"),
    ({"presenting_problem": "   "}, "presenting_problem", "Tell us what you would like help with."),
    ({"gp_practice": "x" * 201}, "gp_practice", "at most 200"),
    ({"leave_message": "maybe"}, "leave_message", "Select a valid choice"),
])
def test_bad_input_is_a_clear_error_and_records_nothing(changes, field, message):
    before = everything()
    response = Client().post(URL, answers(**changes))

    assert response.status_code == 400
    form = response.context["form"]
    assert field in form.errors
    assert message.lower() in " ".join(form.errors[field]).lower()
    body = response.content.decode()
    assert "There is a problem: nothing has been sent yet" in body
    assert f'href="#{form[field].auto_id}' in body  # the error summary links to the field
    assert 'aria-invalid="true"' in body
    assert everything() == before


def test_what_was_typed_stays_in_the_form_after_an_error():
    response = Client().post(URL, answers(dob_year=""))

    body = response.content.decode()
    assert 'value="Morgan"' in body
    assert "Low mood for six months" in body


def test_the_action_keeps_its_own_bounds_for_callers_that_are_not_the_form():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        actions.receive_self_referral(
            given_name="x" * 101, family_name="Selfton", date_of_birth=dt.date(1985, 3, 14), gp_practice="G",
            presenting_problem="p" * 5001, contact_method="phone", leave_message=True, consent=False,
            phone="07700 900982")
    assert {"given_name", "presenting_problem", "consent"} <= set(refused.value.message_dict)
    assert Patient.objects.count() == 0


def test_an_expired_form_is_shown_again_with_the_answers_and_a_fresh_token():
    old = opened(seconds_ago=settings.INTERPERSONAL_SELF_REFERRAL_MAX_HOURS * 3600 + 60)
    response = Client().post(URL, answers(started=old))

    assert response.status_code == 400
    assert response.context["expired"]
    assert 'value="Morgan"' in response.content.decode()
    fresh = response.context["form"]["started"].value()
    assert fresh != old
    assert formtokens.judge(fresh, now=time.time() + 60) is formtokens.Verdict.OK
    assert Patient.objects.count() == 0


# --- spam: refused quietly, nothing recorded -----------------------------------------------------


@pytest.mark.parametrize(("field", "value"), [
    ("website", lambda: "http://cheap-pills.example"),  # the honeypot, hidden from people
    ("started", lambda: opened(seconds_ago=1)),  # faster than a person can fill it in
    ("started", lambda: ""),  # no start token
    ("started", lambda: "forged:token"),  # not signed by this server
    ("started", lambda: altered(opened())),
    ("started", lambda: opened(seconds_ago=-3600)),  # dated ahead
], ids=["honeypot", "too-fast", "no-token", "forged", "altered", "future"])
def test_spam_gets_the_same_thank_you_page_and_records_nothing(field, value, caplog):
    before = everything()
    client = Client()
    response = client.post(URL, answers(**{field: value()}))

    reference = reference_on(response, client)  # looks exactly like a real one
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", reference)
    assert everything() == before
    assert not SelfReferral.objects.filter(reference=reference).exists()
    assert f"reference shown {reference}" in caplog.text  # for a person who calls to ask


# --- the per-address limit -----------------------------------------------------------------------


def test_too_many_posts_from_one_address_are_refused_with_429(settings):
    settings.INTERPERSONAL_SELF_REFERRAL_MAX_POSTS = 3
    client = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(3):
        assert client.post(URL, answers(given_name="")).status_code == 400
    before = everything()

    refused = client.post(URL, answers())

    assert refused.status_code == 429
    assert refused["Retry-After"] == str(settings.INTERPERSONAL_SELF_REFERRAL_WINDOW_MINUTES * 60)
    assert "Please try again later" in refused.content.decode()
    assert everything() == before
    # Another address is not held back; the address is never stored, only a keyed hash of it.
    assert Client(REMOTE_ADDR="198.51.100.9").post(URL, answers()).status_code == 302
    assert not SelfReferralAttempt.objects.filter(client__contains="203.0.113.7").exists()


def test_the_limit_forgets_posts_older_than_the_window(settings):
    settings.INTERPERSONAL_SELF_REFERRAL_MAX_POSTS = 1
    client = Client(REMOTE_ADDR="203.0.113.8")
    assert client.post(URL, answers(given_name="")).status_code == 400
    SelfReferralAttempt.objects.update(at=timezone.now() - dt.timedelta(minutes=61))

    assert client.post(URL, answers()).status_code == 302
    assert SelfReferralAttempt.objects.count() == 1  # the old row was deleted: the table stays bounded


def test_a_get_is_not_counted(settings):
    settings.INTERPERSONAL_SELF_REFERRAL_MAX_POSTS = 1
    client = Client()
    for _ in range(5):
        assert client.get(URL).status_code == 200
    assert client.post(URL, answers()).status_code == 302


# --- possible duplicates: flagged for staff, never merged silently -------------------------------


def test_the_same_name_and_birth_as_a_patient_with_an_open_referral_is_flagged(patient):
    """``patient`` (Pat Example, born 14 Mar 1985) has an open referral from their GP."""
    client = Client()
    response = client.post(URL, answers(given_name="pat ", family_name="EXAMPLE", nhs_number=""))

    assert response.status_code == 302
    submission = SelfReferral.objects.get()
    assert submission.referral.patient != patient  # not merged into the other record
    assert (submission.duplicate, submission.duplicate_of, submission.duplicate_match) == (
        "possible", patient.pk, "name_and_birth")
    assert patient.referrals.count() == 1  # the open referral is untouched
    event = AuditEvent.objects.get(type="self_referral.received")
    assert event.data["possible_duplicate_of"] == patient.pk


def test_the_same_nhs_number_is_flagged_and_kept_on_the_submission_not_the_patient(patient):
    client = Client()
    response = client.post(URL, answers(nhs_number="943 476 5919"))  # Pat Example's number

    assert response.status_code == 302
    submission = SelfReferral.objects.get()
    assert submission.referral.patient.nhs_number is None  # unique: one record holds it
    assert submission.nhs_number_given == "9434765919"
    assert (submission.duplicate, submission.duplicate_of, submission.duplicate_match) == (
        "possible", patient.pk, "nhs_number")


def test_sending_the_form_twice_flags_the_second(client):
    first = Client().post(URL, answers())
    second = Client().post(URL, answers())

    assert first.status_code == second.status_code == 302
    one, two = SelfReferral.objects.order_by("pk")
    assert one.duplicate == ""
    assert two.duplicate == "possible"
    assert two.duplicate_of == one.referral.patient_id


def test_a_different_nhs_number_is_not_the_same_person(patient):
    Client().post(URL, answers(given_name="Pat", family_name="Example", nhs_number="943 476 5870"))

    assert SelfReferral.objects.get().duplicate == ""


# --- the crisis message: on every page of it -------------------------------------------------------


def test_the_crisis_message_is_on_every_page(settings):
    settings.INTERPERSONAL_CRISIS_MESSAGE = "Ring the Example Crisis Line on 0800 000 0000."
    client = Client()
    pages = {
        "form": client.get(URL),
        "error": client.post(URL, answers(given_name="")),
        "expired": client.post(URL, answers(started=opened(settings.INTERPERSONAL_SELF_REFERRAL_MAX_HOURS * 3601))),
    }
    sent = client.post(URL, answers())
    pages["thanks"] = client.get(sent["Location"])
    pages["thanks, no receipt"] = client.get(reverse("referrals:self_refer_thanks"))
    settings.INTERPERSONAL_SELF_REFERRAL_MAX_POSTS = 0
    pages["too many"] = client.post(URL, answers())

    assert {name: r.status_code for name, r in pages.items()} == {
        "form": 200, "error": 400, "expired": 400, "thanks": 200, "thanks, no receipt": 200, "too many": 429}
    for name, response in pages.items():
        body = response.content.decode()
        assert "Ring the Example Crisis Line on 0800 000 0000." in body, name
        assert "If you need help now" in body, name


def test_the_default_crisis_message_names_999_nhs_111_option_2_and_samaritans():
    message = settings.INTERPERSONAL_CRISIS_MESSAGE

    assert "999" in message
    assert "NHS 111" in message
    assert "option 2" in message
    assert "116 123" in message


# --- the page's headers ----------------------------------------------------------------------------


def test_the_public_pages_are_not_stored_and_set_no_cookie():
    client = Client()
    for response in (client.get(URL), client.post(URL, answers(given_name="")),
                     client.get(reverse("referrals:self_refer_thanks"))):
        assert "no-store" in response["Cache-Control"]
        assert response["Referrer-Policy"] == "no-referrer"
        assert not response.cookies
        assert "default-src 'self'" in response["Content-Security-Policy"]


def test_markup_typed_into_the_form_is_escaped_when_shown_again():
    nasty = '<script>alert("x")</script>'
    response = Client().post(URL, answers(given_name=nasty, dob_year=""))

    body = response.content.decode()
    assert nasty not in body
    assert "&lt;script&gt;" in body
