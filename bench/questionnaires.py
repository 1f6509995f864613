"""Patients submitting questionnaire links: throughput and latency relative to a trivial view.

Run by ``make bench`` (``python bench/questionnaires.py``). For SQLite (a fresh
var/bench/questionnaires.sqlite3) and, when it answers, PostgreSQL (a fresh database
``interpersonal_bench_questionnaires``):

1. migrate, and in a subprocess with Django on that database issue ``--links`` links
   (PHQ-9 + GAD-7) through the actions — each link is used once;
2. start the real server (gunicorn, INTERPERSONAL_DEBUG unset, production settings);
3. with ``--clients`` (50) client threads, each on its own http.client connection and all
   released together, three phases in the same run:
   - ``healthz``: GET /healthz (the trivial view: no session, SELECT 1), five requests per link;
   - ``answers``: POST every answer on each link's all-questions page (saved as its draft);
   - ``submit``: POST /q/<token>/submit/ — score, record both measures, raise any risk alert
     and close the link, in one transaction under a row lock. Only this POST is timed as a
     submission; a submission counts when it answers 302 to the done page;
4. print throughput (requests/s over the phase's wall time) and p50/p95, with their ratios to
   /healthz; then check the database: one submitted link and two measurements per success.

The patient pages are CSRF-exempt and set no cookie (the token in the path is the credential),
so no page is fetched first. Absolute times depend on the machine; the ratios are the result
(STYLE.md 18).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import random
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

try:  # `python bench/questionnaires.py` (the Makefile) or `python -m bench…`
    from clinic import free_port, percentile
except ImportError:  # pragma: no cover - imported as part of the bench package
    from bench.clinic import free_port, percentile

ROOT = Path(__file__).resolve().parents[1]
VAR = Path(os.environ.get("BENCH_DIR", ROOT / "var" / "bench"))
PYTHON = sys.executable
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_NAME = "interpersonal_bench_questionnaires"
PG_URL = os.environ.get("BENCH_QUESTIONNAIRES_PG_URL", f"postgres://postgres@127.0.0.1:5432/{PG_NAME}")
BUNDLE = ("phq9", "gad7")


# --- in the subprocess: Django on the benchmark database -------------------------------------

def prepare(links: int) -> None:
    """Print JSON: the tokens of ``links`` new links of one course."""
    import datetime as dt

    import django

    django.setup()
    from django.utils import timezone

    from interpersonal.web.accounts.models import User
    from interpersonal.web.courses.actions import start_course
    from interpersonal.web.patients.actions import register_patient
    from interpersonal.web.questionnaires.actions import issue_link

    therapist = User.objects.create_user(username="bench.links", password=None, role="therapist",
                                         first_name="Bea", last_name="Bench")
    patient = register_patient(by=therapist, given_name="Quinn", family_name="Synthetic",
                               date_of_birth=dt.date(1990, 1, 1), referral_source="self",
                               referral_date=timezone.localdate() - dt.timedelta(days=30))
    course = start_course(patient=patient, protocol="ipt", therapist=therapist, by=therapist,
                          started_on=timezone.localdate() - dt.timedelta(days=14))
    tokens = [issue_link(course=course, instruments=BUNDLE, by=therapist)[1] for _ in range(links)]
    print(json.dumps(tokens))


def count() -> None:
    """Print JSON: submitted links and patient-answered measurements."""
    import django

    django.setup()
    from interpersonal.web.assessments.models import Measurement
    from interpersonal.web.questionnaires.models import QuestionnaireLink

    print(json.dumps({"submitted": QuestionnaireLink.objects.filter(submitted_at__isnull=False).count(),
                      "measurements": Measurement.objects.filter(questionnaire_link__isnull=False).count()}))


# --- in the bench process: no Django ---------------------------------------------------------

def run(args: list[str], env: dict[str, str], timeout: float, capture: bool = False) -> str:
    done = subprocess.run(args, env=env, cwd=ROOT, timeout=timeout, check=True, text=True,
                          stdout=subprocess.PIPE if capture else None)
    return done.stdout or ""


@dataclass
class Database:
    name: str
    url: str


def fresh_sqlite() -> Database:
    path = VAR / "questionnaires.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return Database("SQLite", f"sqlite:///{path}")


def fresh_postgres() -> Database | None:
    try:
        import psycopg
    except ImportError:
        print("PostgreSQL: psycopg is not installed; skipped.")
        return None
    try:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{PG_NAME}"')
    except psycopg.Error as exc:
        print(f"PostgreSQL at {PG_ADMIN_URL} does not answer ({str(exc).strip().splitlines()[0]}); skipped.")
        return None
    return Database("PostgreSQL", PG_URL)


def answers(rng: random.Random) -> dict[str, int]:
    """Every item of PHQ-9 (10 items, the last unscored) and GAD-7 (8): a value 0–3, item 9 mostly 0."""
    fields = {f"phq9-{i}": rng.randint(0, 3) for i in range(1, 11)}
    fields.update({f"gad7-{i}": rng.randint(0, 3) for i in range(1, 9)})
    fields["phq9-9"] = 1 if rng.random() < 0.1 else 0
    return fields


@dataclass
class Phase:
    latencies: list[float]
    errors: int
    seconds: float

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else float("nan")


def phase(port: int, clients: int, jobs: list[tuple[str, str, dict[str, int] | None, int]]) -> Phase:
    """``jobs`` (method, path, form fields, expected status) shared by ``clients`` threads released
    together; each request is timed; the phase's wall time runs from release to the last answer."""
    work: queue.SimpleQueue[tuple[str, str, dict[str, int] | None, int]] = queue.SimpleQueue()
    for job in jobs:
        work.put(job)
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    gate = threading.Barrier(clients + 1)

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        mine: list[float] = []
        failed = 0
        gate.wait()
        while True:
            try:
                method, path, fields, expected = work.get_nowait()
            except queue.Empty:
                break
            body = urllib.parse.urlencode(fields) if fields is not None else None
            headers = {"Content-Type": "application/x-www-form-urlencoded"} if body is not None else {}
            started = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
            except (http.client.HTTPException, OSError):
                conn.close()
                failed += 1
                continue
            elapsed = time.perf_counter() - started
            if response.status == expected:
                mine.append(elapsed)
            else:
                failed += 1
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    pool = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    for t in pool:
        t.start()
    gate.wait()
    started = time.perf_counter()
    for t in pool:
        t.join(600)
    return Phase(latencies, errors[0], time.perf_counter() - started)


