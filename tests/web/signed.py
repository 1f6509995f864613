"""Altering a value signed by django.core.signing, for tests that a tampered link is refused."""

from __future__ import annotations


def altered(signed: str) -> str:
    """``signed`` with the first character of its signature changed.

    The signature is base64 of 32 bytes: its last character carries two padding bits, so changing
    that one to a neighbour (A→B, say) can decode to the very same signature. The first carries six
    bits that all count."""
    value, signature = signed.rsplit(":", 1)
    return f"{value}:{'B' if signature[0] != 'B' else 'C'}{signature[1:]}"
