"""The outcomes dashboard on 100,000 referrals: latency of /outcomes/ against trivial views, per database.

Run by ``make bench`` (``python bench/dashboard.py``). Issue 13's goal: **/outcomes/ p95 ≤ 0.5 s on
a database of 100,000 referrals on PostgreSQL**, answered from the per-referral summaries kept at
write time. For PostgreSQL (database ``interpersonal_bench_dashboard``, created if missing;
``BENCH_DASHBOARD_PG_URL`` / ``BENCH_PG_ADMIN_URL`` to change) and, with ``--sqlite``, SQLite:

1. migrate, and fill with ``synth_service --referrals N`` (referrals at every stage, summaries built;
   reused while var/bench/dashboard-<db>.marker matches);
2. in a subprocess with Django set up on that database: a service lead signed in past the second
   factor (a session built with ``SessionStore``, as bench/clinic.py does), the queries each page
   costs, one in-process timing of each page, and — the straightforward baseline the summaries
   replace — one run of ``service.report`` + ``service.funnel`` over ``from_database()`` (what the
   task worker did per set of filters before issue 13; ``--no-core`` skips it);
3. the real server (gunicorn, 4 sync workers, INTERPERSONAL_DEBUG unset) and ``--threads`` clients
   (default 4: a dashboard has a handful of readers at once, not a clinic's worth) on keep-alive
   connections, for a bounded time per page: ``/healthz``, ``/accounts/me/`` (the signed-in trivial
   view), ``/outcomes/`` without filters, with a period (its contacts counted across the period's
   ends), with therapy + provider + period, the therapist table sorted and paged, and a CSV;
4. p50/p95 per page, their ratios to the trivial views measured in the same run (STYLE.md 18), and
   whether each /outcomes/ page met p95 ≤ 0.5 s. Exit 1 if a page answered with an error.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.clinic import VAR, Database, free_port, load, percentile, run  # noqa: E402

PYTHON = sys.executable
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_URL = os.environ.get("BENCH_DASHBOARD_PG_URL", "postgres://postgres@127.0.0.1:5432/interpersonal_bench_dashboard")
SEED = 1
LEAD = "bench-lead"
GOAL_P95_MS = 500.0


# --- in the subprocess: Django on the benchmark database -------------------------------------

def pages(today: str) -> dict[str, str]:
    """The pages to load: label → URL (``today`` an ISO date, so that periods follow the data)."""
    import datetime as dt

    day = dt.date.fromisoformat(today)
    since, until = (day - dt.timedelta(days=365)).isoformat(), (day - dt.timedelta(days=30)).isoformat()
    return {
        "healthz": "/healthz",
        "me": "/accounts/me/",
        "outcomes": "/outcomes/",
        "period": f"/outcomes/?since={since}&until={until}",
        "filtered": f"/outcomes/?since={since}&therapy=dit&provider={urllib.parse.quote('Synthetic service')}",
        "table": "/outcomes/?sort=-rate&page=7",
        "csv": "/outcomes/by_month.csv",
    }


def prepare(core: bool) -> None:
    """Print JSON: the lead's session cookie, the URLs, query counts and in-process timings."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from interpersonal.web.outcomes.models import ReferralSummary

    lead, _ = get_user_model().objects.get_or_create(username=LEAD, defaults={
        "role": "service_lead", "first_name": "Bench", "last_name": "Lead"})
    device, _ = TOTPDevice.objects.get_or_create(user=lead, name="bench", defaults={"confirmed": True})
    urls = pages(timezone.localdate().isoformat())

    client = Client()
    client.force_login(lead)
    verified = client.session
    verified[DEVICE_ID_SESSION_KEY] = device.persistent_id
    verified.save()
    queries, inprocess = {}, {}
    for page, url in urls.items():
        client.get(url)  # warm
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(url)
            inprocess[page] = (time.perf_counter() - started) * 1000
        queries[page] = len(ctx.captured_queries) if response.status_code == 200 else -response.status_code

    baseline = None
    if core:
        from interpersonal.core.outcomes import service
        from interpersonal.web.outcomes.dataset import from_database

        started = time.perf_counter()
        data = from_database()
        read = time.perf_counter() - started
        service.report(data, by="month")
        service.funnel(data)
        baseline = {"from_database_s": read, "total_s": time.perf_counter() - started}

    session = SessionStore()
    session[SESSION_KEY] = str(lead.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = lead.get_session_auth_hash()
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.create()
    print(json.dumps({"cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}", "urls": urls,
                      "queries": queries, "inprocess_ms": inprocess, "core_baseline": baseline,
                      "referrals": ReferralSummary.objects.count()}))


# --- in the bench process: no Django ---------------------------------------------------------

def postgres_database() -> Database | None:
    try:
        import psycopg
    except ImportError:
        print("PostgreSQL: psycopg is not installed; skipped.")
        return None
    name = urllib.parse.urlsplit(PG_URL).path.lstrip("/")
    try:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        print(f"PostgreSQL at {PG_ADMIN_URL} does not answer ({str(exc).strip().splitlines()[0]}); skipped.")
        return None

    def reset() -> None:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')

    return Database("PostgreSQL", PG_URL, VAR / f"dashboard-{name}.marker", reset)


def sqlite_database() -> Database:
    path = VAR / "dashboard.sqlite3"

    def reset() -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)

    return Database("SQLite", f"sqlite:///{path}", VAR / "dashboard-sqlite.marker", reset)


