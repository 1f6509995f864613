"""Erasing one patient's record (issue 7; docs/privacy.md "Erasure and retention").

Health records are kept, not erased. Erasure is for a record entered in error (or a duplicate),
a record past its retention period (:mod:`interpersonal.web.privacy.retention`), and an erasure
request the information-governance team has upheld. A records officer
(``Permission.HANDLE_RECORDS_REQUESTS``) erases; nobody else can.

:func:`erase_patient` deletes every row of the patient in every model with a path of foreign keys
to ``patients.Patient`` — the plan is worked out from the model graph (:func:`plan`), so a new
model is covered without a change here — plus the background-task results that name the
patient's sessions. It leaves every audit event untouched: events hold identifiers and codes
only (docs/adr/0004-audit-events.md), so the trail still says what was done to the record, the
hash chain still verifies, and one ``patient.erased`` event closes it with the reason, the
reference of the case and the number of rows deleted per model. Each erasure is also written to
the erasure register outside the database (:mod:`interpersonal.web.privacy.register`), from which
:func:`reapply` erases the record again after a backup taken before the erasure is restored.

Exceptions: ``PermissionDenied`` (not a records officer), ``ValueError`` (a bad reason or
reference), :class:`ErasureRefused` (the record cannot be erased now; the message says why).
"""

from __future__ import annotations

import datetime as dt
import functools
import graphlib
import operator
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, models, transaction
from django.db.models import ProtectedError, Q
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from interpersonal.web.accounts.roles import Permission, has_permission
from interpersonal.web.audit import log
from interpersonal.web.audit.models import AuditEvent
from interpersonal.web.patients.models import Patient
from interpersonal.web.privacy import reference as case_reference
from interpersonal.web.privacy import register, retention

REFERENCE_MAX_LENGTH = case_reference.MAX_LENGTH


class Reason(models.TextChoices):
    ENTERED_IN_ERROR = "entered_in_error", "Entered in error or duplicate"
    RETENTION_EXPIRED = "retention_expired", "Past its retention period"
    ERASURE_REQUEST = "erasure_request", "Erasure request upheld by information governance"


class ErasureRefused(Exception):
    """The record cannot be erased now; ``str()`` says why, for a records officer."""

    def __init__(self, message: str, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems or (message,)


@dataclass(frozen=True)
class ErasureResult:
    patient_id: int
    reason: str
    counts: dict[str, int] = field(default_factory=dict)  # rows deleted per "app_label.Model"

    @property
    def total(self) -> int:
        return sum(self.counts.values())


# --- The plan: which models hold a patient's rows, and in which order to delete them ---------


@dataclass(frozen=True)
class Step:
    model: type[models.Model]
    relations: tuple[str, ...]  # foreign keys to other models holding the patient's rows
    self_references: tuple[str, ...]  # nullable foreign keys to the same model, cleared before deleting

    @property
    def label(self) -> str:
        return self.model._meta.label


def _relations(model: type[models.Model]) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if f.is_relation and (f.many_to_one or f.one_to_one)]


@functools.cache
def plan() -> tuple[Step, ...]:
    """The models with a path of foreign keys to Patient, dependents first: a model is deleted
    before every model it points to, so no PROTECT foreign key is left dangling."""
    holding: set[type[models.Model]] = {Patient}
    changed = True
    while changed:  # a fixpoint over the forward relations of every installed model
        changed = False
        for model in apps.get_models():
            if model not in holding and any(r.related_model in holding and r.related_model is not model
                                            for r in _relations(model)):
                holding.add(model)
                changed = True
    sorter: graphlib.TopologicalSorter[type[models.Model]] = graphlib.TopologicalSorter()
    for model in holding:
        sorter.add(model)
        for relation in _relations(model):
            if relation.related_model in holding and relation.related_model is not model:
                sorter.add(relation.related_model, model)  # the target comes after the model pointing to it
    steps = []
    for model in sorter.static_order():
        own = tuple(f.name for f in _relations(model) if f.related_model is model)
        for name in own:
            if not model._meta.get_field(name).null:
                raise TypeError(f"{model._meta.label}.{name} points to its own model and is not nullable: "
                                "erasure cannot order such rows; make it nullable or teach erasure.plan()")
        others = tuple(f.name for f in _relations(model) if f.related_model in holding and f.related_model is not model)
        steps.append(Step(model, others, own))
    return tuple(steps)


