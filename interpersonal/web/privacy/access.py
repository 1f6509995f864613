"""How a records officer reaches one patient's record: only through an audited search.

Local IDs and database ids are sequential, so a record page addressed by id alone could be
browsed (``/records/patients/1/``, ``/2/`` …) without any search — a list in all but name. The
records pages are addressed instead by a *record link*: a reference signed with the service's
secret (``django.core.signing``) that names the patient and the officer it was made for, and
lasts :data:`RECORD_LINK_MAX_AGE`. Only an audited look-up makes one: the search
(``records.searched``) and the retention list (``retention.listed``). A bare id, a guessed or
altered reference, an expired one or one made for another officer are all the same 404 as a
record that does not exist — and each refusal is audited (``records.link_refused``) with a reason
code, never the link itself, so walking ids or replaying a colleague's link leaves a trace.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.core import signing
from django.db.models import QuerySet
from django.http import Http404

from interpersonal.web.audit import log
from interpersonal.web.patients.models import Patient

# A link lasts an hour from the search that made it: long enough to read the record, make a copy
# and confirm an erasure; after that, the officer searches again (and the search is audited again).
RECORD_LINK_MAX_AGE = 60 * 60
# Longer than any link signing.dumps makes here (about 60 characters); anything longer is not one.
RECORD_LINK_MAX_LENGTH = 200
_SALT = "interpersonal.web.privacy.record-link"

LINK_REFUSED_EVENT = "records.link_refused"


class Refusal(StrEnum):
    """Why a records link was refused: the ``reason`` of a ``records.link_refused`` event."""

    BARE_ID = "bare_id"  # digits only: a record's id typed or walked in the address
    NOT_A_LINK = "not_a_link"  # too long, or not the shape of a link
    BAD_SIGNATURE = "bad_signature"  # altered, guessed, or signed with another key
    EXPIRED = "expired"  # made more than RECORD_LINK_MAX_AGE ago
    OTHER_OFFICER = "other_officer"  # made for another records officer
    NO_RECORD = "no_record"  # the record no longer exists (erased)


class RecordLinkGone(Http404):
    """The link is not (or no longer) a way to this officer's record; the same answer as no record."""

    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


def _refuse(officer: Any, reason: Refusal, *, patient_pk: int | None = None, made_for: int | None = None) -> RecordLinkGone:
    """Audit the refusal — the reason, and for a genuine link whose record and officer it names;
    never the link's text — and return the 404 to raise."""
    ids = {"made_for": made_for} if made_for is not None else {}
    log.record(LINK_REFUSED_EVENT, actor=officer, target=("user", officer.pk), patient_id=patient_pk,
               reason=reason.value, **ids)
    return RecordLinkGone(reason)


def record_link(officer: Any, patient_pk: int) -> str:
    """A reference to ``patient_pk``'s record for ``officer``, to put in a records URL."""
    return signing.dumps([int(patient_pk), int(officer.pk)], salt=_SALT)


def get_record_for_officer(officer: Any, link: str, queryset: QuerySet[Patient] | None = None) -> Patient:
    """The patient ``link`` names, if it was made for ``officer`` within the last hour; else 404.

    The caller has already checked the officer's role (Permission.HANDLE_RECORDS_REQUESTS). Every
    refusal is audited (:data:`LINK_REFUSED_EVENT`, with a :class:`Refusal` reason)."""
    if not isinstance(link, str) or len(link) > RECORD_LINK_MAX_LENGTH:
        raise _refuse(officer, Refusal.NOT_A_LINK)
    if link.isascii() and link.isdigit():
        raise _refuse(officer, Refusal.BARE_ID)
    try:
        value = signing.loads(link, salt=_SALT, max_age=RECORD_LINK_MAX_AGE)
    except signing.SignatureExpired:
        raise _refuse(officer, Refusal.EXPIRED) from None
    except signing.BadSignature:
        raise _refuse(officer, Refusal.BAD_SIGNATURE) from None
    if not (isinstance(value, list) and len(value) == 2 and all(type(v) is int for v in value)):
        raise _refuse(officer, Refusal.NOT_A_LINK)
    patient_pk, officer_pk = value
    if officer_pk != officer.pk:
        raise _refuse(officer, Refusal.OTHER_OFFICER, patient_pk=patient_pk, made_for=officer_pk)
    record = (queryset if queryset is not None else Patient.objects.all()).filter(pk=patient_pk).first()
    if record is None:
        raise _refuse(officer, Refusal.NO_RECORD, patient_pk=patient_pk)
    return record