def fill(db: Database, env: dict[str, str], referrals: int) -> None:
    wanted = {"referrals": referrals, "seed": SEED, "layout": "referrals-at-every-stage-2"}
    try:
        if json.loads(db.marker.read_text()) == wanted:
            print(f"{db.name}: reusing the filled database ({referrals} referrals; marker {db.marker.name}).")
            run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"], env, 600)
            return
    except (OSError, ValueError):
        pass
    db.marker.unlink(missing_ok=True)
    db.reset()  # type: ignore[operator]
    run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"], env, 600)
    started = time.monotonic()
    run([PYTHON, "manage.py", "synth_service", "--referrals", str(referrals), "--seed", str(SEED)], env, 7200)
    db.notes.append(f"synth_service --referrals {referrals} (with the summaries): {time.monotonic() - started:.0f} s")
    db.marker.write_text(json.dumps(wanted))


def serve_and_measure(db: Database, env: dict[str, str], info: dict, args: argparse.Namespace) -> list[str]:
    port = free_port()
    server = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "interpersonal.web.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(args.workers), "--threads", "1", "--log-level", "warning"],
        env=env, cwd=ROOT, start_new_session=True,
    )
    lines = []
    try:
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        for url in info["urls"].values():  # warm every worker on every page
            load(port, info["cookie"], "warm", url, [], args.workers, 2, 2)
        results: dict[str, tuple[float, float, int, int]] = {}
        for page, url in info["urls"].items():
            latencies, errors = load(port, info["cookie"], page, url, [], args.threads, args.seconds, args.requests)
            ms = [x * 1000 for x in latencies]
            results[page] = (percentile(ms, 50), percentile(ms, 95), len(ms), errors)
        base50, base95, *_ = results["healthz"]
        me50, me95, *_ = results["me"]
        lines.append(f"{db.name}: {info['referrals']} referrals; {args.threads} client threads, gunicorn --workers "
                     f"{args.workers} --threads 1, ≤{args.seconds:.0f} s or {args.requests} requests per thread per page")
        lines.append("  ratios to two trivial views in the same run: /healthz (no session; SELECT 1) and "
                     "/accounts/me/ (signed in: session, user and the page layout)")
        lines.append(f"  {'page':<9} {'requests':>8} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} {'p50 ×hz':>8} "
                     f"{'p95 ×hz':>8} {'p50 ×me':>8} {'p95 ×me':>8} {'1 req ms':>8} {'queries':>7}  goal")
        db.failures.extend(f"{page}: {errors} of {n + errors} requests failed"
                           for page, (*_, n, errors) in results.items() if errors)
        for page, (p50, p95, n, errors) in results.items():
            goal = "" if page in ("healthz", "me") else ("met" if p95 <= GOAL_P95_MS else "NOT MET")
            lines.append(f"  {page:<9} {n:>8} {errors:>6} {p50:>8.1f} {p95:>8.1f} {p50 / base50:>8.2f} "
                         f"{p95 / base95:>8.2f} {p50 / me50:>8.2f} {p95 / me95:>8.2f} "
                         f"{info['inprocess_ms'][page]:>8.1f} {info['queries'][page]:>7}  {goal}")
        lines.append(f"  goal: every /outcomes/ page p95 ≤ {GOAL_P95_MS:.0f} ms (issue 13); '1 req ms' is one request "
                     "in-process with Django's test client, 'queries' its query count")
        for page, url in info["urls"].items():
            lines.append(f"    {page}: {url}")
        baseline = info.get("core_baseline")
        if baseline:
            worst = max(p95 for page, (_p50, p95, *_r) in results.items() if page not in ("healthz", "me"))
            lines.append(f"  baseline, before issue 13 (the worker's job per set of filters): from_database() "
                         f"{baseline['from_database_s']:.1f} s, with service.report + service.funnel "
                         f"{baseline['total_s']:.1f} s in-process — {baseline['total_s'] * 1000 / worst:.0f}× the "
                         "slowest dashboard page's p95 under load")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--referrals", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0, help="per page (default %(default)s)")
    parser.add_argument("--requests", type=int, default=100, help="per thread per page (default %(default)s)")
    parser.add_argument("--sqlite", action="store_true", help="SQLite too (var/bench/dashboard.sqlite3)")
    parser.add_argument("--no-core", action="store_true", help="skip the one run of the core over the database")
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:
        prepare(core=not args.no_core)
        return 0
    VAR.mkdir(parents=True, exist_ok=True)
    base_env = {k: v for k, v in os.environ.items() if k != "INTERPERSONAL_DEBUG"}
    base_env.setdefault("SECRET_KEY", "bench-" + secrets.token_urlsafe(40))
    base_env.update(DJANGO_SETTINGS_MODULE="interpersonal.web.settings", ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
                    PYTHONPATH=str(ROOT))
    try:  # the server (no debug) serves static files from the collected manifest
        run([PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"], base_env, 300, capture=True)
    except subprocess.CalledProcessError:
        print("NOTICE: collectstatic failed (see above); the server runs with bench/support/static_fallback_settings.py.")
        base_env["DJANGO_SETTINGS_MODULE"] = "bench.support.static_fallback_settings"
    databases = [db for db in (postgres_database(), sqlite_database() if args.sqlite else None) if db is not None]
    report: list[str] = []
    for db in databases:
        env = {**base_env, "DATABASE_URL": db.url}
        fill(db, env, args.referrals)
        prepare_args = [PYTHON, __file__, "--prepare", *(["--no-core"] if args.no_core else [])]
        info = json.loads(run(prepare_args, env, 3600, capture=True).strip().splitlines()[-1])
        report.extend(serve_and_measure(db, env, info, args))
        report.extend(f"  {note}" for note in db.notes)
        db.failures.extend(f"{page} answered HTTP {-n}" for page, n in info["queries"].items() if n < 0)
    print("\n".join(report))
    failures = [f"{db.name}: {failure}" for db in databases for failure in db.failures]
    if failures:
        print("FAILED: " + "; ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
