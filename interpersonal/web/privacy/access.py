"""How a records officer reaches one patient's record: only through an audited search.

Local IDs and database ids are sequential, so a record page addressed by id alone could be
browsed (``/records/patients/1/``, ``/2/`` …) without any search — a list in all but name. The
records pages are addressed instead by a *record link*: a reference signed with the service's
secret (``django.core.signing``) that names the patient and the officer it was made for, and
lasts :data:`RECORD_LINK_MAX_AGE`. Only an audited look-up makes one: the search
(``records.searched``) and the retention list (``retention.listed``). A bare id, a guessed or
altered reference, an expired one or one made for another officer are all the same 404 as a
record that does not exist.
"""

from __future__ import annotations

from typing import Any

from django.core import signing
from django.db.models import QuerySet
from django.http import Http404

from interpersonal.web.patients.models import Patient

# A link lasts an hour from the search that made it: long enough to read the record, make a copy
# and confirm an erasure; after that, the officer searches again (and the search is audited again).
RECORD_LINK_MAX_AGE = 60 * 60
# Longer than any link signing.dumps makes here (about 60 characters); anything longer is not one.
RECORD_LINK_MAX_LENGTH = 200
_SALT = "interpersonal.web.privacy.record-link"


class RecordLinkGone(Http404):
    """The link is not (or no longer) a way to this officer's record; the same answer as no record."""


def record_link(officer: Any, patient_pk: int) -> str:
    """A reference to ``patient_pk``'s record for ``officer``, to put in a records URL."""
    return signing.dumps([int(patient_pk), int(officer.pk)], salt=_SALT)


def get_record_for_officer(officer: Any, link: str, queryset: QuerySet[Patient] | None = None) -> Patient:
    """The patient ``link`` names, if it was made for ``officer`` within the last hour; else 404.

    The caller has already checked the officer's role (Permission.HANDLE_RECORDS_REQUESTS)."""
    if not isinstance(link, str) or len(link) > RECORD_LINK_MAX_LENGTH:
        raise RecordLinkGone
    try:
        value = signing.loads(link, salt=_SALT, max_age=RECORD_LINK_MAX_AGE)
    except signing.BadSignature:  # SignatureExpired is one
        raise RecordLinkGone from None
    if not (isinstance(value, list) and len(value) == 2 and all(type(v) is int for v in value)):
        raise RecordLinkGone
    patient_pk, officer_pk = value
    if officer_pk != officer.pk:
        raise RecordLinkGone
    record = (queryset if queryset is not None else Patient.objects.all()).filter(pk=patient_pk).first()
    if record is None:
        raise RecordLinkGone
    return record
