"""Subject access: everything held about one patient, as JSON and as a PDF (issue 7; UK GDPR
Article 15; docs/privacy.md).

:data:`SOURCES` names every project model that holds rows about a patient and the lookup from it
to the patient; a test fails when a project model with a foreign-key path to ``Patient`` is missing
here, so a new table cannot be left out of a copy. Every concrete field of every row is included,
except those in :data:`WITHHELD` (with the reason printed in the copy). Staff are named — the
people who made and read the record are part of it — and the audit trail of the patient (who
viewed or changed what, when) is included as the access log: the events about the patient, and
the lists that showed the patient among others (:data:`LISTING_EVENTS`: a patient list, a
caseload, the records past retention), which name the patient only inside their data.

:func:`collect` reads (and only reads); the caller renders the copy and then audits it as
``patient.subject_access`` (:func:`record_copy`), so no event claims a copy that failed to render.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.template.loader import render_to_string
from django.utils import timezone

from interpersonal.core import demographics, measures, protocols
from interpersonal.core.identifiers import InvalidNHSNumber, format_nhs_number
from interpersonal.web.audit import log
from interpersonal.web.audit.models import AuditEvent
from interpersonal.web.patients.models import Patient
from interpersonal.web.privacy import retention

FORMAT_VERSION = 1


@dataclass(frozen=True)
class Source:
    label: str  # "app_label.Model"
    patient_path: str  # the lookup from this model to the patient's id
    title: str  # the section's heading in the PDF
    entry: str  # what one row is called in the PDF ("Session 233")

    @property
    def model(self) -> type[models.Model]:
        return apps.get_model(self.label)


SOURCES: tuple[Source, ...] = (
    Source("patients.Patient", "id", "Your details", "Patient"),
    Source("referrals.Referral", "patient_id", "Referrals to the service", "Referral"),
    Source("referrals.ScreeningDecision", "referral__patient_id", "Decisions about whether the service suits you",
           "Suitability decision"),
    Source("referrals.Triage", "referral__patient_id", "The treatment you were offered (triage)", "Triage"),
    Source("referrals.SelfReferral", "referral__patient_id", "What you sent with the self-referral form",
           "Self-referral"),
    Source("courses.Course", "patient_id", "Courses of therapy", "Course"),
    Source("courses.TherapySession", "referral__patient_id", "Sessions", "Session"),
    Source("courses.SessionCorrection", "session__referral__patient_id", "Corrections of sessions, with the "
           "earlier values", "Session correction"),
    Source("courses.TaskCompletion", "course__patient_id", "Treatment tasks completed", "Task"),
    Source("courses.FollowUp", "course__patient_id", "Follow-ups after missed appointments", "Follow-up"),
    Source("courses.Contact", "course__patient_id", "Contacts outside sessions (calls, letters, messages, liaison)",
           "Contact"),
    Source("courses.ContactCorrection", "contact__course__patient_id", "Corrections of contacts outside sessions, "
           "with the earlier values", "Contact correction"),
    Source("assessments.Measurement", "referral__patient_id", "Questionnaires and ratings", "Measure"),
    Source("assessments.MeasurementCorrection", "measurement__referral__patient_id", "Corrections of "
           "questionnaires and ratings, with the earlier answers", "Measure correction"),
    Source("assessments.RiskAlert", "referral__patient_id", "Risk alerts and what was done", "Risk alert"),
    Source("assessments.RiskAssessment", "referral__patient_id", "Risk assessments and safety plans",
           "Risk assessment"),
    Source("questionnaires.QuestionnaireLink", "patient_id", "Questionnaire links sent to you", "Questionnaire link"),
    Source("formulation.IpafRevision", "course__patient_id", "Interpersonal affective focus (DIT)", "Focus version"),
    Source("formulation.InventoryPerson", "course__patient_id", "Interpersonal inventory (IPT)", "Person"),
    Source("formulation.TimelineEvent", "course__patient_id", "Timeline (IPT)", "Event"),
    Source("formulation.IptFormulation", "course__patient_id", "Formulation and contract (IPT)", "Formulation"),
    Source("formulation.FocalArea", "formulation__course__patient_id", "Focal areas (IPT)", "Focal area"),
    Source("letters.Letter", "course__patient_id", "Letters", "Letter"),
    Source("letters.LetterRevision", "letter__course__patient_id", "Earlier drafts of letters", "Letter draft"),
    Source("fidelity.RecordingConsent", "course__patient_id", "Your consent to sessions being recorded, and its "
           "withdrawal", "Consent to recording"),
    Source("fidelity.Recording", "course__patient_id", "Recordings of your sessions (what was kept about each; the "
           "recordings themselves are available on request)", "Recording"),
    Source("fidelity.RatingAssignment", "recording__course__patient_id", "Ratings of how closely the therapy "
           "followed its method, made from the recordings", "Rating"),
    Source("fidelity.RatingCorrection", "assignment__recording__course__patient_id", "Corrections of those ratings, "
           "with the earlier values", "Rating correction"),
    Source("documents.Document", "patient_id", "Copies of letters and of your record made as files", "File"),
    Source("supervision.DiscussedCase", "course__patient_id", "Your case in your therapist's clinical supervision",
           "Supervision discussion"),
    Source("service.OptInInvitation", "referral__patient_id", "Invitations to opt in to the service", "Invitation"),
    Source("outcomes.ReferralSummary", "referral__patient_id", "Outcome summaries of your referrals (worked out "
           "from the sessions and questionnaires above)", "Summary of referral"),
)

WITHHELD: dict[str, str] = {
    "fidelity.Recording.wrapped_key": "the encrypted key of the recording: security material, not information about you",
    "fidelity.Recording.key_id": "which service key protects the recording: security material, not information about you",
    "fidelity.Recording.storage_prefix": "where the encrypted recording is stored: a technical name, not information "
                                         "about you",
    "questionnaires.QuestionnaireLink.token_hash": (
        "the digest of each link's secret: a security credential, not information about you"
    ),
    "referrals.SelfReferral.duplicate_of": (
        "the number of another record checked as possibly yours: information about someone else until staff decide"
    ),
}
"""Fields left out of the copy, with the reason printed in it."""

TECHNICAL_FIELDS = frozenset({"version", "position"})
"""Shown in the JSON copy, left out of the PDF: edit counters and display order, not information."""

ABOUT = (
    "This is a copy of everything this service's record system holds about you, made in answer to "
    "a subject access request (UK GDPR Article 15). It includes your details, each course of "
    "therapy, every session, every questionnaire and rating with your answers as numbers, risk "
    "alerts and what was done about them, the formulation you and your therapist worked on, every "
    "letter and its earlier drafts, and a log of who viewed or changed your record and when."
)


def _user_ids(rows: list[tuple[type[models.Model], dict[str, Any]]]) -> set[int]:
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    ids: set[int] = set()
    for model, row in rows:
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is user_model and row.get(field.attname) is not None:
                ids.add(row[field.attname])
    return ids


def _staff(ids: set[int]) -> dict[int, dict[str, Any]]:
    """Staff by id, named by their name and role — never their username, which is half of how
    they sign in: without a name, the role stands in ("Therapist (no name recorded)")."""
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    found = user_model._default_manager.filter(pk__in=ids).values("id", "first_name", "last_name", "role")
    return {
        u["id"]: {"id": u["id"], "name": f"{u['first_name']} {u['last_name']}".strip() or _unnamed(u["role"]),
                  "role": u["role"]}
        for u in found
    }


def _actor(event: dict[str, Any], staff: dict[int, dict[str, Any]]) -> str:
    """Who did it: a member of staff by name, else what the event knows without a username."""
    if event["actor_id"] is None:  # no account: the patient's own link, or the service itself
        if event["type"].startswith("questionnaire_link.") and not event["actor_role"]:
            return "you, by the questionnaire link"
        return "the service (automatic)"
    if event["actor_id"] in staff:
        return staff[event["actor_id"]]["name"]
    return f"{_unnamed(event['actor_role']).split(' (')[0]} (account removed)"


def _unnamed(role: str) -> str:
    from interpersonal.web.accounts.models import Role

    label = Role(role).label if role in Role.values else "Member of staff"
    return f"{label} (no name recorded)"


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).isoformat() if timezone.is_aware(value) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _key(model: type[models.Model], field_name: str) -> str:
    return f"{model._meta.label}.{field_name}"


def collect(patient: Patient) -> dict[str, Any]:
    """Everything held about ``patient`` as plain JSON-ready data (reads only; a fixed number of
    queries: one per source, one for staff names, one for the access log).

    On PostgreSQL the queries share one read-only REPEATABLE READ snapshot, so a questionnaire
    submitted mid-copy appears with its risk alert or not at all. SQLite reads outside a
    transaction: ours take the write lock at BEGIN (IMMEDIATE), which would stall every save."""
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with transaction.atomic():
            with connection.cursor() as cursor:  # must be the transaction's first statement
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            return _collect(patient)
    return _collect(patient)


# Audit events of pages that list several patients at once: the ids shown are in the event's
# data (``data[key]``), its patient_id is empty. key: "patient_ids" or "course_ids".
LISTING_EVENTS: dict[str, str] = {
    "patients.listed": "patient_ids",
    retention.LISTED_EVENT: "patient_ids",
    "caseload.viewed": "course_ids",
    "screening_alerts.listed": "patient_ids",
    "waiting_list.viewed": "patient_ids",
    "ratings.awaiting_listed": "course_ids",
}


def _listing(patient_id: int, course_ids: list[int]) -> Q:
    """Listing events that showed the patient (or one of their courses), as a filter for the
    access log's one query. PostgreSQL tests jsonb containment; SQLite, which has no containment
    lookup, looks through the list with json_each. Only events of the listing types are read
    (the type column is indexed)."""
    wanted = {"patient_ids": [patient_id], "course_ids": course_ids}
    found = Q(pk__in=[])
    for key, values in wanted.items():
        types = [t for t, k in LISTING_EVENTS.items() if k == key]
        if not values or not types:
            continue
        if connection.vendor == "postgresql":
            for value in values:
                found |= Q(type__in=types, **{f"data__{key}__contains": [value]})
        else:
            marks = ", ".join(["%s"] * len(types)), ", ".join(["%s"] * len(values))
            found |= Q(pk__in=RawSQL(  # noqa: S611 - table and key are constants; the values are parameters
                f"SELECT e.id FROM {AuditEvent._meta.db_table} e, json_each(e.data, '$.{key}') j "  # noqa: S608
                f"WHERE e.type IN ({marks[0]}) AND j.value IN ({marks[1]})", [*types, *values]))
    return found


def _collect(patient: Patient) -> dict[str, Any]:
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    fetched: list[tuple[Source, list[dict[str, Any]]]] = []
    for source in SOURCES:
        model = source.model
        names = [f.attname for f in model._meta.concrete_fields if _key(model, f.name) not in WITHHELD]
        # The base manager: rows deleted as entered in error are held too, and are the patient's to see.
        rows = list(model._base_manager.filter(**{source.patient_path: patient.pk}).order_by("pk").values(*names))
        fetched.append((source, rows))
    course_ids = [row["id"] for source, rows in fetched if source.model._meta.label == "courses.Course" for row in rows]
    events = list(
        AuditEvent.objects.filter(Q(patient_id=patient.pk) | _listing(patient.pk, course_ids)).order_by("id")
        .values("id", "at", "type", "actor_id", "actor_username", "actor_role", "target_type", "target_id")
    )
    staff = _staff(_user_ids([(s.model, r) for s, rows in fetched for r in rows])
                   | {e["actor_id"] for e in events if e["actor_id"] is not None})

    records: dict[str, list[dict[str, Any]]] = {}
    for source, rows in fetched:
        model = source.model
        out = []
        for row in rows:
            record: dict[str, Any] = {}
            for field in model._meta.concrete_fields:
                if field.attname not in row:
                    continue
                value = row[field.attname]
                if field.is_relation and field.related_model is user_model:
                    record[field.name] = None if value is None else staff.get(value, {"id": value, "name": "(account removed)"})
                else:
                    record[field.attname if field.is_relation else field.name] = _plain(value)
            out.append(record)
        records[source.label] = out

    access_log = [
        {"at": _plain(e["at"]), "event": e["type"],
         "by": _actor(e, staff),
         "role": e["actor_role"], "target": f"{e['target_type']} {e['target_id']}"}
        for e in events
    ]
    return {
        "format": "interpersonal subject access copy",
        "format_version": FORMAT_VERSION,
        "generated_at": _plain(timezone.now()),
        "service": settings.INTERPERSONAL_LETTERHEAD_NAME,
        "patient_id": patient.pk,
        "about": ABOUT,
        "withheld": [{"field": k, "reason": v} for k, v in WITHHELD.items()],
        "records": records,
        "access_log": access_log,
    }


def to_json(copy: dict[str, Any]) -> bytes:
    return json.dumps(copy, indent=2, ensure_ascii=False, sort_keys=False).encode("utf-8")


# --- the PDF ----------------------------------------------------------------------------------

def _display(model: type[models.Model], field: models.Field, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, dict) and "name" in value and "id" in value and field.is_relation:
        role = f" ({value['role'].replace('_', ' ')})" if value.get("role") else ""
        return f"{value['name']}{role}"
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(field, models.DateTimeField):
        return dt.datetime.fromisoformat(value).strftime("%-d %b %Y %H:%M")
    if isinstance(field, models.DateField):
        return dt.date.fromisoformat(value).strftime("%-d %b %Y")
    if field.name == "answers" and isinstance(value, dict):
        return " · ".join(f"item {item}: {answer}" for item, answer in value.items()) or "—"
    if field.name == "disabilities" and isinstance(value, list):  # DISABILITY CODEs (core.demographics)
        return "; ".join(f"{demographics.DISABILITY.label(c)} ({c})" if c in demographics.DISABILITY else str(c)
                         for c in value) or "—"
    if isinstance(value, dict | list):
        return _json_display(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    if field.name == "instrument":
        return _instrument_name(value)
    if field.name == "protocol":
        try:
            return protocols.get(value).name
        except protocols.UnknownProtocol:
            return str(value)
    if field.name == "nhs_number":
        try:
            return format_nhs_number(value)
        except InvalidNHSNumber:
            return str(value)
    return str(value)


def _instrument_name(instrument_id: str) -> str:
    try:
        return f"{measures.get(instrument_id).name} ({measures.get(instrument_id).abbreviation})"
    except measures.UnknownInstrument:
        return str(instrument_id)


def _heading(model: type[models.Model], entry: str, record: dict[str, Any]) -> str:
    """"Therapy session 233, 12 Aug 2026": what the entry is, its reference number, and a hint."""
    text = f"{entry} {record.get('id')}"
    hint = record.get("instrument") and _instrument_name(record["instrument"]).rsplit("(", 1)[-1].rstrip(")")
    if model._meta.label == "courses.Course":
        hint = _display(model, model._meta.get_field("protocol"), record.get("protocol"))
    when = None if model._meta.label == "patients.Patient" else next(
        (record[k] for k in ("scheduled_at", "recorded_at", "raised_at", "occurred_on", "started_on", "created_at",
                             "saved_at") if record.get(k)), None)
    parts = [p for p in (hint, when and dt.date.fromisoformat(str(when)[:10]).strftime("%-d %b %Y")) if p]
    return f"{text}: {', '.join(parts)}" if parts else text


def _json_display(value: dict[str, Any] | list[Any]) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    if not value:
        return "—"
    return "; ".join(f"{k}: {_json_display(v) if isinstance(v, dict | list) else v}" for k, v in value.items())


def _label(field: models.Field) -> str:
    name = str(getattr(field, "verbose_name", field.name))
    if field.is_relation and name.endswith(" id"):
        name = name[:-3]
    return name[:1].upper() + name[1:]


def pdf_sections(copy: dict[str, Any]) -> list[dict[str, Any]]:
    """The records as headed lists of (label, text) pairs, technical fields left out."""
    sections = []
    for source in SOURCES:
        model = source.model
        fields = [f for f in model._meta.concrete_fields
                  if _key(model, f.name) not in WITHHELD and f.name not in TECHNICAL_FIELDS]
        entries = []
        for record in copy["records"].get(source.label, []):
            pairs = []
            for field in fields:
                name = field.attname if field.is_relation and field.related_model is not apps.get_model(settings.AUTH_USER_MODEL) else field.name
                value = record.get(name)
                if field.primary_key:
                    continue
                pairs.append((_label(field), _display(model, field, value)))
            entries.append({"heading": _heading(model, source.entry, record), "pairs": pairs})
        sections.append({"title": source.title, "label": source.label, "entries": entries})
    return sections


def copy_html(patient: Patient, copy: dict[str, Any], *, reference: str = "") -> str:
    from interpersonal.web.letters.pdf import format_nhs_number, letterhead

    return render_to_string("privacy/subject_access_pdf.html", {
        "copy": copy, "patient": patient, "reference": reference, "letterhead": letterhead(),
        "nhs_number": format_nhs_number(patient.nhs_number), "sections": pdf_sections(copy),
        "generated": timezone.localtime(dt.datetime.fromisoformat(copy["generated_at"])),
        "access_log": [{**e, "when": dt.datetime.fromisoformat(e["at"]).strftime("%-d %b %Y %H:%M"),
                        "what": e["event"].replace(".", " ").replace("_", " ")} for e in copy["access_log"]],
    })


PRINT_CSS = Path(__file__).parent / "static" / "privacy" / "subject_access.css"


def to_pdf(patient: Patient, copy: dict[str, Any], *, reference: str = "") -> bytes:
    import weasyprint

    from interpersonal.web.letters.pdf import PRINT_CSS as LETTER_CSS

    html = weasyprint.HTML(string=copy_html(patient, copy, reference=reference), base_url=str(Path(__file__).parent))
    return html.write_pdf(stylesheets=[weasyprint.CSS(filename=str(LETTER_CSS)), weasyprint.CSS(filename=str(PRINT_CSS))])


def filename(patient: Patient, fmt: str, on: dt.date | None = None) -> str:
    """Names the record number and the day, never the patient."""
    on = on or timezone.localdate()
    return f"subject-access-patient-{patient.pk}-{on:%Y-%m-%d}.{fmt}"


def record_copy(patient: Patient, *, by: Any, fmt: str, reference: str = "", via: str = "web") -> AuditEvent:
    """Audit one copy (``patient.subject_access``)."""
    return log.record("patient.subject_access", actor=by, target=patient, patient_id=patient.pk,
                      format=fmt, reference=reference, via=via)
