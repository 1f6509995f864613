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
from django_otp.plugins.otp_totp.models import TOTPDevice

from interpersonal.web.accounts.models import Role

MFA_ROLES = frozenset(Role)  # every role: a new role is covered unless someone decides otherwise here
ISSUER = "interpersonal"


def requires_mfa(user: Any) -> bool:
    """Whether ``user`` must pass a second factor this session (False when the setting relaxes it)."""
    if not settings.INTERPERSONAL_REQUIRE_MFA or not user.is_authenticated:
        return False
    return user.is_superuser or getattr(user, "role", "") in MFA_ROLES


def has_confirmed_device(user: Any) -> bool:
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).exists()


def pending_device(user: Any) -> TOTPDevice:
    """The user's unconfirmed TOTP device, created on first call; setup shows its secret."""
    device = TOTPDevice.objects.devices_for_user(user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
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
