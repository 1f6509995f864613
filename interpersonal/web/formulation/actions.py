"""The only writers of the focus of a course: the IPAF, the interpersonal inventory, the
timeline and the interpersonal formulation — each offered to a course whose protocol lists it
as a feature (DIT: the IPAF; IPT: the other three). Atomic, validated, audited with
identifiers and field names only.

Edits are never lost silently. The IPAF is append-only (a new :class:`IpafRevision` per
save); the other records carry a ``version``. A save based on an out-of-date copy raises
:class:`StaleEdit`, a ``ValidationError`` whose message lists what changed meanwhile
(``field: “old” → “new”``) and which carries the current values for the form.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from interpersonal.core import protocols
from interpersonal.web import bounds
from interpersonal.web.accounts.roles import Permission, has_permission
from interpersonal.web.audit import log
from interpersonal.web.courses.models import ATTENDED, Course
from interpersonal.web.formulation.models import (
    MAX_FOCAL_AREAS,
    MOOD_MAX,
    MOOD_MIN,
    FocalArea,
    InventoryPerson,
    IpafRevision,
    IptFormulation,
    TimelineEvent,
)

LABELS = {
    "self_representation": "Representation of self", "other_representation": "Representation of the other",
    "affect": "Linking affect", "defensive_function": "Defensive function", "link_to_depression": "Link to the depression",
    "agreed_with_patient": "Agreed with the patient", "agreed_on": "Agreed on",
    "label": "Label", "relationship": "Relationship", "ring": "Closeness ring", "quality": "Quality",
    "support": "Support", "conflict": "Conflict", "expectations": "Expectations", "change_wanted": "Change wanted",
    "occurred_on": "Date", "event": "Event", "mood": "Mood",
    "formulation": "Formulation", "focal_areas": "Focal areas", "contract_sessions": "Sessions agreed",
    "contract_start": "Contract start", "contract_end": "Contract end", "removed": "Removed",
}
MAX_SHOWN = 160
"""Characters of a value shown in a "changed meanwhile" message."""


class StaleEdit(ValidationError):
    """Someone saved the record after this editor opened it. ``changes`` lists
    ``(field, old, new)``; ``current`` holds the saved values (and ``version``/``number``)."""

    def __init__(self, what: str, changes: list[tuple[str, Any, Any]], current: dict[str, Any], by: str = "") -> None:
        self.changes = changes
        self.current = current
        who = f" by {by}" if by else ""
        lines = "; ".join(f"{LABELS.get(f, f)}: {show(old)} → {show(new)}" for f, old, new in changes) \
            or "no field differs, but it was saved again"
        super().__init__(
            f"Not saved: this {what} was changed{who} after you opened it. What changed meanwhile — {lines}. "
            "The form now shows the current values; your version is shown beside it so you can merge and save again.",
            code="stale",
        )


def show(value: Any) -> str:
    """A value as the "changed meanwhile" message shows it."""
    if value is None or value == "":
        return "(blank)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    return f"“{text[:MAX_SHOWN]}…”" if len(text) > MAX_SHOWN else f"“{text}”"


def as_text(value: Any) -> str:
    """The form's text for a value (what a hidden ``seen-`` input carries)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "on" if value else ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _changes(fields: tuple[str, ...], old: Mapping[str, Any], new: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    return [(f, old.get(f), new.get(f)) for f in fields if f in new and old.get(f) != new.get(f)]


