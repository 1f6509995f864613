"""The clinic under load: latency of the real pages, relative to a trivial view, per database.

Run by ``make bench`` (``python bench/clinic.py``). For SQLite (var/bench/clinic.sqlite3) and,
when it answers, PostgreSQL (database ``interpersonal_bench``, created if missing):

1. migrate, and fill with ``synth_service`` (reused while var/bench/<db>.marker matches);
2. in a subprocess with Django set up on that database: sign a therapist in by building their
   session with ``SessionStore`` (the session cookie is Secure outside debug, which only a browser
   honours; we send the cookie header ourselves), second factor passed: the session names a
   confirmed TOTP device, as after ``/accounts/mfa/verify/`` (staff MFA is required by default) and count the queries of each page for a
   therapist with 10 and with 40 active courses (CaptureQueriesContext; they must be equal);
3. start the real server (gunicorn, INTERPERSONAL_DEBUG unset) and drive it with 32 client
   threads on keep-alive http.client connections, for a bounded time per page;
4. print p50/p95 per page and their ratios to two trivial views measured in the same run:
   ``/healthz`` (no session, SELECT 1) and ``/accounts/me/`` (signed in: session, user and
   the page layout, none of the page's own work).

Absolute times depend on the machine; the ratios are the result (STYLE.md 18). Goal: p95 ≤ 3×.
"""

from __future__ import annotations

import argparse
import html.parser
import http.client
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VAR = Path(os.environ.get("BENCH_DIR", ROOT / "var" / "bench"))
PYTHON = sys.executable
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/interpersonal_bench")
SEED = 1
THERAPIST_10, THERAPIST_40 = "synth-t00001", "synth-t00002"
"""synth_service gives its first two therapists 10 and 40 active courses (--bench-caseloads)."""


# --- in the subprocess: Django on the benchmark database -------------------------------------