def _ids(patient_id: int) -> dict[str, list[Any]]:
    """The primary keys of the patient's rows per model: every row with a foreign key to a row
    already found (a row left behind would point at a deleted row, which PROTECT forbids).
    Targets are resolved before the models pointing to them; one indexed query per foreign key."""
    found: dict[type[models.Model], set[Any]] = {}
    for step in reversed(plan()):
        manager = step.model._base_manager
        if step.model is Patient:
            ids = set(manager.filter(pk=patient_id).values_list("pk", flat=True))
        else:
            ids = set()
            for name in step.relations:
                target = step.model._meta.get_field(name).related_model
                if found[target]:
                    ids |= set(manager.filter(**{f"{name}__in": found[target]}).values_list("pk", flat=True))
        new = ids
        while new and step.self_references:  # rows pointing at the patient's rows of the same model
            match = functools.reduce(operator.or_, (Q(**{f"{n}__in": new}) for n in step.self_references))
            new = set(manager.filter(match).exclude(pk__in=ids).values_list("pk", flat=True))
            ids |= new
        found[step.model] = ids
    return {model._meta.label: sorted(ids) for model, ids in found.items()}


def _entangled(ids: Mapping[str, list[Any]]) -> list[str]:
    """Rows found for the patient that also point at a row outside the patient's record (for
    example another patient's course stepped from one of theirs). The actions never link two
    patients' records; if a row does, erasing would cut into the other record, so it is refused."""
    found = []
    for step in plan():
        rows = step.model._base_manager.filter(pk__in=ids[step.label])
        for name in (*step.relations, *step.self_references):
            target = step.model._meta.get_field(name).related_model._meta.label
            outside = rows.exclude(**{f"{name}__isnull": True}).exclude(**{f"{name}__in": ids[target]})
            found += [f"{step.label} {pk}" for pk in outside.values_list("pk", flat=True)]
    return list(dict.fromkeys(found))  # a row pointing out by two keys (patient and referral) is named once


# Background tasks whose arguments name a patient's row: (task path, argument name, model of the id).
TASKS_BY_ID: tuple[tuple[str, str, str], ...] = (
    ("interpersonal.web.questionnaires.tasks.send_questionnaire", "session_id", "courses.TherapySession"),
    ("interpersonal.web.questionnaires.tasks.deliver_link", "link_id", "questionnaires.QuestionnaireLink"),
    ("interpersonal.web.documents.tasks.make_document", "document_id", "documents.Document"),
    ("interpersonal.web.service.tasks.send_opt_in", "invitation_id", "service.OptInInvitation"),
)

# Background tasks whose arguments name no patient's row (declared, so that a new task must be
# placed in one list or the other).
TASKS_WITHOUT_PATIENT: tuple[str, ...] = ()


TASK_RESULTS = DBTaskResult._meta.label


def _task_results(ids_by_model: Mapping[str, list[Any]]) -> models.QuerySet[Any]:
    match = Q(pk__in=[])
    for task_path, argument, label in TASKS_BY_ID:
        ids = ids_by_model.get(label) or []
        if ids:
            match |= Q(task_path=task_path) & (Q(args_kwargs__args__0__in=ids) | Q(**{f"args_kwargs__kwargs__{argument}__in": ids}))
    return DBTaskResult._base_manager.filter(match)


def preview(patient_id: int) -> dict[str, int]:
    """The rows erasing the patient would delete, per model (nothing is changed)."""
    ids = _ids(patient_id)
    counts = {label: len(pks) for label, pks in ids.items()}
    counts[TASK_RESULTS] = _task_results(ids).count()
    return counts


# --- Rules ----------------------------------------------------------------------------------


def _reason(reason: str) -> Reason:
    try:
        return Reason(reason)
    except ValueError:
        raise ValueError(f"Unknown reason {reason!r}: choose one of {', '.join(Reason.values)}.") from None


