"""``manage.py seed_demo``: a small, realistic, entirely synthetic demo service.

Creates (idempotently) the team "Demo service", one account per role and about fifty
synthetic patients whose referrals stand at every stage of the pathway (docs/referrals.md):
awaiting screening and triage (self-referrals and a GP's), waiting for step 2 or step 3 (some
past the 6-week standard, one near 18 weeks), in treatment in courses of DIT, IPT, CBT and guided
self-help at every phase (one stepped up from guided self-help to IPT), and discharged (completed,
dropped out, referred on, signposted before treatment), with weekly sessions and measures.
Patient records, referrals, courses, sessions, measures and alerts are made through the actions,
so the audit trail is the one real use would leave — except triage, which has no action yet
(:func:`triage_for_demo`: the screening and triage actions). For demonstrations only, and it makes sure of it:

* it runs only when ``INTERPERSONAL_DEMO=1`` is in the environment, which only ``make run`` sets
  (a settings module's name proves nothing: ``make run`` and a trust's own settings both pass it);
* it refuses (exit status 1) under the production settings, on a database holding any account it
  did not create (the operator's superuser, a real member of staff), and on one holding any patient
  it did not create (a patient whose local ID is not a demo one, or who is not allocated to a demo
  account);
* it creates and updates only accounts it created itself (``User.created_by_demo``).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import time
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.shortcuts import resolve_url
from django.utils import timezone

from interpersonal.core import protocols
from interpersonal.core.codes import Attendance, EndReason, Medium
from interpersonal.web.accounts.actions import NotADemoAccount, adopt_demo_accounts, ensure_superuser, ensure_user
from interpersonal.web.accounts.models import Role, Team
from interpersonal.web.assessments.actions import acknowledge_alert, record_measurement
from interpersonal.web.courses.actions import end_course, record_session, start_course
from interpersonal.web.courses.contacts import record_contact
from interpersonal.web.courses.management.synthetic import answers_for_total, synthetic_nhs_numbers, trajectory
from interpersonal.web.courses.models import Contact, Course
from interpersonal.web.patients.actions import register_patient
from interpersonal.web.patients.models import Patient
from interpersonal.web.referrals.actions import open_referral_of
from interpersonal.web.referrals.models import Referral
from interpersonal.web.referrals.screening import decide_suitability, triage_referral

DEMO_USERNAME = "admin"
"""The demo's administrator: an ordinary one, so that the demo shows what an administrator may not
do alone (ADR 0008) — widening anyone's reach waits for a supervisor's confirmation."""
SUPERUSER_USERNAME = "root"
"""The system's superuser (what `create_admin` makes on a real server): its account changes take
effect at once, and only it makes a records officer."""
DEMO_DEFAULT_PASSWORD = "interpersonal-demo"  # noqa: S105 - the documented demo password
TEAM_NAME = "Demo service"
LOCAL_ID_PREFIX = "DEMO-"
SEED = 20261122
PATIENTS_PER_PROTOCOL = 10

# username, role, first name, family name; therapists are supervised by "supervisor".
ACCOUNTS: tuple[tuple[str, str, str, str], ...] = (
    ("therapist1", Role.THERAPIST, "Tamsin", "Testwell"),
    ("therapist2", Role.THERAPIST, "Theo", "Trialford"),
    ("therapist3", Role.THERAPIST, "Tara", "Templeton-Demo"),
    ("therapist4", Role.THERAPIST, "Toby", "Placeholder"),
    ("supervisor", Role.SUPERVISOR, "Sasha", "Supervisewell"),
    ("lead", Role.SERVICE_LEAD, "Lena", "Leadbetter-Demo"),
    ("records", Role.RECORDS_OFFICER, "Rowan", "Recordkeeper-Demo"),
    (DEMO_USERNAME, Role.ADMINISTRATOR, "Ada", "Adminson"),
)
GIVEN = ("Alex", "Bailey", "Casey", "Devon", "Emery", "Frankie", "Harper", "Jordan", "Kit", "Logan",
         "Morgan", "Noel", "Parker", "Quinn", "Reese", "Sky", "Taylor", "Robin", "Sam", "Jamie")
FAMILY = ("Example", "Sample", "Specimen", "Testcase", "Madeup", "Fictional", "Demoson", "Mockley",
          "Dummyford", "Placeholder-Smith")
# The ten states of each protocol's patients, in order (stage, trajectory kind).
STATES = (
    ("initial", "improving"), ("middle", "improving"), ("middle", "flat"), ("ending", "improving"),
    ("completed", "improving"), ("completed", "improving"), ("dropped_out", "flat"), ("middle", "improving"),
    ("initial", "flat"), ("ending", "improving"),
)
MEDIA = (Medium.FACE_TO_FACE.value,) * 6 + (Medium.VIDEO.value,) * 3 + (Medium.TELEPHONE.value,)
ACK_NOTE = "Risk assessed in session; safety plan reviewed and agreed; GP informed."
SESSION_NOTES = (
    "Reviewed the week and the scores together. Talked about the argument with their partner and what they "
    "felt before it; linked it to the pattern we named earlier.",
    "Mood a little lower this week. Explored a recent conflict at work and what they expected of their manager; "
    "agreed to notice when they hold back.",
    "Went through the questionnaire answers together. Spent most of the session on a recent change in their "
    "relationships and how they are adjusting to it.",
    "Fewer difficult days. Role-played asking a friend for help; they noticed how anxious it made them and "
    "stayed with it.",
    "Looked back at the timeline and what has shifted since we started. Began to talk about how the ending of "
    "therapy might feel.",
)
"""Synthetic session notes for the demo (no real patient's words)."""
HOME_PRACTICE = ("Notice one moment each day when you hold back, and what you felt just before it.",
                 "Try one conversation from the role-play this week; jot down how it went.")
MISSED_CALL = "Phoned after the missed appointment: no answer; left a message with the service number and " \
              "a new appointment time."


@dataclass
class CoursePlan:
    protocol: str
    attended: int
    ending: str | None = None  # an EndReason value, or None while active
    gaps: dict[int, int] = field(default_factory=dict)
    """Non-attended visits: attended-count before it → attendance code."""
    trailing: list[int] = field(default_factory=list)
    """Non-attended visits after the last attended one (a drop-out's DNAs)."""


@dataclass
class PatientPlan:
    index: int
    kind: str
    courses: list[CoursePlan]
    risk_open: bool = False
    risk_acknowledged: bool = False


def _range_for(definition: protocols.Protocol, stage: str) -> tuple[int, int]:
    """Attended counts (inclusive) that put the next session in ``stage``."""
    ranges = definition.phase_ranges(definition.default_sessions)
    _phase, first, last = {"initial": ranges[0], "middle": ranges[1], "ending": ranges[-1]}[stage]
    if last is None:
        raise ValueError(f"{definition.id} is open-ended: no demo stage {stage!r}")
    lo = first - 1
    if stage == "initial":
        lo = min(1, last - 1)
    return lo, last - 1


def plan_service(rng: random.Random) -> list[PatientPlan]:
    plans: list[PatientPlan] = []
    for p_index, protocol in enumerate(("dit", "ipt", "cbt", "lit")):
        definition = protocols.get(protocol)
        n = definition.default_sessions or 8
        for s_index, (stage, kind) in enumerate(STATES):
            index = p_index * PATIENTS_PER_PROTOCOL + s_index
            if stage in {"initial", "middle", "ending"}:
                lo, hi = _range_for(definition, stage)
                course = CoursePlan(protocol, rng.randint(lo, hi))
            elif stage == "completed":
                course = CoursePlan(protocol, n, EndReason.COMPLETED.value)
            else:
                lo, hi = _range_for(definition, "middle")
                course = CoursePlan(protocol, rng.randint(max(2, lo), hi), EndReason.DROPPED_OUT.value,
                                    trailing=[Attendance.DID_NOT_ATTEND.value] * rng.randint(1, 2))
            plans.append(PatientPlan(index, kind, [course]))
    # Variety: one referred on, one deteriorating, one lit course stepped up to IPT.
    plans[28].courses[0].ending = EndReason.REFERRED_ON.value  # cbt, initial phase
    plans[17].kind = "deteriorating"  # ipt, middle phase
    lit = plans[32]  # lit, middle phase → stepped up after 5 sessions, now in IPT's middle phase
    lit.courses = [CoursePlan("lit", 5, EndReason.STEPPED_UP.value), CoursePlan("ipt", 6)]
    lit.kind = "flat"
    # A few did-not-attends and cancellations, in the middle of courses.
    codes = (Attendance.DID_NOT_ATTEND.value, Attendance.CANCELLED_BY_PATIENT.value,
             Attendance.CANCELLED_BY_PROVIDER.value, Attendance.DID_NOT_ATTEND.value)
    for plan in rng.sample(plans, 9):
        course = plan.courses[-1]
        if course.attended >= 3:
            course.gaps[rng.randint(1, course.attended - 1)] = rng.choice(codes)
    # Risk: four open alerts (latest PHQ-9 item 9 > 0) and one acknowledged, on active courses.
    for i in (1, 17, 21, 37):
        plans[i].risk_open = True
    plans[13].risk_acknowledged = True
    return plans


@dataclass(frozen=True)
class ReferralPlan:
    """A referral with no course yet (or none ever): where it stands and how long ago it came."""

    stage: str  # "awaiting_triage", "waiting" or "signposted" (discharged before treatment)
    source: str
    days_ago: int  # received this many days before today
    step: int | None = None
    therapy: str = ""
    referrer: str = ""
    presenting_problem: str = ""
    problem_descriptor: str = ""
    reason: str = ""
    preference: str = ""


REFERRALS: tuple[ReferralPlan, ...] = (
    # The front door: three self-referrals and a GP's, not yet screened.
    ReferralPlan("awaiting_triage", "self", 2, presenting_problem=(
        "Feeling low and on edge for months; not enjoying anything and sleeping badly.")),
    ReferralPlan("awaiting_triage", "self", 6, presenting_problem=(
        "Since my partner and I separated I can't stop going over it, and I've stopped seeing friends.")),
    ReferralPlan("awaiting_triage", "self", 11),
    ReferralPlan("awaiting_triage", "gp", 4, referrer="Dr Demo Example, Synthetic Street Surgery",
                 problem_descriptor="F32", presenting_problem=(
                     "Low mood for four months since being made redundant; withdrawn, poor sleep, no appetite. "
                     "Started sertraline six weeks ago with little change. No plans to end his life; lives with "
                     "his sister. Please assess for talking therapy.")),
    # The waiting lists: step 2 guided self-help and step 3 DIT and IPT, from days to near 18 weeks,
    # some past the 6-week standard (core.outcomes.service.SIX_WEEKS_DAYS, EIGHTEEN_WEEKS_DAYS).
    ReferralPlan("waiting", "self", 12, 2, "lit", reason="Mild to moderate depression, first episode.",
                 preference="Happy to start with guided self-help by telephone."),
    ReferralPlan("waiting", "gp", 47, 2, "lit", reason="Moderate depression; agreed to try low intensity first.",
                 preference="Evening appointments."),
    ReferralPlan("waiting", "gp", 25, 3, "dit", reason="Recurrent depression tied to a pattern in close "
                 "relationships; suitable for a brief psychodynamic therapy.",
                 preference="Wants to understand why the same things keep happening with people."),
    ReferralPlan("waiting", "primary_care", 119, 3, "dit", reason="More severe depression (NICE NG222); "
                 "did not want CBT.", preference="Face to face only."),
    ReferralPlan("waiting", "self", 55, 3, "ipt", reason="Depression after a bereavement that has not eased; "
                 "grief as the likely focal area.", preference="Would rather talk than do worksheets."),
    ReferralPlan("waiting", "gp", 33, 3, "ipt", reason="Depression since a move and a new job (role "
                 "transition).", preference="Video sessions at lunchtime."),
    # Screened and signposted elsewhere, with the patient's agreement, before any treatment.
    ReferralPlan("signposted", "self", 40, presenting_problem=(
        "Money worries after losing work; wants practical help with debts rather than therapy."),
        reason="Signposted to the local debt advice service; welcome to refer again."),
)


def triage_for_demo(referral: Referral, *, step: int, therapy: str, reason: str, preference: str, by: Any) -> None:
    """A referral awaiting triage is screened (found suitable) and triaged to ``step`` and ``therapy``,
    through the same actions a clinician's pages use (referrals.screening)."""
    decide_suitability(referral=referral, decision="suitable", reason="Assessed by telephone: depression is the "
                       "main problem; no significant risk; not under secondary care.", by=by,
                       clinician_risk=False, under_secondary_care=False)
    triage_referral(referral=referral, step=step, therapy=therapy, reason=reason, preferred_therapy="no_preference",
                    preference=preference, by=by)


class _Builder:
    def __init__(self, rng: random.Random, therapists: list[Any]) -> None:
        self.rng = rng
        self.therapists = therapists
        self.today = timezone.localdate()
        self.tz = ZoneInfo(settings.TIME_ZONE)
        self.nhs_numbers = synthetic_nhs_numbers()
        self.names = rng.sample([(g, f) for g in GIVEN for f in FAMILY], len(GIVEN) * len(FAMILY))
        self.counts = {"patients": 0, "courses": 0, "sessions": 0, "measurements": 0, "alerts": 0}
        self.next_index = 0

    def build(self, plan: PatientPlan) -> None:
        self.next_index = max(self.next_index, plan.index + 1)
        rng = self.rng
        therapist = self.therapists[plan.index % len(self.therapists)]
        active = plan.courses[-1].ending is None
        # The visits of every course, in order: (course index, attendance code).
        visits: list[tuple[int, int]] = []
        for c_index, course in enumerate(plan.courses):
            for k in range(course.attended):
                if k in course.gaps:
                    visits.append((c_index, course.gaps[k]))
                visits.append((c_index, rng.choice((Attendance.ATTENDED_ON_TIME.value,) * 9 + (Attendance.ATTENDED_LATE.value,))))
            visits.extend((c_index, code) for code in course.trailing)
        last_ago = rng.randint(1, 6) if active else rng.randint(10, 150)
        hour = 9 + plan.index % 8
        dates = [self.today - dt.timedelta(days=last_ago + 7 * (len(visits) - 1 - k)) for k in range(len(visits))]
        first_date = dates[0] if dates else self.today - dt.timedelta(days=last_ago)
        given, family = self.names[plan.index]
        patient = register_patient(
            by=therapist, local_id=f"{LOCAL_ID_PREFIX}{plan.index + 1:03d}", given_name=given, family_name=family,
            date_of_birth=dt.date(rng.randint(1950, 2004), rng.randint(1, 12), rng.randint(1, 28)),
            nhs_number=next(self.nhs_numbers), received_on=first_date - dt.timedelta(days=rng.randint(14, 56)),
            source=rng.choice(("gp", "gp", "self", "self", "primary_care")),
            email=f"{given.lower()}.{family.lower()}@example.org", contact_by_email=True,  # links go by e-mail
        )
        self.counts["patients"] += 1
        attended_total = sum(c.attended for c in plan.courses)
        span = sum(protocols.get(c.protocol).default_sessions or 8 for c in plan.courses)
        phq = trajectory(rng, plan.kind, rng.randint(13, 22), attended_total, span=span)
        gad = trajectory(rng, plan.kind, rng.randint(9, 18), attended_total, span=span, ceiling=21)
        wsas_start = rng.randint(14, 30)
        risk_at = {attended_total - 1} if plan.risk_open else set()
        ack_at = attended_total - 3 if plan.risk_acknowledged else None
        seen = 0
        previous: Course | None = None
        for c_index, course_plan in enumerate(plan.courses):
            mine = [(d, code) for d, (ci, code) in zip(dates, visits, strict=True) if ci == c_index]
            started_on = mine[0][0] if mine else first_date
            course = start_course(patient=patient, protocol=course_plan.protocol, therapist=therapist, by=therapist,
                                  started_on=started_on, stepped_from=previous)
            self.counts["courses"] += 1
            definition = course.definition
            extra_baseline = [m for m in definition.baseline_measures if m not in definition.session_measures]
            short = definition.step == 2
            course_seen = 0
            last_when: dt.datetime | None = None
            for day, code in mine:
                when = dt.datetime.combine(day, dt.time(hour), tzinfo=self.tz)
                last_when = when
                attended = code in (Attendance.ATTENDED_ON_TIME.value, Attendance.ATTENDED_LATE.value)
                session = record_session(
                    course=course, by=therapist, scheduled_at=when, attendance=code,
                    duration_minutes=(30 if short else 50) if attended else None, medium=rng.choice(MEDIA),
                    notes=rng.choice(SESSION_NOTES) if attended else "",
                    home_practice=rng.choice(HOME_PRACTICE) if attended and rng.random() < 0.5 else "",
                )
                self.counts["sessions"] += 1
                if code == Attendance.DID_NOT_ATTEND.value:
                    record_contact(course=course, by=therapist, kind=Contact.Kind.PHONE.value, duration_minutes=5,
                                   at=when + dt.timedelta(hours=2), note=MISSED_CALL)
                    self.counts["contacts"] = self.counts.get("contacts", 0) + 1
                if not attended:
                    continue
                at = when + dt.timedelta(minutes=45)
                risk = seen in risk_at or seen == ack_at
                self._measure(course, session, therapist, at, "phq9", phq[seen], risk=risk)
                self._measure(course, session, therapist, at, "gad7", gad[seen])
                is_last = course_seen == course_plan.attended - 1
                if course_seen == 0:
                    for instrument in extra_baseline:
                        total = wsas_start if instrument == "wsas" else min(40, phq[seen] + rng.randint(-1, 5))
                        self._measure(course, session, therapist, at, instrument, total)
                elif is_last and course_plan.ending == EndReason.COMPLETED.value:
                    ratio = phq[seen] / max(1, phq[0])
                    self._measure(course, session, therapist, at, "wsas", round(wsas_start * ratio))
                if seen == ack_at:
                    alert = course.risk_alerts.get(measurement__session=session)
                    acknowledge_alert(alert=alert, by=therapist, note=ACK_NOTE)
                seen += 1
                course_seen += 1
            if course_plan.ending is None:
                ahead = (last_when.date() if last_when else first_date) + dt.timedelta(days=7)
                while ahead <= self.today:
                    ahead += dt.timedelta(days=7)
                booked = dt.datetime.combine(ahead, dt.time(hour), tzinfo=self.tz)
                record_session(course=course, by=therapist, scheduled_at=booked, attendance=None,
                               duration_minutes=30 if short else 50, medium=rng.choice(MEDIA))
                self.counts["sessions"] += 1
            else:
                last_day = mine[-1][0] if mine else started_on
                gap = 0 if course_plan.ending in (EndReason.COMPLETED.value, EndReason.STEPPED_UP.value) else 7
                end_course(course=course, reason=course_plan.ending, by=therapist,
                           ended_on=min(self.today, last_day + dt.timedelta(days=gap)))
            previous = course

    def build_referral(self, plan: ReferralPlan) -> None:
        """A patient whose referral has no course yet (awaiting triage or waiting), or never will."""
        rng, index = self.rng, self.next_index
        self.next_index += 1
        therapist = self.therapists[index % len(self.therapists)]
        given, family = self.names[index]
        received = self.today - dt.timedelta(days=plan.days_ago)
        patient = register_patient(
            by=therapist, local_id=f"{LOCAL_ID_PREFIX}{index + 1:03d}", given_name=given, family_name=family,
            date_of_birth=dt.date(rng.randint(1950, 2004), rng.randint(1, 12), rng.randint(1, 28)),
            nhs_number=next(self.nhs_numbers), received_on=received, source=plan.source, referrer=plan.referrer,
            presenting_problem=plan.presenting_problem, problem_descriptor=plan.problem_descriptor,
            email=f"{given.lower()}.{family.lower()}@example.org", contact_by_email=True,  # links go by e-mail
        )
        self.counts["patients"] += 1
        referral = open_referral_of(patient)
        if referral is None:
            raise CommandError(f"register_patient left {patient.local_id} without a referral")
        if plan.stage == "waiting" and plan.step is not None:
            triage_for_demo(referral, step=plan.step, therapy=plan.therapy, reason=plan.reason,
                            preference=plan.preference, by=therapist)
        elif plan.stage == "signposted":
            decide_suitability(referral=referral, decision="signposted", reason=plan.reason, by=therapist,
                               clinician_risk=False, under_secondary_care=False)
        self.counts[plan.stage] = self.counts.get(plan.stage, 0) + 1

    def _measure(self, course: Course, session: Any, by: Any, at: dt.datetime, instrument: str, total: int,
                 *, risk: bool = False) -> None:
        answers = answers_for_total(self.rng, instrument, total, risk=risk)
        record_measurement(course=course, session=session, instrument=instrument, answers=answers, by=by,
                           recorded_at=at)
        self.counts["measurements"] += 1
        self.counts["alerts"] += int(risk)


PRODUCTION_SETTINGS = "interpersonal.web.settings_production"
OPT_IN = "INTERPERSONAL_DEMO"
"""Set to 1 by `make run` alone: the demo is something one asks for, never a default."""


def refusal(*, adopt: bool = False) -> str | None:
    """Why the demo must not run here, or None. With ``adopt``, a demo database made before accounts
    were marked as the demo's has its accounts adopted first (only when every account has a demo
    username and every patient a demo local ID)."""
    if os.environ.get(OPT_IN) != "1":
        return (f"seed_demo runs only when {OPT_IN}=1 is set, as `make run` does: it writes synthetic patients "
                "and accounts with a published password. Set it only for a demo database of its own.")
    if settings.SETTINGS_MODULE == PRODUCTION_SETTINGS:
        return (f"seed_demo refuses to run with the production settings ({PRODUCTION_SETTINGS}): it writes "
                "synthetic patients and accounts with a published password. Use it only on a demo database.")
    from django.contrib.auth import get_user_model

    if adopt:
        foreign = Patient.objects.exclude(local_id__startswith=LOCAL_ID_PREFIX).count()
        if foreign:
            return (f"seed_demo adopts nothing: this database holds {foreign} patient record(s) without a demo "
                    "local ID, so it is not a demo database.")
        try:
            adopt_demo_accounts(usernames=frozenset({SUPERUSER_USERNAME, *(username for username, *_ in ACCOUNTS)}))
        except ValidationError as exc:
            return "seed_demo adopts nothing: " + " ".join(exc.messages)
    strangers = get_user_model().objects.filter(created_by_demo=False).count()
    if strangers:
        return (f"seed_demo refuses to run: this database holds {strangers} account(s) the demo did not create "
                "(an operator's superuser or real staff). It only ever runs on a database of its own: use a "
                "fresh one (delete var/interpersonal.sqlite3 for `make run`'s), or `--adopt-existing-demo` for a demo "
                "database made before accounts were marked as the demo's.")
    demo = Patient.objects.filter(local_id__startswith=LOCAL_ID_PREFIX, therapist__created_by_demo=True).count()
    others = Patient.objects.count() - demo
    if others:
        return (f"seed_demo refuses to run: this database holds {others} patient record(s) the demo did not "
                "create. It only ever runs on a database of its own. (A demo database made before accounts "
                "were marked as the demo's counts as not the demo's: delete it and run `make run` again.)")
    return None


def ensure_accounts(password: str) -> tuple[dict[str, Any], list[str]]:
    """Create or update the demo team and the demo's own accounts (through the account actions);
    every password is ``password``. An account with a demo username that the demo did not create is
    left alone: (the demo's accounts, the usernames left alone). The published demo password is
    rejected by Django's validators, hence validate=False."""
    team, _ = Team.objects.get_or_create(name=TEAM_NAME)
    users: dict[str, Any] = {}
    skipped: list[str] = []
    ordered = sorted(ACCOUNTS, key=lambda a: a[1] != Role.SUPERVISOR)  # supervisors first
    try:
        users[SUPERUSER_USERNAME] = ensure_superuser(
            username=SUPERUSER_USERNAME, password=password, email=f"{SUPERUSER_USERNAME}@demo.example.org",
            validate=False, demo=True).user
    except NotADemoAccount:
        skipped.append(SUPERUSER_USERNAME)
    for username, role, first, last in ordered:
        try:
            users[username] = ensure_user(
                username=username, role=role, password=password, by=None, first_name=first, last_name=last,
                team=team, supervisor=users.get("supervisor") if role == Role.THERAPIST else None, validate=False,
                demo=True, supervised_since=timezone.localdate() - dt.timedelta(days=365),
            ).user
        except NotADemoAccount:
            skipped.append(username)
    return users, skipped


def demo_patients_exist() -> bool:
    return Patient.objects.filter(local_id__startswith=LOCAL_ID_PREFIX).exists()


def log_demo_supervision(supervisor: Any, therapists: list[Any]) -> int:
    """The demo supervisor's log (through supervision.actions): a fortnightly group session over the
    last eight weeks discussing one active case of each therapist but the last (whose cases the
    dashboard then flags as unsupervised), and an individual session with the first therapist last
    week. The number of sessions logged."""
    from interpersonal.web.supervision.actions import CaseEntry, log_session

    today = timezone.localdate()
    active = {t.pk: list(Course.objects.filter(therapist=t, status=Course.Status.ACTIVE).order_by("pk")[:2])
              for t in therapists}
    discussed = [t for t in therapists[:-1] if active[t.pk]]
    logged = 0
    if len(therapists) >= 2:
        for weeks in (8, 6, 4, 2):
            cases = [CaseEntry(course=active[t.pk][(weeks // 2) % len(active[t.pk])], minutes=15,
                               actions_agreed="Review the focus against the last two sessions.") for t in discussed]
            log_session(by=supervisor, date=today - dt.timedelta(weeks=weeks), minutes=90, format="group",
                        supervisees=therapists, cases=cases,
                        actions_agreed="Group: bring a recording of a middle-phase session next time.")
            logged += 1
    if discussed:
        first = discussed[0]
        log_session(by=supervisor, date=today - dt.timedelta(days=7), minutes=50, format="individual",
                    supervisees=[first], cases=[CaseEntry(course=c, minutes=20) for c in active[first.pk]])
        logged += 1
    return logged


class Command(BaseCommand):
    help = (
        "Seed a demo service: the team 'Demo service', one account per role (therapist1–4, supervisor, "
        f"lead, records, admin, and the superuser root) with the password from DEMO_PASSWORD (default {DEMO_DEFAULT_PASSWORD!r}), and about "
        "50 synthetic patients with referrals at every stage (awaiting triage, waiting, in treatment, stepped up, "
        "discharged), courses, sessions, measures and risk alerts, made through the actions. "
        "Idempotent: when the demo patients exist it only brings the accounts and passwords up to date. "
        f"Prints how to sign in. For demonstrations only: it runs only with {OPT_IN}=1 (set by `make run`) and "
        "refuses with the production settings or on a database holding any account or patient it did not create."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--base-url", default="http://127.0.0.1:8000", help="where the server runs (default %(default)s)"
        )
        parser.add_argument("--seed", type=int, default=SEED, help="random seed (default %(default)s)")
        parser.add_argument(
            "--adopt-existing-demo", action="store_true",
            help="a demo database made before accounts were marked as the demo's: mark them so first, only when "
                 "every account has a demo username and every patient a demo local ID",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        reason = refusal(adopt=options["adopt_existing_demo"])
        if reason is not None:
            raise CommandError(reason)
        password = os.environ.get("DEMO_PASSWORD") or DEMO_DEFAULT_PASSWORD
        with transaction.atomic():
            users, skipped = ensure_accounts(password)
        therapists = [users[f"therapist{i}"] for i in range(1, 5) if f"therapist{i}" in users]
        if demo_patients_exist():
            summary = "Demo patients already present; accounts and passwords brought up to date."
        elif not therapists:
            summary = "No demo therapist account could be made (the usernames are taken), so no demo patients."
        else:
            rng = random.Random(options["seed"])  # noqa: S311 - synthetic demo data, not security
            builder = _Builder(rng, therapists)
            with transaction.atomic():
                for plan in plan_service(rng):
                    builder.build(plan)
                for referral_plan in REFERRALS:
                    builder.build_referral(referral_plan)
                if users.get("supervisor") is not None:
                    log_demo_supervision(users["supervisor"], therapists)
            c = builder.counts
            summary = (f"Created the demo service: {c['patients']} patients ({c['awaiting_triage']} referrals "
                       f"awaiting triage, {c['waiting']} waiting), {c['courses']} courses, "
                       f"{c['sessions']} sessions, {c['measurements']} measures, {c['alerts']} risk alerts "
                       f"({time.monotonic() - started:.1f} s).")
        login_url = options["base_url"].rstrip("/") + resolve_url(settings.LOGIN_URL)
        self.stdout.write(self.style.SUCCESS(summary))
        self.stdout.write(f"Sign in at {login_url}")
        labels = dict(Role.choices)
        width = max(len(str(labels[role])) for _, role, *_ in ACCOUNTS)
        for username, role, *_ in ACCOUNTS:
            if username in users:
                self.stdout.write(f"  {labels[role]:<{width}}  username: {username:<11} password: {password}")
        if SUPERUSER_USERNAME in users:
            self.stdout.write(f"  {'Superuser':<{width}}  username: {SUPERUSER_USERNAME:<11} password: {password}"
                              "  (account changes take effect at once; use it sparingly)")
        if skipped:
            self.stdout.write(f"  Left alone (accounts the demo did not create, password unchanged): {', '.join(skipped)}")
