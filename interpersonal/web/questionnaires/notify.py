"""Telling a patient their questionnaire link: e-mail, or SMS through a pluggable gateway.

A :class:`Notifier` delivers one message to one address. E-mail goes through Django's mail
framework (``EMAIL_BACKEND``: the console by default, SMTP in production); SMS goes through the
:class:`SmsGateway` named by ``INTERPERSONAL_SMS_BACKEND`` (``ConsoleSms`` by default,
``DummySms`` in tests; a real provider is one small class with the same ``send``).

Messages are kind and minimal: the patient's first name (never the surname), the service, the
appointment time, the link and when it stops working. No measure names, scores or other clinical
content, and no crisis text (the questionnaire pages carry it) — a message may be read on a
shared screen or a lock screen.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import ClassVar, Protocol

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string

from interpersonal.web.bounds import InvalidPhoneNumber, normalise_phone

logger = logging.getLogger(__name__)

LINK_URL_NAME = "questionnaires:start"
"""The patient page that takes a link's token (questionnaires/urls.py)."""


class Notifier(Protocol):
    def send(self, *, to: str, subject: str, body: str) -> None: ...


class SmsGateway(Protocol):
    def send(self, *, to: str, body: str) -> None: ...


class EmailNotifier:
    """Django's mail framework; raises if the mail server refuses (the caller rolls back)."""

    def send(self, *, to: str, subject: str, body: str) -> None:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to], fail_silently=False)


class SmsNotifier:
    """A :class:`Notifier` over an SMS gateway: the subject is dropped."""

    def __init__(self, gateway: SmsGateway) -> None:
        self.gateway = gateway

    def send(self, *, to: str, subject: str, body: str) -> None:
        self.gateway.send(to=to, body=body)


class ConsoleSms:
    """Logs the message instead of sending it (development and the demo; never with real patients)."""

    def send(self, *, to: str, body: str) -> None:
        logger.info("SMS to %s:\n%s", to, body)


@dataclass(frozen=True, slots=True)
class Sms:
    to: str
    body: str


class DummySms:
    """Keeps every message in ``DummySms.outbox`` (like ``django.core.mail.outbox``), for tests."""

    outbox: ClassVar[list[Sms]] = []

    def send(self, *, to: str, body: str) -> None:
        DummySms.outbox.append(Sms(to=to, body=body))


def sms_gateway() -> SmsGateway:
    gateway: SmsGateway = import_string(settings.INTERPERSONAL_SMS_BACKEND)()
    return gateway


@dataclass(frozen=True, slots=True)
class Contact:
    channel: str
    """"email" or "sms"."""
    to: str
    notifier: Notifier


CHANNEL_NAMES = {"email": "e-mail", "sms": "text message"}


@dataclass(frozen=True, slots=True)
class Reach:
    """Whether a channel reaches the patient now: ``contact`` when it does, else ``reason`` in
    words a clinician can act on."""

    channel: str
    contact: Contact | None
    reason: str = ""


def reach(patient: object, channel: str, *, consent: bool = True) -> Reach:
    """Whether ``channel`` ("email" or "sms") reaches the patient: an address recorded (a phone
    number that is one) and, with ``consent`` (questionnaire links), the patient's consent to
    contact by that channel recorded as given — "not yet asked" is not consent (UK GDPR art. 6
    and 7; PECR reg. 22 treats each electronic channel on its own)."""
    if channel == "email":
        email = (getattr(patient, "email", "") or "").strip()
        if not email:
            return Reach(channel, None, "No e-mail address recorded — add one on the patient's page")
        contact = Contact("email", email, EmailNotifier())
    elif channel == "sms":
        phone = (getattr(patient, "phone", "") or "").strip()
        if not phone:
            return Reach(channel, None, "No mobile number recorded — add one on the patient's page")
        try:  # stored before numbers were checked (migration patients 0002 left the bad ones as typed)
            contact = Contact("sms", normalise_phone(phone), SmsNotifier(sms_gateway()))
        except InvalidPhoneNumber:
            return Reach(channel, None, "The phone number recorded is not a valid number — correct it on the "
                                        "patient's page")
    else:
        raise ValueError(f"unknown channel {channel!r}")
    if consent and getattr(patient, f"contact_by_{channel}", None) is not True:
        return Reach(channel, None, f"No consent to contact by {CHANNEL_NAMES[channel]} recorded")
    return Reach(channel, contact)


def contact_for(patient: object) -> Contact | None:
    """The channel a session's link goes by: e-mail if the patient has an address and consents
    to e-mail, else a text message if they have a valid number and consent to texts, else None."""
    for channel in ("email", "sms"):
        found = reach(patient, channel)
        if found.contact is not None:
            return found.contact
    return None


def masked(channel: str, to: str) -> str:
    """An address shown on the link list without giving it away: p•••@example.org, +44•••123."""
    if channel == "email":
        local, _, domain = to.partition("@")
        return f"{local[:1]}•••@{domain}"[:255]
    return f"{to[:3]}•••{to[-3:]}"


def link_url(token: str) -> str:
    return settings.INTERPERSONAL_BASE_URL + reverse(LINK_URL_NAME, kwargs={"token": token})


def _when(moment: dt.datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local:%A} {local.day} {local:%B} at {local:%H:%M}"


@dataclass(frozen=True, slots=True)
class Message:
    subject: str
    body: str


def questionnaire_message(
    *, channel: str, given_name: str, url: str, expires_at: dt.datetime, appointment_at: dt.datetime | None,
) -> Message:
    """The text that carries a session's link (``appointment_at`` None: the next one, not yet
    booked). Only the first name; nothing clinical."""
    service = settings.INTERPERSONAL_SERVICE_NAME
    appointment = f"your appointment on {_when(appointment_at)}" if appointment_at else "your next appointment"
    if channel == "sms":
        return Message("", (
            f"{service}: a few short questions before {appointment}: {url} "
            f"(works until {_when(expires_at)})."
        ))
    name = given_name.strip() or "there"
    return Message(
        f"Before {appointment}",
        f"Hello {name},\n\n"
        f"Before {appointment}, please answer a few short questions. "
        f"It takes a few minutes, and your answers help you and your therapist see how things are going.\n\n"
        f"{url}\n\n"
        f"The link is for you only and works until {_when(expires_at)}. "
        f"If you can't answer them, that's fine: you can talk about it at your appointment.\n\n"
        f"{service}\n",
    )
