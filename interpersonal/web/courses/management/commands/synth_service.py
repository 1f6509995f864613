"""``manage.py synth_service``: fill a database with a large synthetic service, for benchmarks.

One referral per synthetic patient, at every stage of the pathway (docs/performance.md):

* **awaiting triage** (~4 %): received in the last three weeks; most answered the screening
  PHQ-9 and GAD-7 (scores with no course);
* **waiting** (~8 %): triaged to a step and a therapy, allocated, screened, some with an assessment
  contact (not treatment);
* **discharged before treatment** (~6 %): not suitable, signposted, advice given, assessment not
  completed or not assessed — NHS end codes 10, 11, 12, 16, 50;
* **in treatment** (~14 %): one active course with its next session booked;
* **stepped up** (~8 %): a low-intensity (step 2) course ended "stepped up" and a step-3 course
  (CBT, DIT or IPT) in the same referral, with another therapist; a third of them still active;
* **discharged after treatment** (the rest): one course, completed or dropped out.

Courses have about eight weekly sessions (a few did-not-attends and cancellations), a PHQ-9 and a
GAD-7 at every attended session plus a WSAS at the first. A few PHQ-9s answer item 9, each with its
risk alert (acknowledged unless recent). Finally every referral's outcome summary is built
(``outcomes.summaries.rebuild``, as ``manage.py rebuild_outcome_summaries`` does).

Why not through the actions (STYLE.md 5 says every state change goes through one)? This is a
bulk benchmark load, not a change anyone made: a million rows through the actions means a
million audit events, per-row locks and transactions, hours instead of a minute — and the audit
trail would then record things nobody did. So the rows are written with ``bulk_create`` in
batches, with no audit events, into a database that holds nothing else of value. The clinical
invariants the actions enforce are kept by construction: every stored score is the core
engine's ``measures.score`` of the stored answers (answer sets are scored once and drawn from a
pool), dates are in the past (bookings in the coming weeks), discharged referrals and ended courses
have an end reason, a stepped-up course continues its referral, contacts outside a course are not
treatment, attendance codes are NHS codes. Never run it against a database holding real patient data.

The first therapists carry exactly the active caseloads given by ``--bench-caseloads`` (default
10 and 40 courses, nothing else), so a benchmark can compare two caseload sizes; see
docs/performance.md.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from interpersonal.core import protocols
from interpersonal.core.codes import Attendance, EndReason, Medium
from interpersonal.web.accounts.models import Role, Team
from interpersonal.web.assessments.models import Measurement, RiskAlert
from interpersonal.web.courses.management.synthetic import ScoredPool, synthetic_nhs_numbers, trajectory
from interpersonal.web.courses.models import Course, TherapySession
from interpersonal.web.outcomes import summaries
from interpersonal.web.patients.models import Patient
from interpersonal.web.referrals.models import Referral
from interpersonal.web.supervision.models import SupervisionRelationship

TEAM_NAME = "Synthetic service"
LOCAL_ID_PREFIX = "SYN"
THERAPIST_PREFIX = "synth-t"
SUPERVISOR_PREFIX = "synth-s"
NHS_START = 100_000
"""Synthetic NHS numbers from 999 100 000x, clear of seed_demo's (999 000 00xx)."""
PROTOCOL_MIX = (("dit", 20), ("ipt", 25), ("cbt", 30), ("lit", 25))
STEP_3 = ("cbt", "dit", "ipt")
STAGES = (  # (stage, cumulative share of the referrals not in the fixed bench caseloads)
    ("awaiting_triage", 0.04), ("waiting", 0.12), ("discharged_before_treatment", 0.18),
    ("in_treatment", 0.32), ("stepped_up", 0.40), ("discharged", 1.0),
)
BEFORE_TREATMENT = (EndReason.NOT_SUITABLE, EndReason.SIGNPOSTED, EndReason.ADVICE_GIVEN,
                    EndReason.ASSESSMENT_INCOMPLETE, EndReason.NOT_ASSESSED)