def clean_reference(reference: Any) -> str:
    """The case reference, stripped (:mod:`interpersonal.web.privacy.reference`); required here."""
    return case_reference.clean(reference, required=True)


def clinical_entries(patient: Patient) -> list[str]:
    """What clinicians have recorded in the record, as "2 attended sessions" etc. (empty: nothing)."""
    from interpersonal.web.assessments.models import Measurement, RiskAlert, RiskAssessment
    from interpersonal.web.courses.models import ATTENDED, Contact, TaskCompletion, TherapySession
    from interpersonal.web.fidelity.models import RatingAssignment, Recording
    from interpersonal.web.formulation.models import InventoryPerson, IpafRevision, IptFormulation, TimelineEvent
    from interpersonal.web.letters.models import Letter
    from interpersonal.web.questionnaires.models import QuestionnaireLink

    sessions = TherapySession.objects.filter(referral__patient=patient)
    counts = (
        ("attended session", sessions.filter(attendance__in=ATTENDED)),
        # A note on a missed or booked session (a DNA follow-up, a risk concern) is clinical too.
        ("other session with notes", sessions.exclude(attendance__in=ATTENDED)
         .filter(~Q(notes="") | ~Q(home_practice=""))),
        ("treatment task completed", TaskCompletion.objects.filter(course__patient=patient)),
        ("contact outside sessions", Contact.objects.filter(course__patient=patient)),
        ("measure", Measurement.objects.filter(referral__patient=patient)),
        # Answers a patient saved but did not send (a risk answer among them raised its alert).
        ("unsent questionnaire answer", QuestionnaireLink.objects.filter(referral__patient=patient)
         .exclude(draft={})),
        ("risk alert", RiskAlert.objects.filter(referral__patient=patient)),
        ("risk assessment", RiskAssessment.objects.filter(referral__patient=patient)),
        ("formulation entry", IpafRevision.objects.filter(course__patient=patient)),
        ("inventory entry", InventoryPerson.objects.filter(course__patient=patient)),
        ("timeline entry", TimelineEvent.objects.filter(course__patient=patient)),
        ("IPT formulation", IptFormulation.objects.filter(course__patient=patient)),
        ("letter", Letter.objects.filter(course__patient=patient)),
        ("recording", Recording.objects.filter(course__patient=patient)),
        ("submitted fidelity rating", RatingAssignment.objects.filter(recording__course__patient=patient,
                                                                      submitted_at__isnull=False)),
    )
    out = []
    for what, rows in counts:
        n = rows.count()
        if n:
            out.append(f"{n} {what}{'s' if n > 1 else ''}")
    return out


def problems(patient: Patient, reason: str, *, today: dt.date | None = None) -> list[str]:
    """Why ``patient`` cannot be erased for ``reason`` (empty: it can)."""
    from interpersonal.web.assessments.models import RiskAlert
    from interpersonal.web.courses.models import Course

    why = _reason(reason)
    today = today or timezone.localdate()
    found = []
    open_alerts = RiskAlert.objects.filter(referral__patient=patient, acknowledged_at__isnull=True).count()
    if open_alerts:
        found.append(f"{patient.local_id} has {open_alerts} unacknowledged risk alert{'s' if open_alerts > 1 else ''}: "
                     "a clinician must acknowledge it before the record can be erased.")
    active = Course.objects.filter(patient=patient, status=Course.Status.ACTIVE).exists()
    if active and why is not Reason.ENTERED_IN_ERROR:
        found.append(f"{patient.local_id} is in an active course of therapy: the course must end first "
                     "(only a record entered in error can be erased during a course).")
    if why is Reason.ENTERED_IN_ERROR:
        entries = clinical_entries(patient)
        if entries:
            found.append(f"{patient.local_id} holds clinical entries ({', '.join(entries)}), so it is not a record "
                         "entered in error that can simply be deleted: if the entries belong to another patient, "
                         "their clinician records them in that patient's record first; otherwise information "
                         "governance decides (an upheld erasure request), or the record waits for its "
                         "retention period.")
    if why is Reason.RETENTION_EXPIRED:
        last = retention.last_contact(patient)
        due_on = retention.retention_date(last)
        if today < due_on:
            found.append(f"{patient.local_id} must be kept until {due_on:%d %B %Y} "
                         f"({retention.retention_years()} years after the last contact on {last:%d %B %Y}).")
    if not register.writable():
        found.append("The erasure register cannot be written, so restoring a backup could bring the record back: "
                     "the system administrator must fix INTERPERSONAL_ERASURE_REGISTER first.")
    return found


