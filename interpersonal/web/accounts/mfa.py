"""Staff multi-factor authentication: TOTP devices (django-otp) and who must use one.

Every member of staff with a role — therapist, supervisor, service lead, administrator, records
officer — and every superuser must confirm a TOTP code once per session before any staff page
opens. Every role reads identifiable patient records or can grant access to them (an
administrator creates accounts and assigns roles; a records officer exports and erases whole
records), so the issue's "clinical roles" is read as "every role that reaches patient data". A
user with no role sees nothing clinical and is not asked.

``INTERPERSONAL_REQUIRE_MFA=0`` turns the requirement off (the demo, and the test suite).
"""

from __future__ import annotations

import base64
from typing import Any

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.db import transaction
from django_otp import match_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from interpersonal.web.accounts.models import Role
from interpersonal.web.audit import log

MFA_ROLES = frozenset(Role)  # every role: a new role is covered unless someone decides otherwise here
ISSUER = "interpersonal"


def requires_mfa(user: Any) -> bool:
    """Whether ``user`` must pass a second factor this session (False when the setting relaxes it)."""
    if not settings.INTERPERSONAL_REQUIRE_MFA or not user.is_authenticated:
        return False
    return user.is_superuser or getattr(user, "role", "") in MFA_ROLES


def device_count(user: Any) -> int:
    """How many authenticator devices ``user`` has (confirmed or half set up)."""
    return TOTPDevice.objects.devices_for_user(user, confirmed=None).count()


def has_confirmed_device(user: Any) -> bool:
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).exists()


def pending_device(user: Any) -> TOTPDevice:
    """The user's unconfirmed TOTP device, created on first call; setup shows its secret."""
    device = TOTPDevice.objects.devices_for_user(user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


def confirm_device(device: TOTPDevice, code: str, *, by: Any) -> bool:
    """Enrol ``device`` if ``code`` is right: mark it confirmed and audit ``mfa.enrolled``; a wrong
    code is audited as ``mfa.failed``. The events name the user and the device, never the code."""
    with transaction.atomic():
        if not device.verify_token(code):
            log.record("mfa.failed", actor=by, target=device.user, device=device.pk, stage="setup")
            return False
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        log.record("mfa.enrolled", actor=by, target=device.user, device=device.pk)
    return True


def verify(user: Any, code: str) -> TOTPDevice | None:
    """The user's confirmed device that accepts ``code`` (audited ``mfa.verified``), or None
    (audited ``mfa.failed``)."""
    with transaction.atomic():
        device = match_token(user, code)
        if device is None:
            log.record("mfa.failed", actor=user, target=user, stage="verify")
            return None
        log.record("mfa.verified", actor=user, target=user, device=device.pk)
    return device


def qr_svg(uri: str) -> str:
    """The otpauth URI as an inline SVG QR code (no image library, no inline style)."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    return image.to_string(encoding="unicode")


def secret_for_display(device: TOTPDevice) -> str:
    """The base32 secret in groups of four, for typing into an app by hand."""
    secret = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))



class CodeForm(forms.Form):
    """A six-digit code from the user's authenticator app."""

    code = forms.CharField(
        label="Six-digit code from your authenticator app", min_length=6, max_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                      "pattern": "[0-9]{6}", "autofocus": True}),
    )