def _changes_since_seen(fields: tuple[str, ...], seen: Mapping[str, str] | None, submitted: Mapping[str, Any],
                        current: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    """Fields changed between the copy the editor opened (``seen``, as form text) and the
    saved one; without ``seen``, the saved fields that differ from what was submitted."""
    if seen is not None:
        return [(f, seen.get(f, ""), current[f]) for f in fields if f in seen and seen.get(f, "") != as_text(current[f])]
    return [(f, submitted[f], current[f]) for f in fields if f in submitted and submitted[f] != current[f]]


def _values(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {f: getattr(obj, f) for f in fields}


# -- checks ---------------------------------------------------------------------------------

def _require_therapist(course: Course, by: Any) -> None:
    if not has_permission(by, Permission.HOLD_CASELOAD) or course.therapist_id != by.pk:
        raise ValidationError("Only the course's therapist can change its focus.")


def _locked_active(course: Course) -> Course:
    locked = Course.objects.select_for_update().get(pk=course.pk)
    if locked.status != Course.Status.ACTIVE:
        raise ValidationError(f"This course ended on {locked.ended_on:%d %b %Y}; its focus can no longer be changed.")
    return locked


def require_feature(course: Course, feature: str) -> None:
    """Refuse unless the course's protocol lists ``feature`` (protocol data, never a therapy
    name: interpersonal.core.protocols.FEATURES)."""
    definition = course.definition
    if not definition.has_feature(feature):
        what = protocols.FEATURES.get(feature, feature)
        having = ", ".join(p.name for p in protocols.having(feature)) or "no protocol in this service"
        raise ValidationError(f"{definition.name} has no {what}: its protocol does not list it "
                              f"(protocols that do: {having}).")


def _text(name: str, value: Any, *, max_length: int | None = None, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError({name: f"{LABELS.get(name, name)} must be text."})
    value = value.strip()
    if required and not value:
        raise ValidationError({name: f"Give the {LABELS.get(name, name).lower()}."})
    if max_length is not None and len(value) > max_length:
        raise ValidationError({name: f"{LABELS.get(name, name)} is limited to {max_length} characters."})
    return value


def _unknown(fields: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    extra = sorted(set(fields) - set(allowed))
    if extra:
        raise TypeError(f"unknown fields: {', '.join(extra)}")


def current_phase_id(course: Course) -> str:
    """The protocol phase of the course's next session (as on the course page)."""
    attended = course.sessions.filter(attendance__in=ATTENDED).count()
    try:
        return course.definition.phase_for(attended, course.planned_sessions).id
    except protocols.ProtocolError:
        return ""


def _who(user: Any) -> str:
    return getattr(user, "display_name", "") or user.get_username()


# -- DIT: the IPAF ----------------------------------------------------------------------------

def empty_ipaf() -> dict[str, Any]:
    return dict.fromkeys(IpafRevision.FIELDS[:5], "") | {"agreed_with_patient": False, "agreed_on": None}


@transaction.atomic
def revise_ipaf(*, course: Course, by: Any, based_on: int | None, **fields: Any) -> IpafRevision:
    """Save the IPAF as a new revision. ``based_on`` is the revision number the editor
    opened (None for the first); if another has been saved since, refuse with the changes."""
    _unknown(fields, IpafRevision.FIELDS)
    _require_therapist(course, by)
    course = _locked_active(course)
    require_feature(course, "ipaf")
    latest = course.ipaf_revisions.order_by("-number").select_related("created_by").first()
    latest_number = latest.number if latest else None
    if latest_number != based_on:
        base = course.ipaf_revisions.filter(number=based_on).first() if based_on is not None else None
        empty = empty_ipaf()
        old = _values(base, IpafRevision.FIELDS) if base else empty
        new = _values(latest, IpafRevision.FIELDS) if latest else empty
        raise StaleEdit("IPAF", _changes(IpafRevision.FIELDS, old, new), new | {"number": latest_number},
                        by=_who(latest.created_by) if latest else "")
    values = {f: _text(f, fields.get(f, "")) for f in IpafRevision.FIELDS[:5]}
    agreed = fields.get("agreed_with_patient", False)
    if not isinstance(agreed, bool):
        raise ValidationError({"agreed_with_patient": "Say whether the focus was agreed with the patient."})
    agreed_on = fields.get("agreed_on")
    if agreed_on is not None and not isinstance(agreed_on, dt.date):
        raise ValidationError({"agreed_on": "Give the date the focus was agreed."})
    if agreed and agreed_on is None:
        agreed_on = timezone.localdate()
    if not agreed and agreed_on is not None:
        raise ValidationError({"agreed_on": "A date of agreement is only given once the focus is agreed with the patient."})
    if agreed_on is not None and agreed_on > timezone.localdate():
        raise ValidationError({"agreed_on": "The focus cannot be agreed in the future."})
    if agreed_on is not None and bounds.outside(bounds.PAST_CLINICAL, agreed_on):
        raise ValidationError({"agreed_on": bounds.PAST_CLINICAL.message})
    if agreed and not all(values.values()):
        missing = [LABELS[f].lower() for f, v in values.items() if not v]
        raise ValidationError({"agreed_with_patient": f"An agreed focus needs all its parts; missing: {', '.join(missing)}."})
    values |= {"agreed_with_patient": agreed, "agreed_on": agreed_on}
    previous = _values(latest, IpafRevision.FIELDS) if latest else empty_ipaf()
    changed = [f for f in IpafRevision.FIELDS if previous[f] != values[f]]
    if latest is not None and not changed:
        return latest
    if latest is None and not changed:
        raise ValidationError("Write at least one part of the focus before saving.")
    revision = IpafRevision.objects.create(
        course=course, number=(latest_number or 0) + 1, phase_id=current_phase_id(course), created_by=by, **values
    )
    log.record("formulation.ipaf_revised", actor=by, target=revision, patient_id=course.patient_id,
               course_id=course.pk, number=revision.number, phase=revision.phase_id,
               agreed=revision.agreed_with_patient, changed=changed)
    return revision


# -- IPT: the interpersonal inventory -----------------------------------------------------------

def _person_values(fields: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in InventoryPerson.FIELDS:
        if partial and name not in fields:
            continue
        if name == "ring":
            ring = fields.get("ring", InventoryPerson.Ring.MIDDLE)
            if ring not in InventoryPerson.Ring.values:
                raise ValidationError({"ring": "Choose the inner, middle or outer ring."})
            values[name] = ring
        else:
            values[name] = _text(name, fields.get(name, ""), required=name == "label",
                                 max_length=InventoryPerson._meta.get_field(name).max_length)
    return values


@transaction.atomic
def add_person(*, course: Course, by: Any, **fields: Any) -> InventoryPerson:
    """Add an important person (under the patient's label) to the inventory."""
    _unknown(fields, InventoryPerson.FIELDS)
    _require_therapist(course, by)
    course = _locked_active(course)
    require_feature(course, "inventory")
    values = _person_values(fields)
    position = (course.inventory_people.aggregate(m=Max("position"))["m"] or 0) + 1
    person = InventoryPerson.objects.create(course=course, position=position, **values)
    log.record("formulation.person_added", actor=by, target=person, patient_id=course.patient_id,
               course_id=course.pk, ring=person.ring)
    return person


def _locked_person(person: InventoryPerson, by: Any) -> InventoryPerson:
    _require_therapist(person.course, by)
    course = _locked_active(person.course)
    require_feature(course, "inventory")
    locked = InventoryPerson.objects.select_for_update().get(pk=person.pk)
    if locked.removed_at is not None:
        raise ValidationError("Not saved: this person was removed from the inventory after you opened it.")
    return locked


@transaction.atomic
def update_person(*, person: InventoryPerson, by: Any, expected_version: int,
                  seen: Mapping[str, str] | None = None, **fields: Any) -> InventoryPerson:
    """Change a person's entry; refused with what changed if saved meanwhile."""
    _unknown(fields, InventoryPerson.FIELDS)
    locked = _locked_person(person, by)
    values = _person_values(fields, partial=True)
    current = _values(locked, InventoryPerson.FIELDS)
    if locked.version != expected_version:
        raise StaleEdit("person", _changes_since_seen(InventoryPerson.FIELDS, seen, values, current),
                        current | {"version": locked.version})
    changed = [f for f in values if values[f] != current[f]]
    if changed:
        InventoryPerson.objects.filter(pk=locked.pk).update(version=locked.version + 1, **values)
        log.record("formulation.person_updated", actor=by, target=locked, patient_id=locked.course.patient_id,
                   course_id=locked.course_id, changed=changed, version=locked.version + 1)
    person.refresh_from_db()
    return person


@transaction.atomic
def remove_person(*, person: InventoryPerson, by: Any, expected_version: int | None = None) -> InventoryPerson:
    """Take a person out of the inventory (kept, marked removed)."""
    locked = _locked_person(person, by)
    if expected_version is not None and locked.version != expected_version:
        raise StaleEdit("person", [], _values(locked, InventoryPerson.FIELDS) | {"version": locked.version})
    InventoryPerson.objects.filter(pk=locked.pk).update(removed_at=timezone.now(), version=locked.version + 1)
    log.record("formulation.person_removed", actor=by, target=locked, patient_id=locked.course.patient_id,
               course_id=locked.course_id)
    person.refresh_from_db()
    return person


# -- IPT: the timeline --------------------------------------------------------------------------

def _event_values(fields: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if not partial or "occurred_on" in fields:
        on = fields.get("occurred_on")
        if not isinstance(on, dt.date) or isinstance(on, dt.datetime):
            raise ValidationError({"occurred_on": "Give the date of the event."})
        if on > timezone.localdate():
            raise ValidationError({"occurred_on": "The timeline records events that have happened; the date is in the future."})
        if bounds.outside(bounds.LIFE_EVENT, on):
            raise ValidationError({"occurred_on": bounds.LIFE_EVENT.message})
        values["occurred_on"] = on
    if not partial or "event" in fields:
        values["event"] = _text("event", fields.get("event"), required=True, max_length=1000)
    if not partial or "mood" in fields:
        mood = fields.get("mood")
        if isinstance(mood, bool) or not isinstance(mood, int) or not MOOD_MIN <= mood <= MOOD_MAX:
            raise ValidationError({"mood": "Rate the mood from −5 (very low) to +5 (very good)."})
        values["mood"] = mood
    return values


@transaction.atomic
def add_event(*, course: Course, by: Any, occurred_on: dt.date, event: str, mood: int) -> TimelineEvent:
    """Add a life event and the mood around it to the timeline."""
    _require_therapist(course, by)
    course = _locked_active(course)
    require_feature(course, "timeline")
    values = _event_values({"occurred_on": occurred_on, "event": event, "mood": mood})
    item = TimelineEvent.objects.create(course=course, **values)
    log.record("formulation.event_added", actor=by, target=item, patient_id=course.patient_id, course_id=course.pk)
    return item


def _locked_event(timeline_event: TimelineEvent, by: Any) -> TimelineEvent:
    _require_therapist(timeline_event.course, by)
    course = _locked_active(timeline_event.course)
    require_feature(course, "timeline")
    locked = TimelineEvent.objects.select_for_update().get(pk=timeline_event.pk)
    if locked.removed_at is not None:
        raise ValidationError("Not saved: this event was removed from the timeline after you opened it.")
    return locked


@transaction.atomic
def update_event(*, timeline_event: TimelineEvent, by: Any, expected_version: int,
                 seen: Mapping[str, str] | None = None, **fields: Any) -> TimelineEvent:
    """Change a timeline event; refused with what changed if saved meanwhile."""
    _unknown(fields, TimelineEvent.FIELDS)
    locked = _locked_event(timeline_event, by)
    values = _event_values(fields, partial=True)
    current = _values(locked, TimelineEvent.FIELDS)
    if locked.version != expected_version:
        raise StaleEdit("event", _changes_since_seen(TimelineEvent.FIELDS, seen, values, current),
                        current | {"version": locked.version})
    changed = [f for f in values if values[f] != current[f]]
    if changed:
        TimelineEvent.objects.filter(pk=locked.pk).update(version=locked.version + 1, **values)
        log.record("formulation.event_updated", actor=by, target=locked, patient_id=locked.course.patient_id,
                   course_id=locked.course_id, changed=changed, version=locked.version + 1)
    timeline_event.refresh_from_db()
    return timeline_event


@transaction.atomic
def remove_event(*, timeline_event: TimelineEvent, by: Any, expected_version: int | None = None) -> TimelineEvent:
    """Take an event off the timeline (kept, marked removed)."""
    locked = _locked_event(timeline_event, by)
    if expected_version is not None and locked.version != expected_version:
        raise StaleEdit("event", [], _values(locked, TimelineEvent.FIELDS) | {"version": locked.version})
    TimelineEvent.objects.filter(pk=locked.pk).update(removed_at=timezone.now(), version=locked.version + 1)
    log.record("formulation.event_removed", actor=by, target=locked, patient_id=locked.course.patient_id,
               course_id=locked.course_id)
    timeline_event.refresh_from_db()
    return timeline_event


# -- IPT: formulation, focal areas, contract -------------------------------------------------------

FORMULATION_FIELDS = ("formulation", "focal_areas", *IptFormulation.FIELDS[1:])


def focal_summary(areas: list[dict[str, str]]) -> str:
    """The focal areas as one line (for "changed meanwhile" messages and the form's seen- input)."""
    labels = dict(FocalArea.Area.choices)
    stages = dict(FocalArea.DisputeStage.choices)
    parts = []
    for a in areas:
        name = labels.get(a["area"], a["area"])
        if a.get("dispute_stage"):
            name += f" ({stages.get(a['dispute_stage'], a['dispute_stage']).lower()})"
        parts.append(f"{name}: {a.get('goals', '')}" if a.get("goals") else name)
    return "; ".join(parts)


def _focal_areas(areas: list[dict[str, Any]]) -> list[dict[str, str]]:
    if len(areas) > MAX_FOCAL_AREAS:
        raise ValidationError({"focal_areas": "IPT works on one focal area, at most two; choose no more than two."})
    cleaned = []
    for n, a in enumerate(areas, 1):
        area, stage = a.get("area", ""), a.get("dispute_stage", "") or ""
        if area not in FocalArea.Area.values:
            raise ValidationError({"focal_areas": f"Focal area {n}: choose grief, role dispute, role transition "
                                                  "or interpersonal deficits / sensitivities."})
        if area == FocalArea.Area.ROLE_DISPUTE and stage not in FocalArea.DisputeStage.values:
            raise ValidationError({"focal_areas": f"Focal area {n}: a role dispute needs its stage: "
                                                  "renegotiation, impasse or dissolution."})
        if area != FocalArea.Area.ROLE_DISPUTE and stage:
            raise ValidationError({"focal_areas": f"Focal area {n}: a stage is given only for a role dispute."})
        cleaned.append({"area": area, "dispute_stage": stage, "goals": _text("goals", a.get("goals", ""), max_length=2000)})
    return cleaned


def formulation_values(formulation: IptFormulation | None) -> dict[str, Any]:
    """The saved formulation's fields, focal areas as dicts (empty values if none yet)."""
    if formulation is None:
        return {"formulation": "", "focal_areas": [], "contract_sessions": None, "contract_start": None,
                "contract_end": None}
    return _values(formulation, IptFormulation.FIELDS) | {"focal_areas": [
        {"area": a.area, "dispute_stage": a.dispute_stage, "goals": a.goals} for a in formulation.focal_areas.all()
    ]}


@transaction.atomic
def save_formulation(
    *, course: Course, by: Any, expected_version: int, text: str, focal_areas: list[dict[str, Any]],
    contract_sessions: int | None = None, contract_start: dt.date | None = None, contract_end: dt.date | None = None,
    seen: Mapping[str, str] | None = None,
) -> IptFormulation:
    """Save the interpersonal formulation, its focal areas (at most two) and the treatment
    contract. ``expected_version`` is the version the editor opened (0 before the first save)."""
    _require_therapist(course, by)
    course = _locked_active(course)
    require_feature(course, "ipt_formulation")
    existing = IptFormulation.objects.select_for_update().filter(course=course).first()
    current_version = existing.version if existing else 0
    values = {"formulation": _text("formulation", text, max_length=20000), "focal_areas": _focal_areas(list(focal_areas)),
              "contract_sessions": contract_sessions, "contract_start": contract_start, "contract_end": contract_end}
    if current_version != expected_version:
        current = formulation_values(existing)
        current_cmp = current | {"focal_areas": focal_summary(current["focal_areas"])}
        submitted_cmp = values | {"focal_areas": focal_summary(values["focal_areas"])}
        raise StaleEdit("formulation", _changes_since_seen(FORMULATION_FIELDS, seen, submitted_cmp, current_cmp),
                        current | {"version": current_version})
    if contract_sessions is not None:
        try:
            course.definition.check_planned(contract_sessions)
        except protocols.ProtocolError as exc:
            raise ValidationError({"contract_sessions": str(exc)}) from None
    if contract_start and contract_end and contract_end < contract_start:
        raise ValidationError({"contract_end": "The contract cannot end before it starts."})
    previous = formulation_values(existing)
    changed = [f for f in FORMULATION_FIELDS if previous[f] != values[f]]
    areas = values.pop("focal_areas")
    if existing is None:
        existing = IptFormulation.objects.create(course=course, **values)
    elif changed:
        IptFormulation.objects.filter(pk=existing.pk).update(version=existing.version + 1, updated_at=timezone.now(), **values)
        existing.refresh_from_db()
    if "focal_areas" in changed:
        existing.focal_areas.all().delete()
        FocalArea.objects.bulk_create([FocalArea(formulation=existing, position=n, **a) for n, a in enumerate(areas, 1)])
    if changed or expected_version == 0:
        log.record("formulation.ipt_saved", actor=by, target=existing, patient_id=course.patient_id,
                   course_id=course.pk, version=existing.version, changed=changed,
                   focal_areas=[a["area"] for a in areas], dispute_stages=[a["dispute_stage"] for a in areas if a["dispute_stage"]],
                   contract_sessions=existing.contract_sessions)
    return existing
