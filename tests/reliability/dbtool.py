"""Django on the reliability test's own database, run in a subprocess (not by pytest).

    DATABASE_URL=... SECRET_KEY=... python tests/reliability/dbtool.py seed --links 220
    DATABASE_URL=... SECRET_KEY=... python tests/reliability/dbtool.py count

``seed`` migrates, collects the static files, creates a therapist, a patient with an active course and N questionnaire
links (PHQ-9 + GAD-7) through the actions, and prints JSON ``[[link id, token], ...]``.
``count`` prints JSON: per link its state and measurements, plus the orphans, the database's
own integrity check and the audit trail (events per link submission, events still unsealed).
``audit`` seals what a crash left unsealed and verifies the hash chain, as ``interpersonal audit
verify`` does, and prints JSON: how many it sealed, the events chained and the problems found. The pytest process keeps its own (pytest-django) test database, so the
server under test and these commands share a file or database that pytest never touches.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections import Counter

BUNDLE = ("phq9", "gad7")


def seed(links: int) -> list[list[object]]:
    from django.core.management import call_command
    from django.utils import timezone

    from interpersonal.web.accounts.models import User
    from interpersonal.web.courses.actions import record_session, start_course
    from interpersonal.web.patients.actions import register_patient
    from interpersonal.web.questionnaires.actions import issue_link

    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # as a deployment does (manifest storage)
    therapist = User.objects.create_user(username="rita.reliability", password=None, role="therapist",
                                         first_name="Rita", last_name="Reliability")
    patient = register_patient(
        by=therapist, given_name="Robin", family_name="Synthetic", date_of_birth=dt.date(1988, 5, 1),
        received_on=timezone.localdate() - dt.timedelta(days=30), source="gp",
    )
    course = start_course(patient=patient, protocol="dit", therapist=therapist, by=therapist,
                          started_on=timezone.localdate() - dt.timedelta(days=14))
    out = []
    first = timezone.now().replace(hour=10, minute=0, second=0, microsecond=0) + dt.timedelta(days=1)
    for n in range(links):  # one open link per session (issue 14): each link for a booked session of its own
        session = record_session(course=course, by=therapist, attendance=None, duration_minutes=50,
                                 scheduled_at=first + dt.timedelta(days=n))
        link, token = issue_link(course=course, instruments=BUNDLE, by=therapist, session=session)
        out.append([link.pk, token])
    return out


def count() -> dict[str, object]:
    from django.db import connection
    from django.db.models import Count

    from interpersonal.web.assessments.models import Measurement, RiskAlert
    from interpersonal.web.audit.models import AuditEvent
    from interpersonal.web.questionnaires.models import QuestionnaireLink

    links = {}
    for link in QuestionnaireLink.objects.order_by("pk"):
        links[str(link.pk)] = {"submitted": link.submitted_at is not None, "instruments": [], "totals": {}}
    for m in Measurement.objects.filter(questionnaire_link__isnull=False).order_by("pk"):
        entry = links[str(m.questionnaire_link_id)]
        entry["instruments"].append(m.instrument)
        entry["totals"][m.instrument] = m.total
    by_link_instrument = (Measurement.objects.filter(questionnaire_link__isnull=False)
                          .values("questionnaire_link", "instrument").annotate(n=Count("id")).filter(n__gt=1).count())
    orphans = (Measurement.objects.filter(source=Measurement.Source.PATIENT, questionnaire_link__isnull=True).count()
               + Measurement.objects.filter(questionnaire_link__submitted_at__isnull=True,
                                            questionnaire_link__isnull=False).count())
    integrity = "n/a"
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            integrity = cursor.execute("PRAGMA integrity_check").fetchone()[0]
    submitted_events = Counter(AuditEvent.objects.filter(type="questionnaire_link.submitted")
                               .values_list("target_id", flat=True))
    for link_id, entry in links.items():
        entry["submitted_events"] = submitted_events.get(link_id, 0)
    return {
        "links": links,
        "audit_unsealed": AuditEvent.objects.filter(seq__isnull=True).count(),
        "measurements": Measurement.objects.count(),
        "risk_alerts": RiskAlert.objects.count(),
        "duplicate_link_instrument_pairs": by_link_instrument,
        "orphan_measurements": orphans,
        "integrity_check": integrity,
    }


def audit() -> dict[str, object]:
    from interpersonal.web.audit import chain, log

    sealed = log.seal_pending()
    summary = chain.Summary()
    problems = chain.verify(summary)
    return {"sealed": sealed, "events": summary.count, "unsealed": summary.unsealed,
            "problems": [str(p) for p in problems]}


def main(argv: list[str]) -> int:
    if not os.environ.get("DATABASE_URL"):
        print("dbtool: set DATABASE_URL (this tool never touches the default database)", file=sys.stderr)
        return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "interpersonal.web.settings")  # the test passes its own
    import django

    django.setup()
    if argv[1:2] == ["seed"]:
        print(json.dumps(seed(int(argv[argv.index("--links") + 1]) if "--links" in argv else 220)))
    elif argv[1:2] == ["count"]:
        print(json.dumps(count()))
    elif argv[1:2] == ["audit"]:
        print(json.dumps(audit()))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