def prepare() -> None:
    """Print JSON: the load user's session cookie, the URLs to load, and query counts per page."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import NoReverseMatch, reverse
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from interpersonal.web.courses.models import Course

    users = get_user_model().objects
    t10, t40 = users.get(username=THERAPIST_10), users.get(username=THERAPIST_40)

    def busiest_course(user: object) -> Course:
        return (Course.objects.filter(therapist=user, status=Course.Status.ACTIVE)
                .annotate(n=Count("measurements")).order_by("-n", "pk").first())

    def urls_for(user: object) -> dict[str, str]:
        course = busiest_course(user)
        out = {"healthz": "/healthz", "me": "/accounts/me/"}
        try:
            out["caseload"] = reverse("courses:caseload")
            out["course"] = reverse("courses:detail", args=[course.pk])
            out["record"] = reverse("courses:record_session", args=[course.pk])
        except NoReverseMatch:  # the pages are not there yet: load the measures catalogue instead
            out["catalogue"] = reverse("assessments:catalogue")
        return out

    def device_id(user: object) -> str:
        """A confirmed TOTP device's id for the session: the second factor, as after verification."""
        device, _ = TOTPDevice.objects.get_or_create(user=user, name="bench", defaults={"confirmed": True})
        return device.persistent_id

    queries: dict[str, dict[str, int]] = {}
    for label, user in (("10 active courses", t10), ("40 active courses", t40)):
        client = Client()
        client.force_login(user)
        verified = client.session
        verified[DEVICE_ID_SESSION_KEY] = device_id(user)
        verified.save()
        counts = {}
        for page, url in urls_for(user).items():
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(url)
            counts[page] = len(ctx.captured_queries) if response.status_code == 200 else -response.status_code
        queries[label] = counts

    session = SessionStore()
    session[SESSION_KEY] = str(t40.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = t40.get_session_auth_hash()
    session[DEVICE_ID_SESSION_KEY] = device_id(t40)
    session.create()
    load_urls = urls_for(t40)
    courses = [reverse("courses:record_session", args=[c]) for c in Course.objects.filter(
        therapist=t40, status=Course.Status.ACTIVE).values_list("pk", flat=True)] if "record" in load_urls else []
    print(json.dumps({"cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}", "urls": load_urls,
                      "record_urls": courses, "queries": queries}))


# --- in the bench process: no Django ---------------------------------------------------------

@dataclass
class Database:
    name: str
    url: str
    marker: Path
    reset: object = None
    analyze: object = None
    """Gather the planner's statistics after filling (what autovacuum does on a live server)."""
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    """Pages that answered with errors: the ratios are then meaningless, and the run fails."""


def run(args: list[str], env: dict[str, str], timeout: float, capture: bool = False) -> str:
    done = subprocess.run(args, env=env, cwd=ROOT, timeout=timeout, check=True, text=True,
                          stdout=subprocess.PIPE if capture else None)
    return done.stdout or ""


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

    def analyze() -> None:
        # A server with autovacuum off (as on some test machines) never gathers statistics for the
        # freshly filled tables, and the planner then guesses a thousand sessions per course and
        # JIT-compiles the caseload's query on every request: 40 ms of compiling, not of the page.
        with psycopg.connect(PG_URL.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
            conn.execute("ANALYZE")

    return Database("PostgreSQL", PG_URL, VAR / "postgresql.marker", reset, analyze)


def sqlite_database() -> Database:
    path = VAR / "clinic.sqlite3"

    def reset() -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)

    return Database("SQLite", f"sqlite:///{path}", VAR / "sqlite.marker", reset)


def fill(db: Database, env: dict[str, str], patients: int) -> None:
    wanted = {"patients": patients, "seed": SEED}
    try:
        if json.loads(db.marker.read_text()) == wanted:
            print(f"{db.name}: reusing the filled database ({patients} patients; marker {db.marker.name}).")
            run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"], env, 600)
            _analyze(db)
            return
    except (OSError, ValueError):
        pass
    db.marker.unlink(missing_ok=True)
    db.reset()  # type: ignore[operator]
    run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"], env, 600)
    started = time.monotonic()
    run([PYTHON, "manage.py", "synth_service", "--patients", str(patients), "--seed", str(SEED)], env, 3600)
    seconds = time.monotonic() - started
    db.notes.append(f"synth_service --patients {patients}: {seconds:.0f} s")
    db.marker.write_text(json.dumps(wanted))
    _analyze(db)


def _analyze(db: Database) -> None:
    if db.analyze is not None:
        db.analyze()  # type: ignore[operator]
        db.notes.append("ANALYZE run after filling and migrating (the planner's statistics, as autovacuum keeps them)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FormParser(html.parser.HTMLParser):
    """The fields of the page's largest POST form (not the sign-out button): name → a value to
    send (the first option of each choice: every item answered 0)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, str]] = []
        self.current: dict[str, str] | None = None
        self.select: str | None = None

    @property
    def fields(self) -> dict[str, str]:
        return max(self.forms, key=len, default={})

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "").lower() == "post":
            self.current = {}
            self.forms.append(self.current)
        if self.current is None:
            return
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button"):
            if a.get("type") not in ("radio", "checkbox") or name not in self.current:
                self.current[name] = a.get("value", "")
        elif tag == "select" and name:
            self.select = name
        elif tag == "option" and self.select and (self.select not in self.current or "selected" in a):
            self.current[self.select] = a.get("value", "")
        elif tag == "textarea" and name:
            self.current[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self.select = None
        elif tag == "form":
            self.current = None


class Client:
    def __init__(self, port: int, cookie: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        name, _, value = cookie.partition("=")
        self.cookies = {name: value}

    def request(self, method: str, url: str, body: str | None = None) -> tuple[int, bytes, float]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        try:
            self.conn.request(method, url, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            raise
        elapsed = time.perf_counter() - started
        for header in response.headers.get_all("Set-Cookie") or []:
            k, _, rest = header.partition("=")
            self.cookies[k.strip()] = rest.split(";", 1)[0]
        return response.status, data, elapsed


def record_once(client: Client, url: str, minute: int) -> float:
    status, page, _ = client.request("GET", url)
    if status != 200:
        raise RuntimeError(f"GET {url}: {status}")
    parser = FormParser()
    parser.feed(page.decode())
    fields = parser.fields
    when = time.localtime(time.time() - 3600 - 60 * minute)
    fields.update(date=time.strftime("%Y-%m-%d", when), time=time.strftime("%H:%M", when),
                         attendance="5", duration_minutes="50")
    status, _, elapsed = client.request("POST", url, urllib.parse.urlencode(fields))
    if status not in (200, 302):
        raise RuntimeError(f"POST {url}: {status}")
    return elapsed


def load(port: int, cookie: str, page: str, url: str, record_urls: list[str], threads: int, seconds: float,
         per_thread: int) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker(n: int) -> None:
        client = Client(port, cookie)
        mine: list[float] = []
        for i in range(per_thread):
            if time.monotonic() > deadline:
                break
            try:
                if page == "record":
                    mine.append(record_once(client, record_urls[(n + i * threads) % len(record_urls)], (n * per_thread + i) % 45))
                else:
                    status, _, elapsed = client.request("GET", url)
                    if status != 200:
                        raise RuntimeError(f"GET {url}: {status}")
                    mine.append(elapsed)
            except (RuntimeError, http.client.HTTPException, OSError):
                with lock:
                    errors[0] += 1
        client.conn.close()
        with lock:
            latencies.extend(mine)

    pool = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(seconds + 120)
    return latencies, errors[0]


def percentile(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


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
        pages = list(info["urls"].items())
        load(port, info["cookie"], "healthz", "/healthz", [], args.threads, 2, 50)  # warm every worker
        results: dict[str, tuple[float, float, int, int]] = {}
        for page, url in pages:
            latencies, errors = load(port, info["cookie"], page, url, info["record_urls"], args.threads,
                                     args.seconds, args.requests)
            ms = [x * 1000 for x in latencies]
            results[page] = (percentile(ms, 50), percentile(ms, 95), len(ms), errors)
        base50, base95, *_ = results["healthz"]
        me50, me95, *_ = results["me"]
        lines.append(f"{db.name}: {args.threads} client threads, gunicorn --workers {args.workers} --threads 1, "
                     f"≤{args.seconds:.0f} s or {args.requests} requests per thread per page")
        lines.append("  ratios to two trivial views in the same run: /healthz (no session; SELECT 1) and "
                     "/accounts/me/ (signed in: session, user and the page layout, no page work)")
        lines.append(f"  {'page':<10} {'requests':>8} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} "
                     f"{'p50 ×hz':>8} {'p95 ×hz':>8} {'p50 ×me':>8} {'p95 ×me':>8}")
        db.failures.extend(f"{page}: {errors} of {n + errors} requests failed" for page, (*_, n, errors)
                           in results.items() if errors)
        for page, (p50, p95, n, errors) in results.items():
            lines.append(f"  {page:<10} {n:>8} {errors:>6} {p50:>8.1f} {p95:>8.1f} {p50 / base50:>8.2f} "
                         f"{p95 / base95:>8.2f} {p50 / me50:>8.2f} {p95 / me95:>8.2f}")
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
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0, help="per page (default %(default)s)")
    parser.add_argument("--requests", type=int, default=200, help="per thread per page (default %(default)s)")
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:
        prepare()
        return 0
    VAR.mkdir(parents=True, exist_ok=True)
    base_env = {k: v for k, v in os.environ.items() if k != "INTERPERSONAL_DEBUG"}
    base_env.setdefault("SECRET_KEY", "bench-" + secrets.token_urlsafe(40))
    base_env.update(DJANGO_SETTINGS_MODULE="interpersonal.web.settings", ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
                    PYTHONPATH=str(ROOT))
    try:  # the server (no debug) serves static files from the collected manifest
        run([PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"], base_env, 300, capture=True)
    except subprocess.CalledProcessError:
        print("NOTICE: collectstatic failed (see above); the server runs with bench/support/static_fallback_settings.py "
              "(static files from the apps' folders, no manifest).")
        base_env["DJANGO_SETTINGS_MODULE"] = "bench.support.static_fallback_settings"
    databases = []
    if args.only != "postgresql":
        databases.append(sqlite_database())
    if args.only != "sqlite" and (pg := postgres_database()) is not None:
        databases.append(pg)
    report: list[str] = []
    for db in databases:
        env = {**base_env, "DATABASE_URL": db.url}
        fill(db, env, args.patients)
        info = json.loads(run([PYTHON, __file__, "--prepare"], env, 600, capture=True).strip().splitlines()[-1])
        report.extend(serve_and_measure(db, env, info, args))
        report.append(f"  queries per page (in-process): {json.dumps(info['queries'])}")
        counts = list(info["queries"].values())
        report.append("  query counts equal for 10 and 40 active courses: " + ("yes" if counts[0] == counts[1] else "NO"))
        report.extend(f"  {note}" for note in db.notes)
        db.failures.extend(f"{label}: {page} answered HTTP {-n}" for label, counts in info["queries"].items()
                           for page, n in counts.items() if n < 0)
    print("\n".join(report))
    failures = [f"{db.name}: {failure}" for db in databases for failure in db.failures]
    if failures:  # e.g. a page redirecting to sign-in or the second factor: nothing was measured
        print("FAILED: " + "; ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
