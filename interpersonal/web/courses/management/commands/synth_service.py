"""``manage.py synth_service``: fill a database with a large synthetic service, for benchmarks.

Each synthetic patient gets one course (about 1 in 6 still active, the rest ended), about
eight weekly sessions (a few did-not-attends and cancellations; active courses have their
next session booked) and a PHQ-9 and a GAD-7 at every attended session, plus a WSAS at the
first. A few PHQ-9s answer item 9, each with its risk alert (acknowledged unless recent).

Why not through the actions (STYLE.md 5 says every state change goes through one)? This is a
bulk benchmark load, not a change anyone made: a million rows through the actions means a
million audit events, per-row locks and transactions, hours instead of a minute — and the audit
trail would then record things nobody did. So the rows are written with ``bulk_create`` in
batches, with no audit events, into a database that holds nothing else of value. The clinical
invariants the actions enforce are kept by construction: every stored score is the core
engine's ``measures.score`` of the stored answers (answer sets are scored once and drawn from a
pool), dates are in the past (bookings in the coming weeks), ended courses have an end reason,
attendance codes are NHS codes. Never run it against a database holding real patient data.

The first therapists carry exactly the active caseloads given by ``--bench-caseloads`` (default
10 and 40 courses, nothing else), so a benchmark can compare two caseload sizes; see
docs/performance.md.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import time
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
from interpersonal.web.patients.models import Patient
from interpersonal.web.referrals.models import Referral

TEAM_NAME = "Synthetic service"
LOCAL_ID_PREFIX = "SYN"
THERAPIST_PREFIX = "synth-t"
SUPERVISOR_PREFIX = "synth-s"
NHS_START = 100_000
"""Synthetic NHS numbers from 999 100 000x, clear of seed_demo's (999 000 00xx)."""
PROTOCOL_MIX = (("dit", 20), ("ipt", 25), ("cbt", 30), ("lit", 25))
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
        "Fill the database with a large synthetic service for benchmarks (bulk load, no audit events; "
        "never on a database holding patient data). Deterministic for a given --seed. "
        "Refuses a database that already holds its synthetic patients."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--patients", type=int, default=100_000, help="patients (default %(default)s)")
        parser.add_argument("--seed", type=int, default=1, help="random seed (default %(default)s)")
        parser.add_argument("--therapists", type=int, default=None, help="therapists (default patients / 40)")
        parser.add_argument("--batch", type=int, default=2000, help="patients per transaction (default %(default)s)")
        parser.add_argument(
            "--bench-caseloads", default="10,40",
            help="active caseloads of the first therapists, comma-separated (default %(default)s; '' for none)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        n = options["patients"]
        if n < 1:
            raise CommandError("--patients must be 1 or more")
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
            sys.stderr.write(f"\rsynth_service: {done}/{n} patients, {loader.counts['measurements']} measures "
                             f"({time.monotonic() - started:.0f} s, {rate:.0f} patients/s)")
            sys.stderr.flush()
        sys.stderr.write("\n")
        c = loader.counts
        self.stdout.write(
            f"Created {n} patients, {c['courses']} courses ({c['active']} active), {c['sessions']} sessions, "
            f"{c['measurements']} measures, {c['alerts']} risk alerts for {therapists_n} therapists "
            f"in {time.monotonic() - started:.1f} s."
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
                               first_name=GIVEN[i % len(GIVEN)], last_name=f"Therapist{i + 1}", password=unusable,
                               supervisor=supervisors[i // 10])
                    for i in range(therapists_n)
                ),
                batch_size=1000,
            )
        return [t.pk for t in therapists]


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
        # Patients 0..sum(caseloads)-1 are the fixed active caseloads of the first therapists.
        self.fixed: list[int] = []
        for t_index, size in enumerate(caseloads):
            self.fixed.extend([t_index] * size)
        self.free_from = len(caseloads)
        self.counts = {"courses": 0, "active": 0, "sessions": 0, "measurements": 0, "alerts": 0}

    def _therapist_and_active(self, i: int) -> tuple[int, bool]:
        if i < len(self.fixed):
            return self.therapist_ids[self.fixed[i]], True
        free = self.therapist_ids[self.free_from:]
        return free[i % len(free)], self.rng.random() < 1 / 6

    def load(self, indices: range) -> None:
        rng = self.rng
        plans = []
        patients = []
        for i in indices:
            therapist_id, active = self._therapist_and_active(i)
            protocol = rng.choice(self.mix)
            definition = self.protocols[protocol]
            planned = definition.default_sessions or 8
            if active:
                past = rng.randint(0, min(planned - 1, 10))
                last_ago = rng.randint(1, 6)
            else:
                past = max(2, min(planned, round(rng.gauss(8, 3)))) if definition.step == 3 else rng.randint(2, planned)
                last_ago = rng.randint(8, 700)
            dates = [self.today - dt.timedelta(days=last_ago + 7 * (past - 1 - k)) for k in range(past)]
            started_on = dates[0] if dates else self.today - dt.timedelta(days=last_ago)
            plans.append((therapist_id, active, protocol, planned, dates, started_on))
            nhs = next(self.nhs, None)
            patients.append(Patient(
                local_id=f"{LOCAL_ID_PREFIX}{i + 1:08d}", given_name=GIVEN[i % len(GIVEN)],
                family_name=FAMILY[(i // len(GIVEN)) % len(FAMILY)],
                date_of_birth=dt.date(rng.randint(1950, 2005), rng.randint(1, 12), rng.randint(1, 28)),
                nhs_number=nhs, therapist_id=therapist_id,
            ))
        Patient.objects.bulk_create(patients, batch_size=1000)

        referrals, endings = [], []
        for patient, (therapist_id, active, protocol, planned, dates, started_on) in zip(patients, plans, strict=True):
            ended_on = None if active else dates[-1]
            attended_all = len(dates) >= planned - 1
            reason = "" if active else (
                EndReason.COMPLETED.value if attended_all or rng.random() < 0.6 else EndReason.DROPPED_OUT.value
            )
            endings.append((ended_on, reason))
            referrals.append(Referral(
                patient_id=patient.pk, source=rng.choice(("gp", "gp", "self", "self", "primary_care")),
                received_on=started_on - dt.timedelta(days=rng.randint(7, 70)), therapist_id=therapist_id,
                status=Referral.Status.IN_TREATMENT if active else Referral.Status.DISCHARGED,
                ended_on=ended_on, end_reason=reason, therapy=protocol, step=self.protocols[protocol].step,
            ))
        Referral.objects.bulk_create(referrals, batch_size=1000)

        courses = []
        for referral, (ended_on, reason), (therapist_id, active, protocol, planned, _dates, started_on) in zip(
            referrals, endings, plans, strict=True
        ):
            courses.append(Course(
                patient_id=referral.patient_id, referral_id=referral.pk, protocol=protocol, therapist_id=therapist_id, planned_sessions=planned,
                started_on=started_on, status=Course.Status.ACTIVE if active else Course.Status.ENDED,
                ended_on=ended_on, end_reason=reason,
            ))
        Course.objects.bulk_create(courses, batch_size=1000)
        self.counts["courses"] += len(courses)
        self.counts["active"] += sum(1 for p in plans if p[1])

        sessions: list[TherapySession] = []
        session_plan: list[tuple[int, int, dt.datetime, bool]] = []  # (course no., visit no., time, attended)
        for c_no, (course, (therapist_id, active, _protocol, _planned, dates, _started)) in enumerate(
            zip(courses, plans, strict=True)
        ):
            hour = 9 + c_no % 8
            duration = 30 if course.protocol == "lit" else 50
            for v_no, day in enumerate(dates):
                when = dt.datetime.combine(day, dt.time(hour), tzinfo=self.tz)
                code = Attendance.ATTENDED_ON_TIME.value if v_no == 0 or rng.random() > 0.1 else rng.choice(NOT_ATTENDED)
                attended = code == Attendance.ATTENDED_ON_TIME.value
                sessions.append(TherapySession(
                    referral_id=course.referral_id, course_id=course.pk, scheduled_at=when, attendance=code,
                    duration_minutes=duration if attended else None, medium=rng.choice(MEDIA),
                    recorded_by_id=therapist_id,
                ))
                session_plan.append((c_no, v_no, when, attended))
            if active:
                last = dates[-1] if dates else plans[c_no][5]
                booked = dt.datetime.combine(last + dt.timedelta(days=7), dt.time(hour), tzinfo=self.tz)
                sessions.append(TherapySession(referral_id=course.referral_id, course_id=course.pk, scheduled_at=booked, attendance=None,
                                               duration_minutes=duration, medium=rng.choice(MEDIA),
                                               recorded_by_id=therapist_id))
                session_plan.append((c_no, len(dates), booked, False))
        TherapySession.objects.bulk_create(sessions, batch_size=2000)
        self.counts["sessions"] += len(sessions)

        measurements: list[Measurement] = []
        risky: list[tuple[int, bool]] = []  # (index in measurements, acknowledged)
        trajectories: dict[int, tuple[list[int], list[int]]] = {}
        seen: dict[int, int] = {}
        for session, (c_no, _v_no, when, attended) in zip(sessions, session_plan, strict=True):
            if not attended:
                continue
            course = courses[c_no]
            therapist_id = course.therapist_id
            if c_no not in trajectories:
                kind = rng.choice(KINDS)
                n = len(plans[c_no][4])
                trajectories[c_no] = (
                    trajectory(rng, kind, rng.randint(12, 22), n, span=course.planned_sessions),
                    trajectory(rng, kind, rng.randint(8, 18), n, span=course.planned_sessions, ceiling=21),
                )
            phq, gad = trajectories[c_no]
            k = seen.get(c_no, 0)
            seen[c_no] = k + 1
            at = when + dt.timedelta(minutes=45)
            risk = rng.random() < 0.01
            draws = [("phq9", phq[k], risk), ("gad7", gad[k], False)]
            if k == 0:
                draws.append(("wsas", rng.randint(10, 32), False))
            for instrument, total, with_risk in draws:
                answers, score = self.pool.draw(instrument, total, risk=with_risk)
                if score.risk:
                    risky.append((len(measurements), not plans[c_no][1] or at < self.now - dt.timedelta(days=14)))
                measurements.append(Measurement(
                    referral_id=course.referral_id, course_id=course.pk, session_id=session.pk, instrument=instrument, answers=answers,
                    total=score.total, severity=score.severity or "", caseness=score.caseness,
                    complete=score.complete, prorated=score.prorated, risk=list(score.risk), recorded_at=at,
                    recorded_by_id=therapist_id,
                ))
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