# --- The action -----------------------------------------------------------------------------


def erase_patient(
    patient_id: int, *, by: Any, reason: str, reference: str, expected_version: int | None = None,
    today: dt.date | None = None, via: str = "web", os_user: str = "",
) -> ErasureResult:
    """Delete every row of the patient (one transaction), keep the audit trail, and append one
    ``patient.erased`` event with the reason, the reference, the counts and how it was done
    (``via`` "web" or "cli"; on the command line also the operating-system user who ran it, since
    ``--by`` names a records officer without signing them in)."""
    if not has_permission(by, Permission.HANDLE_RECORDS_REQUESTS):
        raise PermissionDenied("Only a records officer can erase a patient's record.")
    why = _reason(reason)
    reference = clean_reference(reference)
    try:
        return _erase(patient_id, by=by, why=why, reference=reference, expected_version=expected_version, today=today,
                      channel={"via": via, **({"os_user": os_user} if os_user else {})})
    except (ProtectedError, IntegrityError):
        raise ErasureRefused("The record changed while it was being erased (a row was added to it): nothing was "
                             "erased. Try again.") from None


@transaction.atomic
def _erase(patient_id: int, *, by: Any, why: Reason, reference: str, expected_version: int | None,
           today: dt.date | None, channel: dict[str, str]) -> ErasureResult:
    patient = Patient.objects.select_for_update().filter(pk=patient_id).first()
    if patient is None:
        raise ErasureRefused(f"There is no patient with id {patient_id}: nothing was erased.")
    if expected_version is not None and expected_version != patient.version:
        raise ErasureRefused(f"{patient.local_id} was changed by someone else after you opened it: "
                             "nothing was erased. Check the record again before erasing it.")
    reference = case_reference.clean(reference, required=True, patient=patient)  # not the patient's own details
    found = problems(patient, why.value, today=today)
    if found:
        raise ErasureRefused(" ".join(found), tuple(found))
    ids = _ids(patient.pk)
    entangled = _entangled(ids)
    if entangled:
        raise ErasureRefused(f"{patient.local_id} cannot be erased: rows of another record point into it "
                             f"({', '.join(entangled[:5])}). Ask the system administrator to untangle them first.")
    counts = _delete(ids)
    fingerprint = register.fingerprint(patient.pk, patient.created_at)
    event = log.record("patient.erased", actor=by, target=("patient", patient.pk), patient_id=patient.pk,
                       reason=why.value, reference=reference, fingerprint=fingerprint, **channel, **counts)
    entry = register.Entry(patient_id=patient.pk, fingerprint=fingerprint, erased_at=event.at.isoformat(),
                           reason=why.value, reference=reference)
    # After the commit, never before: a line for an erasure that was rolled back would erase the
    # record at the next restore. A failure to write is logged (robust); `restore` also reads the
    # trail of the database it replaces (sync_register), so the line is not lost with it.
    transaction.on_commit(functools.partial(register.append, entry), robust=True)
    return ErasureResult(patient_id=patient.pk, reason=why.value, counts=counts)


def _delete(ids: Mapping[str, list[Any]]) -> dict[str, int]:
    """Delete the rows :func:`_ids` found (and the task results naming them); rows per model."""
    counts = dict.fromkeys(ids, 0)
    counts[TASK_RESULTS] = _task_results(ids).delete()[1].get(TASK_RESULTS, 0)
    for step in plan():
        rows = step.model._base_manager.filter(pk__in=ids[step.label])
        if step.self_references:
            rows.update(**dict.fromkeys(step.self_references))
        for label, n in rows.delete()[1].items():
            counts[label] = counts.get(label, 0) + n
    return counts


# --- After a restore: the erasures made since the backup, made again --------------------------


