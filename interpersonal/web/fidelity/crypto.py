"""Encryption of recordings at rest: AES-256-GCM with a data key per recording, wrapped by a
master key that lives outside the database (NIST SP 800-38D, GCM; the ``cryptography`` package's
``AESGCM``).

* The master key is 32 random bytes, base64 or hex, read from the file named in
  ``INTERPERSONAL_RECORDINGS_KEY_FILE`` or from ``INTERPERSONAL_RECORDINGS_KEY``. Without it no
  upload starts and nothing plays (:class:`MasterKeyMissing`, a clear message); it is never logged,
  never stored in the database, never sent to the browser.
* Each recording has its own random 256-bit data key; the database keeps it wrapped (encrypted
  with AES-256-GCM under the master key, bound to the recording's storage prefix) and the
  fingerprint of the master key that wrapped it (``key_id``, an HMAC: it identifies, never reveals).
* Each chunk is stored as ``nonce (12 bytes) || ciphertext || tag (16 bytes)``, with a fresh random
  nonce and the recording's prefix and the chunk's index as associated data, so a chunk moved to
  another place or another recording fails to decrypt (:class:`CannotDecrypt`).

Random 96-bit nonces: NIST SP 800-38D §8.3 bounds a key to 2^32 invocations with random IVs; a
recording of a few thousand chunks is far below it, and each recording has its own key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

NONCE_BYTES = 12
TAG_BYTES = 16
OVERHEAD = NONCE_BYTES + TAG_BYTES
KEY_BYTES = 32
KEY_HINT = ("set INTERPERSONAL_RECORDINGS_KEY_FILE to a file holding 32 random bytes in base64, made with e.g. "
            "`openssl rand -base64 32 > /etc/interpersonal/recordings.key` (readable by the service only), "
            "or INTERPERSONAL_RECORDINGS_KEY to such a value")


class RecordingCryptoError(Exception):
    """Base of the errors below; ``str()`` is safe to show to staff (no key material)."""


class MasterKeyMissing(RecordingCryptoError):
    def __init__(self, problem: str = "the recordings master key is not configured") -> None:
        super().__init__(f"Recordings are switched off: {problem}. The system administrator must {KEY_HINT}.")


class CannotDecrypt(RecordingCryptoError):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what} cannot be decrypted: the master key is not the one it was stored with, "
                         "or the stored data were changed.")


def _decode(raw: str) -> bytes:
    text = raw.strip()
    if len(text) == 2 * KEY_BYTES:
        try:
            return bytes.fromhex(text)
        except ValueError:
            pass
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        try:
            return base64.urlsafe_b64decode(text)
        except (binascii.Error, ValueError):
            return b""


def master_key() -> bytes:
    """The 32-byte master key from the key file or the environment; :class:`MasterKeyMissing` otherwise."""
    path = str(getattr(settings, "INTERPERSONAL_RECORDINGS_KEY_FILE", "") or "")
    raw = str(getattr(settings, "INTERPERSONAL_RECORDINGS_KEY", "") or "")
    if path:
        try:
            raw = Path(path).read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError):
            raise MasterKeyMissing("the key file named in INTERPERSONAL_RECORDINGS_KEY_FILE cannot be read") from None
    if not raw.strip():
        raise MasterKeyMissing()
    key = _decode(raw)
    if len(key) != KEY_BYTES:
        raise MasterKeyMissing(f"the master key must be {KEY_BYTES} bytes in base64 or hex")
    return key


def is_configured() -> bool:
    try:
        master_key()
    except MasterKeyMissing:
        return False
    return True


def key_id(master: bytes) -> str:
    """A fingerprint of the master key: names which key wrapped a data key without revealing it."""
    return hmac.new(master, b"interpersonal recordings master key id", hashlib.sha256).hexdigest()[:16]


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def _aad(prefix: str, what: str) -> bytes:
    return f"interpersonal-recording:{prefix}:{what}".encode()


def wrap(master: bytes, data_key: bytes, prefix: str) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(master).encrypt(nonce, data_key, _aad(prefix, "key"))


def unwrap(master: bytes, wrapped: bytes, prefix: str) -> bytes:
    try:
        return AESGCM(master).decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _aad(prefix, "key"))
    except (InvalidTag, ValueError):
        raise CannotDecrypt("The recording's key") from None


def encrypt_chunk(data_key: bytes, prefix: str, index: int, plaintext: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(data_key).encrypt(nonce, plaintext, _aad(prefix, f"chunk:{index}"))


def decrypt_chunk(data_key: bytes, prefix: str, index: int, blob: bytes) -> bytes:
    try:
        return AESGCM(data_key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], _aad(prefix, f"chunk:{index}"))
    except (InvalidTag, ValueError):
        raise CannotDecrypt(f"Chunk {index} of the recording") from None
