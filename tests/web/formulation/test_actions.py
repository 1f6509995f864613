"""Formulation actions: IPAF revisions, inventory, timeline, IPT formulation; optimistic
locking; protocol and permission refusals; audit data holds no clinical text."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from interpersonal.web.audit.models import AuditEvent
from interpersonal.web.courses.actions import record_session
from interpersonal.web.formulation import actions
from interpersonal.web.formulation.models import InventoryPerson, IpafRevision, TimelineEvent

pytestmark = pytest.mark.django_db

IPAF = {"self_representation": "Unwanted, a burden", "other_representation": "Critical, withdrawing",
        "affect": "Shame", "defensive_function": "Keeps quiet to avoid rejection",
        "link_to_depression": "Withdrawal deepens the low mood"}
SECRET = "SECRET-CLINICAL-TEXT"


def test_ipaf_each_save_is_a_new_revision_with_phase(dit_course, therapist):
    first = actions.revise_ipaf(course=dit_course, by=therapist, based_on=None, **IPAF)
    for n in range(4):
        record_session(course=dit_course, by=therapist, attendance=5, scheduled_at=timezone.now() - dt.timedelta(days=20 - n))
    second = actions.revise_ipaf(course=dit_course, by=therapist, based_on=1, **IPAF | {"affect": "Shame and anger"})
    assert [r.number for r in IpafRevision.objects.filter(course=dit_course)] == [1, 2]
    assert IpafRevision.objects.get(number=1).affect == "Shame"
    assert (first.phase_id, second.phase_id) == ("initial", "middle")


def test_ipaf_agreed_defaults_to_today_and_needs_all_parts(dit_course, therapist):
    with pytest.raises(ValidationError, match="missing: linking affect"):
        actions.revise_ipaf(course=dit_course, by=therapist, based_on=None, agreed_with_patient=True, **IPAF | {"affect": ""})
    revision = actions.revise_ipaf(course=dit_course, by=therapist, based_on=None, agreed_with_patient=True, **IPAF)
    assert revision.agreed_with_patient
    assert revision.agreed_on == timezone.localdate()


def test_ipaf_agreed_on_without_agreement_refused(dit_course, therapist):
    with pytest.raises(ValidationError, match="only given once"):
        actions.revise_ipaf(course=dit_course, by=therapist, based_on=None, agreed_on=timezone.localdate(), **IPAF)


def test_ipaf_unchanged_save_adds_no_revision(dit_course, therapist):
    actions.revise_ipaf(course=dit_course, by=therapist, based_on=None, **IPAF)
    actions.revise_ipaf(course=dit_course, by=therapist, based_on=1, **IPAF)
    assert IpafRevision.objects.filter(course=dit_course).count() == 1


def test_ipaf_stale_save_refused_listing_changes(dit_course, therapist):
    actions.revise_ipaf(course=dit_course, by=therapist, based_on=None, **IPAF)
    actions.revise_ipaf(course=dit_course, by=therapist, based_on=1, **IPAF | {"affect": "Anger"})
    with pytest.raises(actions.StaleEdit) as exc:
        actions.revise_ipaf(course=dit_course, by=therapist, based_on=1, **IPAF | {"defensive_function": "Other"})
    message = exc.value.messages[0]
    assert "Linking affect: “Shame” → “Anger”" in message
    assert "Defensive function" not in message
    assert exc.value.current["number"] == 2
    assert IpafRevision.objects.filter(course=dit_course).count() == 2


def test_ipaf_refused_for_ipt_course(ipt_course, therapist):
    # The IPT protocol does not list the "ipaf" feature; the message names the protocols that do.
    with pytest.raises(ValidationError, match=r"has no Interpersonal Affective Focus \(IPAF\).*"
                                              r"protocols that do: Dynamic Interpersonal Therapy \(DIT\)"):
        actions.revise_ipaf(course=ipt_course, by=therapist, based_on=None, **IPAF)


def test_ipt_records_refused_for_a_dit_course(dit_course, therapist):
    with pytest.raises(ValidationError, match="has no Interpersonal inventory"):
        actions.add_person(course=dit_course, by=therapist, label="Partner")
    with pytest.raises(ValidationError, match="has no Timeline of life events and mood"):
        actions.add_event(course=dit_course, by=therapist, occurred_on=dit_course.started_on, event="Moved", mood=-2)
    with pytest.raises(ValidationError, match="has no Interpersonal formulation"):
        actions.save_formulation(course=dit_course, by=therapist, expected_version=0, text="x", focal_areas=[])


@pytest.mark.parametrize("who", ["supervisor", "unrelated_therapist"])
def test_non_therapist_refused(request, dit_course, ipt_course, who):
    user = request.getfixturevalue(who)
    with pytest.raises(ValidationError, match="Only the course's therapist"):
        actions.revise_ipaf(course=dit_course, by=user, based_on=None, **IPAF)


def test_inventory_refused_for_dit_course(dit_course, therapist):
    with pytest.raises(ValidationError, match="IPT"):
        actions.add_person(course=dit_course, by=therapist, label="Mum", ring="inner")


def test_person_add_update_remove(ipt_course, therapist):
    p = actions.add_person(course=ipt_course, by=therapist, label="Mum", relationship="mother", ring="inner")
    q = actions.add_person(course=ipt_course, by=therapist, label="Boss", ring="outer")
    assert (p.position, q.position) == (1, 2)
    p = actions.update_person(person=p, by=therapist, expected_version=1, support="Phones weekly")
    assert (p.version, p.support) == (2, "Phones weekly")
    actions.remove_person(person=q, by=therapist, expected_version=1)
    assert InventoryPerson.objects.get(pk=q.pk).removed_at is not None


def test_person_ring_must_be_a_ring(ipt_course, therapist):
    with pytest.raises(ValidationError, match="inner, middle or outer"):
        actions.add_person(course=ipt_course, by=therapist, label="Mum", ring="core")


def test_person_stale_update_lists_changes(ipt_course, therapist):
    p = actions.add_person(course=ipt_course, by=therapist, label="Mum", ring="inner", conflict="Rows")
    actions.update_person(person=p, by=therapist, expected_version=1, conflict="Fewer rows")
    with pytest.raises(actions.StaleEdit) as exc:
        actions.update_person(person=p, by=therapist, expected_version=1,
                              seen={"label": "Mum", "ring": "inner", "conflict": "Rows"}, label="Mother", conflict="Rows")
    assert "Conflict: “Rows” → “Fewer rows”" in exc.value.messages[0]
    assert "Label" not in exc.value.messages[0]
    assert InventoryPerson.objects.get(pk=p.pk).label == "Mum"


def test_event_add_update_and_stale(ipt_course, therapist):
    e = actions.add_event(course=ipt_course, by=therapist, occurred_on=dt.date(2025, 3, 1), event="Moved city", mood=-2)
    actions.update_event(timeline_event=e, by=therapist, expected_version=1, mood=-3)
    with pytest.raises(actions.StaleEdit) as exc:
        actions.update_event(timeline_event=e, by=therapist, expected_version=1, mood=1)
    assert "Mood" in exc.value.messages[0]
    assert TimelineEvent.objects.get(pk=e.pk).mood == -3
    actions.remove_event(timeline_event=e, by=therapist, expected_version=2)
    assert TimelineEvent.objects.get(pk=e.pk).removed_at is not None


@pytest.mark.parametrize("mood", [-6, 6, True, "2"])
def test_event_mood_outside_scale_refused(ipt_course, therapist, mood):
    with pytest.raises(ValidationError, match="−5"):
        actions.add_event(course=ipt_course, by=therapist, occurred_on=dt.date(2025, 3, 1), event="x", mood=mood)


def test_event_in_future_refused(ipt_course, therapist):
    with pytest.raises(ValidationError, match="future"):
        actions.add_event(course=ipt_course, by=therapist, occurred_on=timezone.localdate() + dt.timedelta(days=2),
                          event="x", mood=0)


def save(course, by, version=0, areas=None, **extra):
    return actions.save_formulation(course=course, by=by, expected_version=version, text="Depression followed the move.",
                                    focal_areas=areas if areas is not None else [{"area": "role_transition", "goals": "Build support"}],
                                    **extra)


def test_formulation_saved_with_focal_areas_and_contract(ipt_course, therapist):
    f = save(ipt_course, therapist, areas=[{"area": "role_dispute", "dispute_stage": "impasse", "goals": "Renegotiate"},
                                          {"area": "grief", "goals": "Mourn"}],
             contract_sessions=16, contract_start=dt.date(2026, 11, 1), contract_end=dt.date(2027, 2, 20))
    assert [(a.area, a.dispute_stage) for a in f.focal_areas.all()] == [("role_dispute", "impasse"), ("grief", "")]
    f = save(ipt_course, therapist, version=1)
    assert f.version == 2
    assert [a.area for a in f.focal_areas.all()] == ["role_transition"]


def test_at_most_two_focal_areas(ipt_course, therapist):
    with pytest.raises(ValidationError, match="at most two"):
        save(ipt_course, therapist, areas=[{"area": "grief"}, {"area": "role_transition"}, {"area": "interpersonal_deficits"}])


def test_dispute_stage_required_for_role_dispute_only(ipt_course, therapist):
    with pytest.raises(ValidationError, match="needs its stage"):
        save(ipt_course, therapist, areas=[{"area": "role_dispute"}])
    with pytest.raises(ValidationError, match="only for a role dispute"):
        save(ipt_course, therapist, areas=[{"area": "grief", "dispute_stage": "impasse"}])


@pytest.mark.parametrize("sessions", [11, 21])
def test_contract_outside_protocol_range_refused(ipt_course, therapist, sessions):
    with pytest.raises(ValidationError, match="12 to 20"):
        save(ipt_course, therapist, contract_sessions=sessions)


def test_contract_end_before_start_refused(ipt_course, therapist):
    with pytest.raises(ValidationError, match="cannot end before"):
        save(ipt_course, therapist, contract_start=dt.date(2026, 12, 1), contract_end=dt.date(2026, 11, 1))


def test_formulation_stale_save_lists_changes(ipt_course, therapist):
    save(ipt_course, therapist)
    save(ipt_course, therapist, version=1, contract_sessions=16)
    with pytest.raises(actions.StaleEdit) as exc:
        save(ipt_course, therapist, version=1, contract_sessions=14)
    assert "Sessions agreed" in exc.value.messages[0]
    assert exc.value.current["contract_sessions"] == 16


def test_formulation_refused_for_dit(dit_course, therapist):
    with pytest.raises(ValidationError, match="IPT"):
        save(dit_course, therapist)


def test_audit_events_hold_no_free_text(dit_course, ipt_course, therapist, patient):
    from interpersonal.web.courses.actions import end_course

    actions.revise_ipaf(course=dit_course, by=therapist, based_on=None, **dict.fromkeys(IPAF, SECRET))
    end_course(course=dit_course, reason="completed", by=therapist)
    ipt = ipt_course
    p = actions.add_person(course=ipt, by=therapist, label=SECRET, relationship=SECRET, ring="inner", quality=SECRET)
    actions.update_person(person=p, by=therapist, expected_version=1, conflict=SECRET + "2")
    e = actions.add_event(course=ipt, by=therapist, occurred_on=dt.date(2025, 1, 1), event=SECRET, mood=-1)
    actions.update_event(timeline_event=e, by=therapist, expected_version=1, event=SECRET + "3")
    actions.save_formulation(course=ipt, by=therapist, expected_version=0, text=SECRET,
                             focal_areas=[{"area": "grief", "goals": SECRET}], contract_sessions=16)
    events = AuditEvent.objects.filter(type__startswith="formulation.")
    assert {e.type for e in events} >= {"formulation.ipaf_revised", "formulation.person_added", "formulation.person_updated",
                                        "formulation.event_added", "formulation.event_updated", "formulation.ipt_saved"}
    for event in events:
        assert SECRET not in str(event.data)