def sync_register() -> int:
    """Append to the register every erasure this database's audit trail records and the register
    lacks (a line whose write failed, or a register started after the erasure). Run by ``restore``
    on the database it is about to replace, whose trail holds the erasures made since the backup.
    Reads three columns only, so a trail a migration or two behind the code is still read.
    Returns how many lines were added."""
    entries, _ = register.read()
    known = {(e.patient_id, e.fingerprint) for e in entries}
    added = 0
    rows = AuditEvent.objects.filter(type="patient.erased").order_by("at", "pk").values_list("patient_id", "at", "data")
    for patient_id, at, data in rows:
        data = data or {}
        entry = register.Entry(patient_id=int(patient_id or 0), fingerprint=str(data.get("fingerprint", "")),
                               erased_at=at.isoformat(), reason=str(data.get("reason", "")),
                               reference=str(data.get("reference", "")))
        if entry.patient_id and (entry.patient_id, entry.fingerprint) not in known:
            register.append(entry)
            known.add((entry.patient_id, entry.fingerprint))
            added += 1
    return added


@dataclass
class Reapplied:
    """What :func:`reapply` did with the erasures in the register."""

    erased: list[ErasureResult] = field(default_factory=list)  # back after the restore: erased again
    absent: int = 0  # ids not in the restored database (erased before the backup, or created after it)
    other_record: list[int] = field(default_factory=list)  # the id is another record's now: left alone
    unverified: list[int] = field(default_factory=list)  # erased before fingerprints were kept: check by hand
    refused: list[str] = field(default_factory=list)  # could not be erased: the reason, per patient
    unreadable_lines: int = 0


def reapply(*, restored_from: str, os_user: str = "") -> Reapplied:
    """Erase again every record of the register that the database holds (after ``restore``).

    The decision was made and carried out before; it is not asked again (no rule of
    :func:`problems` applies), only checked to be about this very record: one of the register's
    fingerprints for the id must match (an id can appear more than once: a restore puts the id
    counter back, so a later patient may get the id of one created after the backup). Each is one
    transaction and one ``patient.erased`` event, by no one (``via`` "restore", the operating-
    system user, the original erasure's moment and the backup's SHA-256). A line without a
    fingerprint (an erasure made before they were kept) is never acted on: it is reported."""
    entries, unreadable = register.read()
    done = Reapplied(unreadable_lines=unreadable)
    by_id: dict[int, list[register.Entry]] = {}
    for entry in entries:
        by_id.setdefault(entry.patient_id, []).append(entry)
    for patient_id, lines in by_id.items():
        patient = Patient.objects.filter(pk=patient_id).only("pk", "created_at").first()
        if patient is None:
            done.absent += 1
            continue
        fingerprint = register.fingerprint(patient.pk, patient.created_at)
        match = next((e for e in lines if e.fingerprint == fingerprint), None)
        if match is None:
            (done.other_record if all(e.fingerprint for e in lines) else done.unverified).append(patient.pk)
            continue
        try:
            done.erased.append(_erase_again(patient.pk, match, restored_from=restored_from, os_user=os_user))
        except ErasureRefused as exc:
            done.refused.append(f"id {patient_id}: {exc}")
        except (ProtectedError, IntegrityError) as exc:
            done.refused.append(f"id {patient_id}: the database refused ({exc.__class__.__name__}); nothing of it "
                                "was erased")
    return done


@transaction.atomic
def _erase_again(patient_id: int, entry: register.Entry, *, restored_from: str, os_user: str) -> ErasureResult:
    patient = Patient.objects.select_for_update().get(pk=patient_id)
    ids = _ids(patient.pk)
    entangled = _entangled(ids)
    if entangled:
        raise ErasureRefused(f"rows of another record point into it ({', '.join(entangled[:5])}); untangle them, "
                             "then erase it with erase_patient")
    counts = _delete(ids)
    log.record("patient.erased", actor=None, target=("patient", patient.pk), patient_id=patient.pk,
               reason=entry.reason, reference=entry.reference, fingerprint=entry.fingerprint, via="restore",
               erased_at=entry.erased_at, **({"restored_from": restored_from} if restored_from else {}),
               **({"os_user": os_user} if os_user else {}), **counts)
    return ErasureResult(patient_id=patient.pk, reason=entry.reason, counts=counts)