KINDS = ("improving",) * 6 + ("flat",) * 3 + ("deteriorating",)
GIVEN = ("Alex", "Bailey", "Casey", "Devon", "Emery", "Frankie", "Harper", "Jordan", "Kit", "Logan",
         "Morgan", "Noel", "Parker", "Quinn", "Reese", "Sky", "Taylor", "Robin", "Sam", "Jamie")
FAMILY = ("Example", "Sample", "Specimen", "Testcase", "Madeup", "Fictional", "Synthson", "Mockley",
          "Dummyford", "Placeholder")
NOT_ATTENDED = (Attendance.DID_NOT_ATTEND.value, Attendance.CANCELLED_BY_PATIENT.value,
                Attendance.CANCELLED_BY_PROVIDER.value)
MEDIA = (Medium.FACE_TO_FACE.value,) * 6 + (Medium.VIDEO.value,) * 3 + (Medium.TELEPHONE.value,)


def synthetic_patients_exist() -> bool:
    return Patient.objects.filter(local_id__startswith=LOCAL_ID_PREFIX).exists()


class Command(BaseCommand):
    help = (
        "Fill the database with a large synthetic service for benchmarks: one referral per patient, at every "
        "stage (bulk load, no audit events; never on a database holding patient data), then build every "
        "referral's outcome summary. Deterministic for a given --seed. Refuses a database that already holds "
        "its synthetic patients."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--referrals", "--patients", dest="referrals", type=int, default=100_000,
                            help="referrals, one per patient (default %(default)s; --patients is the same)")
        parser.add_argument("--seed", type=int, default=1, help="random seed (default %(default)s)")
        parser.add_argument("--therapists", type=int, default=None, help="therapists (default referrals / 40)")
        parser.add_argument("--batch", type=int, default=2000, help="referrals per transaction (default %(default)s)")
        parser.add_argument(
            "--bench-caseloads", default="10,40",
            help="active caseloads of the first therapists, comma-separated (default %(default)s; '' for none)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        n = options["referrals"]
        if n < 1:
            raise CommandError("--referrals must be 1 or more")
        caseloads = [int(x) for x in options["bench_caseloads"].split(",") if x.strip()]
        if sum(caseloads) > n:
            caseloads = []
        therapists_n = options["therapists"] or max(1, n // 40)
        therapists_n = max(therapists_n, len(caseloads) + 1)
        if synthetic_patients_exist():
            raise CommandError("This database already holds synthetic patients; use a fresh database.")
        started = time.monotonic()
        rng = random.Random(options["seed"])  # noqa: S311 - synthetic benchmark data, not security
        therapist_ids = self._staff(therapists_n)
        loader = _Loader(rng, therapist_ids, caseloads)
        batch = max(1, options["batch"])
        for first in range(0, n, batch):
            with transaction.atomic():
                loader.load(range(first, min(n, first + batch)))
            done = min(n, first + batch)
            rate = done / max(1e-9, time.monotonic() - started)
            sys.stderr.write(f"\rsynth_service: {done}/{n} referrals, {loader.counts['measurements']} measures "
                             f"({time.monotonic() - started:.0f} s, {rate:.0f} referrals/s)")
            sys.stderr.flush()
        sys.stderr.write("\n")
        loaded = time.monotonic() - started

        def progress(done: int) -> None:
            sys.stderr.write(f"\rsynth_service: outcome summaries {done}/{n}")
            sys.stderr.flush()

        summaries.rebuild(batch=batch, progress=progress)
        sys.stderr.write("\n")
        c = loader.counts
        stages = ", ".join(f"{loader.stages[s]} {s.replace('_', ' ')}" for s, _share in STAGES)
        self.stdout.write(
            f"Created {n} patients and {n} referrals ({stages}), {c['courses']} courses ({c['active']} active), "
            f"{c['sessions']} sessions, {c['measurements']} measures, {c['alerts']} risk alerts for {therapists_n} "
            f"therapists in {loaded:.1f} s; outcome summaries in {time.monotonic() - started - loaded:.1f} s."
        )

    def _staff(self, therapists_n: int) -> list[int]:
        """The team, supervisors (one per ten therapists) and therapists; unusable passwords."""
        user_model = get_user_model()
        with transaction.atomic():
            team, _ = Team.objects.get_or_create(name=TEAM_NAME)
            unusable = make_password(None)
            supervisors = user_model.objects.bulk_create(
                user_model(username=f"{SUPERVISOR_PREFIX}{i + 1:04d}", role=Role.SUPERVISOR, team=team,
                           first_name=GIVEN[i % len(GIVEN)], last_name=f"Supervisor{i + 1}", password=unusable)
                for i in range(therapists_n // 10 + 1)
            )
            therapists = user_model.objects.bulk_create(
                (
                    user_model(username=f"{THERAPIST_PREFIX}{i + 1:05d}", role=Role.THERAPIST, team=team,
                               first_name=GIVEN[i % len(GIVEN)], last_name=f"Therapist{i + 1}", password=unusable)
                    for i in range(therapists_n)
                ),
                batch_size=1000,
            )
            # Each therapist's individual supervisor, in force for the whole synthetic history.
            since, now = timezone.localdate() - dt.timedelta(days=5 * 366), timezone.now()
            SupervisionRelationship.objects.bulk_create(
                (SupervisionRelationship(supervisor=supervisors[i // 10], supervisee=t, started=since,
                                         kind=SupervisionRelationship.Kind.INDIVIDUAL, confirmed_at=now)
                 for i, t in enumerate(therapists)),
                batch_size=1000,
            )
        return [t.pk for t in therapists]


@dataclass
class _CoursePlan:
    protocol: str
    therapist_id: int
    planned: int
    dates: list[dt.date]
    active: bool
    started_on: dt.date
    ended_on: dt.date | None = None
    reason: str = ""
    course: Course | None = None


@dataclass
class _Plan:
    stage: str
    therapist_id: int | None
    received_on: dt.date
    status: str
    therapy: str = ""
    ended_on: dt.date | None = None
    end_reason: str = ""
    courses: list[_CoursePlan] = field(default_factory=list)
    screened_on: dt.date | None = None
    assessed_on: dt.date | None = None
    referral: Referral | None = None


class _Loader:
    def __init__(self, rng: random.Random, therapist_ids: list[int], caseloads: list[int]) -> None:
        self.rng = rng
        self.therapist_ids = therapist_ids
        self.pool = ScoredPool(rng)
        self.tz = ZoneInfo(settings.TIME_ZONE)
        self.today = timezone.localdate()
        self.now = timezone.now()
        self.nhs = synthetic_nhs_numbers(NHS_START)
        self.protocols = {p: protocols.get(p) for p, _ in PROTOCOL_MIX}
        self.mix = [p for p, weight in PROTOCOL_MIX for _ in range(weight)]
        # Referrals 0..sum(caseloads)-1 are the fixed active caseloads of the first therapists.
        self.fixed: list[int] = []
        for t_index, size in enumerate(caseloads):
            self.fixed.extend([t_index] * size)
        self.free = therapist_ids[len(caseloads):]
        self.counts = {"courses": 0, "active": 0, "sessions": 0, "measurements": 0, "alerts": 0}
        self.stages: Counter[str] = Counter()

    def _stage(self, i: int) -> str:
        if i < len(self.fixed):
            return "in_treatment"
        draw = self.rng.random()
        return next(stage for stage, upto in STAGES if draw < upto)

    def _course(self, protocol: str, therapist_id: int, *, active: bool, last_ago: int | None = None,
                sessions: int | None = None) -> _CoursePlan:
        rng = self.rng
        definition = self.protocols[protocol]
        planned = definition.default_sessions or 8
        if active:
            past = rng.randint(0, min(planned - 1, 10)) if sessions is None else sessions
            last_ago = rng.randint(1, 6) if last_ago is None else last_ago
        else:
            past = sessions if sessions is not None else (
                max(2, min(planned, round(rng.gauss(8, 3)))) if definition.step == 3 else rng.randint(2, planned))
            last_ago = rng.randint(8, 700) if last_ago is None else last_ago
        dates = [self.today - dt.timedelta(days=last_ago + 7 * (past - 1 - k)) for k in range(past)]
        started_on = dates[0] if dates else self.today - dt.timedelta(days=last_ago)
        plan = _CoursePlan(protocol, therapist_id, planned, dates, active, started_on)
        if not active:
            attended_all = len(dates) >= planned - 1
            plan.ended_on = dates[-1]
            plan.reason = (EndReason.COMPLETED.value if attended_all or rng.random() < 0.6
                           else EndReason.DROPPED_OUT.value)
        return plan

    def _plan(self, i: int) -> _Plan:
        rng = self.rng
        stage = self._stage(i)
        self.stages[stage] += 1
        therapist_id = self.therapist_ids[self.fixed[i]] if i < len(self.fixed) else self.free[i % len(self.free)]
        today = self.today
        if stage in ("awaiting_triage", "waiting", "discharged_before_treatment"):
            ago = {"awaiting_triage": (0, 20), "waiting": (10, 120), "discharged_before_treatment": (20, 700)}[stage]
            received = today - dt.timedelta(days=rng.randint(*ago))
            plan = _Plan(stage, None if stage == "awaiting_triage" else therapist_id, received,
                         Referral.Status.AWAITING_TRIAGE)
            if rng.random() < 0.7:
                plan.screened_on = min(today, received + dt.timedelta(days=rng.randint(0, 6)))
            if stage == "waiting":
                plan.status, plan.therapy = Referral.Status.WAITING, rng.choice(self.mix)
                if rng.random() < 0.5:
                    plan.assessed_on = min(today, received + dt.timedelta(days=rng.randint(5, 20)))
            elif stage == "discharged_before_treatment":
                reason = rng.choice(BEFORE_TREATMENT)
                plan.status, plan.end_reason = Referral.Status.DISCHARGED, reason.value
                plan.ended_on = min(today, received + dt.timedelta(days=rng.randint(7, 60)))
                if reason != EndReason.NOT_ASSESSED and rng.random() < 0.6:
                    plan.assessed_on = min(plan.ended_on, received + dt.timedelta(days=rng.randint(3, 7)))
            return plan
        if stage == "stepped_up":
            active = rng.random() < 1 / 3
            second = self._course(rng.choice(STEP_3), self.free[(i * 7 + 3) % len(self.free)], active=active)
            first = self._course("lit", therapist_id, active=False, sessions=rng.randint(2, 5),
                                 last_ago=(today - second.started_on).days + 7)
            first.reason = EndReason.STEPPED_UP.value
            courses = [first, second]
        else:
            courses = [self._course(rng.choice(self.mix), therapist_id, active=stage == "in_treatment")]
        received = courses[0].started_on - dt.timedelta(days=rng.randint(7, 70))
        last = courses[-1]
        plan = _Plan(stage, last.therapist_id, received,
                     Referral.Status.IN_TREATMENT if last.active else Referral.Status.DISCHARGED,
                     therapy=courses[0].protocol, courses=courses)
        if not last.active:
            plan.ended_on, plan.end_reason = last.ended_on, last.reason
        if rng.random() < 0.7:
            plan.screened_on = received + dt.timedelta(days=rng.randint(0, 6))
        return plan

    def load(self, indices: range) -> None:
        rng = self.rng
        plans = [self._plan(i) for i in indices]
        patients = []
        for i, plan in zip(indices, plans, strict=True):
            patients.append(Patient(
                local_id=f"{LOCAL_ID_PREFIX}{i + 1:08d}", given_name=GIVEN[i % len(GIVEN)],
                family_name=FAMILY[(i // len(GIVEN)) % len(FAMILY)],
                date_of_birth=dt.date(rng.randint(1950, 2005), rng.randint(1, 12), rng.randint(1, 28)),
                nhs_number=next(self.nhs, None), therapist_id=plan.therapist_id,
            ))
        Patient.objects.bulk_create(patients, batch_size=1000)

        for patient, plan in zip(patients, plans, strict=True):
            plan.referral = Referral(
                patient_id=patient.pk, source=rng.choice(("gp", "gp", "self", "self", "primary_care")),
                received_on=plan.received_on, therapist_id=plan.therapist_id, status=plan.status,
                ended_on=plan.ended_on, end_reason=plan.end_reason, therapy=plan.therapy,
                step=self.protocols[plan.therapy].step if plan.therapy else None,
            )
        Referral.objects.bulk_create([p.referral for p in plans], batch_size=1000)

        for position in (0, 1):  # the first courses, then the stepped-up ones (which name them)
            batch = []
            for plan in plans:
                if len(plan.courses) <= position:
                    continue
                c = plan.courses[position]
                c.course = Course(
                    patient_id=plan.referral.patient_id, referral_id=plan.referral.pk, protocol=c.protocol,
                    therapist_id=c.therapist_id, planned_sessions=c.planned, started_on=c.started_on,
                    status=Course.Status.ACTIVE if c.active else Course.Status.ENDED, ended_on=c.ended_on,
                    end_reason=c.reason, stepped_from=plan.courses[0].course if position else None,
                )
                batch.append(c.course)
            Course.objects.bulk_create(batch, batch_size=1000)
            self.counts["courses"] += len(batch)
            self.counts["active"] += sum(1 for c in batch if c.status == Course.Status.ACTIVE)

        sessions: list[TherapySession] = []
        visits: list[tuple[_Plan, _CoursePlan | None, dt.datetime, bool]] = []  # (referral, course, time, attended)
        for p_no, plan in enumerate(plans):
            hour = 9 + p_no % 8
            referral_id = plan.referral.pk
            if plan.assessed_on is not None:  # an assessment contact: not treatment, in no course
                when = dt.datetime.combine(plan.assessed_on, dt.time(hour), tzinfo=self.tz)
                code = Attendance.ATTENDED_ON_TIME.value if rng.random() > 0.15 else Attendance.DID_NOT_ATTEND.value
                sessions.append(TherapySession(referral_id=referral_id, course=None, treatment=False, scheduled_at=when,
                                               attendance=code, duration_minutes=50 if code == 5 else None,
                                               medium=rng.choice(MEDIA), recorded_by_id=plan.therapist_id))
                visits.append((plan, None, when, False))
            for c in plan.courses:
                duration = 30 if c.protocol == "lit" else 50
                for v_no, day in enumerate(c.dates):
                    when = dt.datetime.combine(day, dt.time(hour), tzinfo=self.tz)
                    code = Attendance.ATTENDED_ON_TIME.value if v_no == 0 or rng.random() > 0.1 else rng.choice(NOT_ATTENDED)
                    attended = code == Attendance.ATTENDED_ON_TIME.value
                    sessions.append(TherapySession(
                        referral_id=referral_id, course=c.course, scheduled_at=when, attendance=code,
                        duration_minutes=duration if attended else None, medium=rng.choice(MEDIA),
                        recorded_by_id=c.therapist_id,
                    ))
                    visits.append((plan, c, when, attended))
                if c.active:
                    last = c.dates[-1] if c.dates else c.started_on
                    booked = dt.datetime.combine(last + dt.timedelta(days=7), dt.time(hour), tzinfo=self.tz)
                    sessions.append(TherapySession(referral_id=referral_id, course=c.course, scheduled_at=booked,
                                                   attendance=None, duration_minutes=duration, medium=rng.choice(MEDIA),
                                                   recorded_by_id=c.therapist_id))
                    visits.append((plan, c, booked, False))
        TherapySession.objects.bulk_create(sessions, batch_size=2000)
        self.counts["sessions"] += len(sessions)

        measurements: list[Measurement] = []
        risky: list[tuple[int, bool]] = []  # (index in measurements, acknowledged)
        trajectories: dict[int, tuple[list[int], list[int]]] = {}
        seen: dict[int, int] = {}

        def scores_of(plan: _Plan) -> tuple[list[int], list[int]]:
            key = id(plan)
            if key not in trajectories:
                kind = rng.choice(KINDS)
                n = 1 + sum(len(c.dates) for c in plan.courses)
                # An ended pathway has run its course (the change spread over its sessions); an
                # active one is part of the way through its planned sessions.
                active = bool(plan.courses) and plan.courses[-1].active
                span = max(2, sum(c.planned for c in plan.courses)) if active else max(2, n)
                trajectories[key] = (trajectory(rng, kind, rng.randint(8, 22), n, span=span),
                                     trajectory(rng, kind, rng.randint(6, 18), n, span=span, ceiling=21))
            return trajectories[key]

        def add(plan: _Plan, course: Course | None, session: TherapySession | None, instrument: str, total: int,
                at: dt.datetime, with_risk: bool, recent: bool) -> None:
            answers, score = self.pool.draw(instrument, total, risk=with_risk)
            if score.risk:
                risky.append((len(measurements), not recent))
            measurements.append(Measurement(
                referral_id=plan.referral.pk, course=course, session=session, instrument=instrument, answers=answers,
                total=score.total, severity=score.severity or "", caseness=score.caseness, complete=score.complete,
                prorated=score.prorated, risk=list(score.risk), recorded_at=at,
                recorded_by_id=course.therapist_id if course is not None else None,
                source=Measurement.Source.CLINICIAN if course is not None else Measurement.Source.PATIENT,
            ))

        for plan in plans:  # screening: answered by the patient before any course (no risk drawn)
            if plan.screened_on is not None:
                phq, gad = scores_of(plan)
                at = dt.datetime.combine(plan.screened_on, dt.time(19, 30), tzinfo=self.tz)
                for instrument, total in (("phq9", phq[0]), ("gad7", gad[0])):
                    add(plan, None, None, instrument, total, at, False, False)
        for session, (plan, c, when, attended) in zip(sessions, visits, strict=True):
            if not attended or c is None:
                continue
            phq, gad = scores_of(plan)
            k = seen.get(id(plan), 0) + 1
            seen[id(plan)] = k
            at = when + dt.timedelta(minutes=45)
            recent = c.active and at >= self.now - dt.timedelta(days=14)
            add(plan, c.course, session, "phq9", phq[min(k, len(phq) - 1)], at, rng.random() < 0.01, recent)
            add(plan, c.course, session, "gad7", gad[min(k, len(gad) - 1)], at, False, recent)
            if k == 1:
                add(plan, c.course, session, "wsas", rng.randint(10, 32), at, False, recent)
        Measurement.objects.bulk_create(measurements, batch_size=2000)
        self.counts["measurements"] += len(measurements)

        alerts = []
        for index, acknowledged in risky:
            m = measurements[index]
            alerts.append(RiskAlert(
                measurement_id=m.pk, referral_id=m.referral_id, course_id=m.course_id, items=m.risk, raised_at=m.recorded_at,
                acknowledged_at=m.recorded_at + dt.timedelta(hours=2) if acknowledged else None,
                acknowledged_by_id=m.recorded_by_id if acknowledged else None,
                note="Risk assessed; safety plan reviewed." if acknowledged else "",
            ))
        RiskAlert.objects.bulk_create(alerts, batch_size=2000)
        self.counts["alerts"] += len(alerts)
