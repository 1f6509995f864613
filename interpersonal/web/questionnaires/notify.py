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


def contact_for(patient: object) -> Contact | None:
    """E-mail if the patient has an address, else SMS to their phone number in E.164 if it is a
    phone number, else None."""
    email = (getattr(patient, "email", "") or "").strip()
    if email:
        return Contact("email", email, EmailNotifier())
    phone = (getattr(patient, "phone", "") or "").strip()
    if phone:
        try:  # stored before numbers were checked (migration patients 0002 left the bad ones as typed)
            return Contact("sms", normalise_phone(phone), SmsNotifier(sms_gateway()))
        except InvalidPhoneNumber:
            return None  # as no contact: the scheduler records questionnaire_link.no_contact
    return None


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
    *, channel: str, given_name: str, url: str, expires_at: dt.datetime, appointment_at: dt.datetime,
) -> Message:
    """The text that carries a session's link. Only the first name; nothing clinical."""
    service = settings.INTERPERSONAL_SERVICE_NAME
    if channel == "sms":
        return Message("", (
            f"{service}: a few short questions before your appointment on {_when(appointment_at)}: {url} "
            f"(works until {_when(expires_at)})."
        ))
    name = given_name.strip() or "there"
    return Message(
        f"Before your appointment on {_when(appointment_at)}",
        f"Hello {name},\n\n"
        f"Before your appointment on {_when(appointment_at)}, please answer a few short questions. "
        f"It takes a few minutes, and your answers help you and your therapist see how things are going.\n\n"
        f"{url}\n\n"
        f"The link is for you only and works until {_when(expires_at)}. "
        f"If you can't answer them, that's fine: you can talk about it at your appointment.\n\n"
        f"{service}\n",
    )
