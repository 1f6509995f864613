"""Caseloads, capacity and costs (service.operations; the formula: docs/costs.md).

Cost of a session = the cost per session of its therapist's grade in effect on the session's date.
Per session = Σ costs / sessions; per finished course of treatment = Σ costs of the finished
referrals' attended treatment sessions / finished referrals; per recovery = Σ costs of the paired
ones / recovered (NHS Talking Therapies recovery: at caseness at the start — PHQ-9 ≥ 10 or GAD-7 ≥ 8
— and below both at the end; DOMAIN.md §4 [V], via core.outcomes.course_outcome). Every expected
figure is worked out by hand in the test.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from interpersonal.web.courses.actions import end_course, record_session, start_course, step_up
from interpersonal.web.patients.actions import register_patient
from interpersonal.web.service import actions, operations
from interpersonal.web.service.models import GradeCost, StaffProfile
from web.service.conftest import at, day, treated
from web.service.conftest import waiting as waiting_referral

pytestmark = pytest.mark.django_db


@pytest.fixture
def grades(service_lead, therapist, unrelated_therapist):
    """Band 7 (£80 a session throughout) for ``therapist``; Band 6 (£50, then £60 from 100 days ago)
    for ``unrelated_therapist``."""
    band7 = actions.add_grade(name="Band 7", by=service_lead)
    band6 = actions.add_grade(name="Band 6", by=service_lead)
    actions.add_grade_cost(grade=band7, cost_per_session="80", effective_from=day(400), by=service_lead)
    actions.add_grade_cost(grade=band6, cost_per_session="50.00", effective_from=day(400), by=service_lead)
    actions.add_grade_cost(grade=band6, cost_per_session="£60", effective_from=day(100), by=service_lead,
                           source="Agenda for Change 2026/27 (synthetic)")
    actions.set_staff_profile(user=therapist, grade=band7, weekly_capacity=5, by=service_lead)
    actions.set_staff_profile(user=unrelated_therapist, grade=band6, weekly_capacity=None, by=service_lead)
    return band6, band7


def _costs():
    today = timezone.localdate()
    return operations.costs(since=today - dt.timedelta(days=364), until=today)


def test_cost_per_session_per_finished_course_and_per_recovery(grades, therapist, unrelated_therapist,
                                                             make_user):
    ungraded = make_user("nia.nograde", "therapist", first_name="Nia", last_name="Nograde")
    # A: IPT by Band 6, sessions at £50 (150 days ago) and £60 (50 days ago) = £110; recovered (16/12 → 5/4).
    treated(unrelated_therapist, received_ago=160, sessions=(150, 50), protocol="ipt", ended_ago=40,
            scores=((16, 12), (5, 4)))
    # B: DIT by Band 7, 2 × £80 = £160; paired, not recovered (15/10 → 14/10).
    treated(therapist, received_ago=70, sessions=(60, 30), ended_ago=20, scores=((15, 10), (14, 10)))
    # C: DIT by Band 7, 2 × £80 = £160; no scores: not paired.
    treated(therapist, received_ago=50, sessions=(45, 35), ended_ago=10)
    # D: DIT by a clinician with no grade: its sessions cannot be costed.
    treated(ungraded, received_ago=50, sessions=(45, 35), ended_ago=10)

    result = _costs()
    by = {t.therapy: t for t in result["by_therapy"]}

    ipt, dit = by["ipt"], by["dit"]
    assert (ipt.sessions, ipt.sessions_cost, ipt.per_session) == (2, Decimal("110"), Decimal("55.00"))
    assert (dit.sessions, dit.sessions_uncosted, dit.per_session) == (4, 2, Decimal("80.00"))
    assert (ipt.finished, ipt.per_finished) == (1, Decimal("110.00"))
    assert (dit.finished, dit.finished_uncosted, dit.per_finished) == (2, 1, Decimal("160.00"))
    assert (ipt.paired, ipt.recovered, ipt.per_recovery) == (1, 1, Decimal("110.00"))
    assert (dit.paired, dit.recovered, dit.per_recovery) == (1, 0, None)  # no recovery: no cost per recovery
    total = result["total"]
    assert (total.sessions, total.per_session) == (6, Decimal("71.67"))  # £430 / 6
    assert (total.finished, total.per_finished) == (3, Decimal("143.33"))  # £430 / 3
    assert (total.paired, total.recovered, total.per_recovery) == (2, 1, Decimal("270.00"))  # (£110 + £160) / 1


def test_a_stepped_up_referral_is_costed_whole_under_its_last_finished_course(grades, therapist, unrelated_therapist):
    """Guided self-help by Band 6 (1 session, £60), stepped up to DIT by Band 7 (2 sessions, £160): one
    finished course of treatment of £220, reported under DIT."""
    patient = register_patient(by=therapist, given_name="Stella", family_name="Stepper",
                               date_of_birth=dt.date(1980, 1, 1), received_on=day(90), source="gp")
    lit = start_course(patient=patient, protocol="lit", therapist=unrelated_therapist, by=unrelated_therapist,
                       started_on=day(80))
    record_session(course=lit, by=unrelated_therapist, attendance=5, scheduled_at=at(80))
    dit = step_up(course=lit, protocol="dit", therapist=therapist, by=unrelated_therapist, on=day(60))
    for ago in (50, 40):
        record_session(course=dit, by=therapist, attendance=5, scheduled_at=at(ago))
    end_course(course=dit, reason="completed", by=therapist, ended_on=day(30))

    by = {t.therapy: t for t in _costs()["by_therapy"]}

    assert (by["dit"].finished, by["dit"].per_finished) == (1, Decimal("220.00"))
    assert by["lit"].finished == 0
    assert (by["lit"].sessions, by["lit"].per_session) == (1, Decimal("60.00"))


def test_a_date_before_a_grades_first_cost_is_not_costed(grades, unrelated_therapist):
    treated(unrelated_therapist, received_ago=450, sessions=(420, 410), protocol="ipt", ended_ago=300)

    by = {t.therapy: t for t in _costs()["by_therapy"]}

    assert (by["ipt"].finished, by["ipt"].finished_uncosted) == (0, 1)


def test_no_costs_set_costs_nothing_and_counts_everything_as_not_costed(therapist):
    treated(therapist, received_ago=50, sessions=(45, 35), ended_ago=10)

    total = _costs()["total"]

    assert (total.sessions, total.sessions_uncosted, total.finished_uncosted, total.per_session) == (0, 2, 1, None)


def test_costs_take_a_fixed_number_of_queries(grades, therapist, django_assert_max_num_queries):
    for n in range(8):
        treated(therapist, received_ago=60 + n, sessions=(50 + n, 40 + n), ended_ago=30)

    with django_assert_max_num_queries(4):  # the grade costs, then sessions, finished referrals, their sessions
        _costs()


# --- caseloads and capacity -------------------------------------------------------------------------


def test_caseload_and_open_slots(grades, therapist):
    course = treated(therapist, received_ago=40, sessions=(30,)).courses.get()
    for days_ahead in (1, 8, 15):  # booked in the next four weeks
        record_session(course=course, by=therapist, attendance=None, scheduled_at=at(-days_ahead))
    record_session(course=course, by=therapist, attendance=None, scheduled_at=at(-40))  # beyond four weeks
    waiting_referral(therapist, received_ago=5)

    load = {c.user_id: c for c in operations.clinician_loads(weeks=4)}[therapist.pk]

    assert (load.active_courses, load.awaiting, load.caseload) == (1, 1, 2)
    assert (load.weekly_capacity, load.booked, load.slots) == (5, 3, 17)  # 5 × 4 − 3
    assert load.grade == "Band 7"


def test_overbooked_and_unset_capacity(grades, therapist, unrelated_therapist):
    actions.set_staff_profile(user=therapist, grade=None, weekly_capacity=0, by=grades[0].costs.first().created_by)
    course = treated(therapist, received_ago=40, sessions=(30,)).courses.get()
    record_session(course=course, by=therapist, attendance=None, scheduled_at=at(-2))

    loads = {c.user_id: c for c in operations.clinician_loads(weeks=4)}

    assert loads[therapist.pk].slots == -1
    assert loads[unrelated_therapist.pk].slots is None


# --- the settings' actions ------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0", "-5", "abc", "1.234", "NaN", "Infinity", "1000000", "", "sNaN"])
def test_an_impossible_cost_is_refused(grades, service_lead, value):
    with pytest.raises(ValidationError):
        actions.add_grade_cost(grade=grades[0], cost_per_session=value, effective_from=day(1), by=service_lead)


def test_one_cost_per_grade_and_date(grades, service_lead):
    with pytest.raises(ValidationError, match="already"):
        actions.add_grade_cost(grade=grades[0], cost_per_session="70", effective_from=day(100), by=service_lead)
    assert GradeCost.objects.count() == 3


def test_only_the_lead_changes_costs_and_capacity(grades, therapist):
    with pytest.raises(ValidationError):
        actions.add_grade(name="Band 8a", by=therapist)
    with pytest.raises(ValidationError):
        actions.set_staff_profile(user=therapist, grade=None, weekly_capacity=60, by=therapist)


def test_a_stale_capacity_edit_is_refused(grades, therapist, service_lead):
    profile = StaffProfile.objects.get(user=therapist)

    actions.set_staff_profile(user=therapist, grade=None, weekly_capacity=4, by=service_lead,
                              expected_version=profile.version)
    with pytest.raises(ValidationError, match="Someone else"):
        actions.set_staff_profile(user=therapist, grade=None, weekly_capacity=6, by=service_lead,
                                  expected_version=profile.version)
    assert StaffProfile.objects.get(user=therapist).weekly_capacity == 4


def test_a_duplicate_grade_name_is_refused(grades, service_lead):
    with pytest.raises(ValidationError, match="already"):
        actions.add_grade(name="band 7", by=service_lead)