def serve_and_measure(db: Database, env: dict[str, str], tokens: list[str], args: argparse.Namespace) -> list[str]:
    port = free_port()
    server = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "interpersonal.web.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(args.workers), "--threads", "1", "--backlog", "2048", "--log-level", "warning"],
        env=env, cwd=ROOT, start_new_session=True,
    )
    rng = random.Random(1)
    try:
        for _ in range(150):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        n = len(tokens)
        phase(port, args.clients, [("GET", "/healthz", None, 200)] * (2 * args.clients))  # warm every worker
        results = {
            # the trivial view is ~20× faster: 5× the requests, so its phase lasts long enough to measure
            "healthz": phase(port, args.clients, [("GET", "/healthz", None, 200)] * (5 * n)),
            "answers": phase(port, args.clients, [("POST", f"/q/{t}/all/", answers(rng), 302) for t in tokens]),
            "submit": phase(port, args.clients, [("POST", f"/q/{t}/submit/", {}, 302) for t in tokens]),
        }
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    stored = json.loads(run([PYTHON, __file__, "--count"], env, 120, capture=True).strip().splitlines()[-1])
    hz = results["healthz"]
    hz50, hz95 = percentile([x * 1000 for x in hz.latencies], 50), percentile([x * 1000 for x in hz.latencies], 95)
    lines = [
        f"{db.name}: {args.clients} client threads, gunicorn --workers {args.workers} --threads 1, {n} links "
        "(PHQ-9 + GAD-7), each submitted once",
        "  ratios to the trivial view /healthz (no session; SELECT 1) in the same run; "
        "tput = requests/s over the phase's wall time",
        f"  {'phase':<8} {'requests':>8} {'errors':>6} {'tput/s':>8} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'tput ×hz':>8} {'p50 ×hz':>8} {'p95 ×hz':>8}",
    ]
    for name, result in results.items():
        ms = [x * 1000 for x in result.latencies]
        p50, p95 = percentile(ms, 50), percentile(ms, 95)
        lines.append(f"  {name:<8} {len(ms):>8} {result.errors:>6} {result.throughput:>8.1f} {p50:>8.1f} {p95:>8.1f} "
                     f"{result.throughput / hz.throughput:>8.2f} {p50 / hz50:>8.2f} {p95 / hz95:>8.2f}")
    ok = len(results["submit"].latencies)
    consistent = stored["submitted"] == ok and stored["measurements"] == len(BUNDLE) * ok
    lines.append(f"  database after the run: {stored['submitted']} links submitted, {stored['measurements']} "
                 f"measurements — {'consistent with' if consistent else 'DIFFERS FROM'} {ok} acknowledged submissions")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--links", type=int, default=1000, help="submissions per database (default %(default)s)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--prepare", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--count", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare is not None:
        prepare(args.prepare)
        return 0
    if args.count:
        count()
        return 0
    VAR.mkdir(parents=True, exist_ok=True)
    base_env = {k: v for k, v in os.environ.items() if k != "INTERPERSONAL_DEBUG"}
    base_env.setdefault("SECRET_KEY", "bench-" + secrets.token_urlsafe(40))
    base_env.update(DJANGO_SETTINGS_MODULE="interpersonal.web.settings", ALLOWED_HOSTS="127.0.0.1,localhost",
                    PYTHONPATH=str(ROOT))
    try:  # the server (no debug) serves static files from the collected manifest
        run([PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"], base_env, 300, capture=True)
    except subprocess.CalledProcessError:
        print("NOTICE: collectstatic failed (see above); the server runs with bench/support/static_fallback_settings.py.")
        base_env["DJANGO_SETTINGS_MODULE"] = "bench.support.static_fallback_settings"
    databases = []
    if args.only != "postgresql":
        databases.append(fresh_sqlite())
    if args.only != "sqlite" and (pg := fresh_postgres()) is not None:
        databases.append(pg)
    report: list[str] = []
    for db in databases:
        env = {**base_env, "DATABASE_URL": db.url}
        run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"], env, 600)
        tokens = json.loads(run([PYTHON, __file__, "--prepare", str(args.links)], env, 600, capture=True)
                            .strip().splitlines()[-1])
        report.extend(serve_and_measure(db, env, tokens, args))
    print("\n".join(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
