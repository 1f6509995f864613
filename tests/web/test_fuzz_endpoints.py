"""Fuzzing every endpoint (issue 7b): no crash, no 500, and a refused write changes nothing.

One generic fuzzer over the whole resolver. The URL walk, the URL arguments, the post data and
who may use which URL come from ``test_permissions`` and ``test_authorisation_matrix``; nothing
here names a URL. For every URL and every persona allowed to use it (the matrix's ``ok`` cells;
for one patient's pages, the case's own therapist and their supervisor):

1. crawl: GET every page the persona may open and read every ``<form>`` in the HTML: a POST
   form's field names (and the values its radio buttons, options, buttons and hidden inputs
   offer) become the POST fields of the URL its ``action`` resolves to; a GET form's fields and
   the query parameters of links become that URL's query parameters. A URL no page links to
   falls back to the field names of ``test_permissions.post_data``;
2. fuzz: Hypothesis sends junk — nasty text, huge and negative numbers, dates out of range,
   fields left out, fields repeated, fields no form has — as the POST body and query string of
   write URLs, and as the query string of pages.

Each example runs in a savepoint rolled back afterwards, so one example that happens to be a
valid write (ending the course, say) does not change what the next one sees. Asserted: no 500
(the test client re-raises an exception a view lets escape), and a POST that was refused
(4xx, or a 200 re-render with form errors) or any GET left every record the same.
"""

from __future__ import annotations

import time
from contextlib import suppress
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.forms import BaseForm
from django.test import Client
from django.urls import Resolver404, resolve
from django_otp.plugins.otp_totp.models import TOTPDevice
from hypothesis import given, settings
from hypothesis import strategies as st

from interpersonal.web import bounds
from interpersonal.web.accounts.models import Team
from web.test_authorisation_matrix import MATRIX, OK, OK_TOKEN, PERSONAS, is_write, path_of, personas  # noqa: F401
from web.test_fuzz_forms import FUZZ, nasty_text, numbers_as_text, odd_dates
from web.test_permissions import ALL_PATTERNS, CASE, RATER, URLS, case, post_data, state  # noqa: F401

EXAMPLES_PER_URL = 16
"""Hypothesis examples for one URL, shared among the personas allowed to use it (at least
MIN_PER_PERSONA each); each example is a POST (write URLs) and a GET (pages)."""
MIN_PER_PERSONA = 2
FEW = 2
"""Examples for a page that answers with a file (a letter's PDF, a CSV): each one builds it."""

PARTS = 2
"""The fuzzing is split into parts, each the URLs at every PARTS-th place in the resolver's order,
so that pytest-xdist runs them on both workers (as one test it took 60-100 s on a 2-core machine).
Every part crawls every page first (a form on one page posts to another part's URL), ~10 s each:
hence two parts, not more."""

MISSING = object()

huge_numbers = st.one_of(
    st.integers(min_value=2**31 - 1).map(str),
    st.sampled_from([str(2**63), str(2**64), str(10**30), "9" * 5000, "1e309", "-1e309", "Infinity", "-0"]),
)
negative_numbers = st.one_of(st.integers(max_value=-1).map(str), st.floats(max_value=-0.0).map(str))
out_of_range_dates = st.sampled_from(["0001-01-01", "9999-12-31", "10000-01-01", "0000-01-01", "-0001-01-01",
                                      "2026-02-29", "1969-12-31T23:59:59", "99999999", "12:61", "25:00"])
with_nul = st.one_of(st.sampled_from(["\x00", "a\x00b", "1\x00"]), nasty_text.map(lambda s: s + "\x00"))
"""NUL: Django's form fields refuse it; a value read straight from the request must not carry it
to the database (PostgreSQL refuses it: a 500 there; ``nul_refused_as_postgresql_does``)."""
oversized = st.sampled_from([bounds.NAME, bounds.SHORT_TEXT, bounds.NOTE, bounds.LONG_TEXT]).map(lambda n: "x" * (n + 1))
"""Text one character over a bound of interpersonal.web.bounds."""
junk = st.one_of(nasty_text, numbers_as_text, huge_numbers, negative_numbers, odd_dates, out_of_range_dates, with_nul,
                 oversized)
"""Anything a browser, a script or a tampered form could send as one value."""
extra_names = st.one_of(st.sampled_from(["next", "page", "q", "version", "pk", "id", "instrument", "format", "token",
                                         "csrfmiddlewaretoken", "items", "__proto__", "seen-label", "go", "answer"]),
                        nasty_text.filter(bool))


def values_for(offered: frozenset[str]) -> st.SearchStrategy:
    """One field: one value (one the form offers, or junk), left out, or the field repeated."""
    one = st.one_of(st.sampled_from(sorted(offered)), junk) if offered else junk
    return st.one_of(one.map(lambda v: [v]), st.just(MISSING), st.lists(one, min_size=2, max_size=3))


def submissions(fields: dict[str, frozenset[str]]) -> st.SearchStrategy:
    """A form's fields filled with junk, plus fields no form has: name -> list of values."""
    known = st.fixed_dictionaries({name: values_for(offered) for name, offered in sorted(fields.items())})
    extra = st.dictionaries(extra_names, st.lists(junk, min_size=1, max_size=2), max_size=3)

    def merge(pair):
        filled, more = pair
        data = {k: v for k, v in filled.items() if v is not MISSING}
        for k, v in more.items():
            data.setdefault(k, v)
        return data

    return st.tuples(known, extra).map(merge)


# --- reading the pages ---------------------------------------------------------------------


class Forms(HTMLParser):
    """Every form of a page (method, action, field name -> values offered) and every link."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[str, str, dict[str, set[str]]]] = []
        self.limits: list[dict[str, int]] = []
        """Per form, the ``maxlength`` of each text field that has one."""
        self.links: list[str] = []
        self._fields: dict[str, set[str]] | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            self._fields = {}
            self.forms.append(((a.get("method") or "get").lower(), a.get("action", ""), self._fields))
            self.limits.append({})
        elif self._fields is None:
            return
        elif tag in ("input", "button", "textarea", "select") and a.get("name"):
            offered = self._fields.setdefault(a["name"], set())
            if a.get("maxlength", "").isdigit():
                self.limits[-1][a["name"]] = int(a["maxlength"])
            if tag in ("input", "button") and "value" in a:
                offered.add(a["value"])
            elif tag == "input" and a.get("type") == "checkbox":
                offered.add("on")
            self._select = a["name"] if tag == "select" else self._select
        elif tag == "option" and self._select and "value" in a:
            self._fields[self._select].add(a["value"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._fields = None
        elif tag == "select":
            self._select = None


class Inputs:
    """What the crawl found: URL name -> (method -> field name -> values offered)."""

    def __init__(self) -> None:
        self.found: dict[str, dict[str, dict[str, set[str]]]] = {}
        self.linked: dict[str, str] = {}
        self.limits: dict[str, dict[str, int]] = {}
        """URL name -> text field -> the ``maxlength`` its POST form gives it."""
        """URL name -> a link to it with a query string (a page that needs one: ?instrument=)."""

    def add(self, url: str, method: str, fields: dict[str, set[str]]) -> None:
        try:
            name = resolve(urlsplit(url).path).view_name
        except Resolver404:
            return
        into = self.found.setdefault(name, {}).setdefault(method, {})
        for field, offered in fields.items():
            into.setdefault(field, set()).update(offered)

    def read(self, page: str, html: str) -> None:
        parser = Forms()
        parser.feed(html)
        for (method, action, fields), limits in zip(parser.forms, parser.limits, strict=True):
            target = urljoin(page, action)
            self.add(target, method, fields)
            if method == "post" and limits:
                with suppress(Resolver404):
                    self.limits.setdefault(resolve(urlsplit(target).path).view_name, {}).update(limits)
            self.add(target, "get", query_fields(target))  # an action's own query (?instrument=phq9)
        for href in parser.links:
            url = urljoin(page, href)
            self.add(url, "get", query_fields(url))
            if urlsplit(url).query:
                with suppress(Resolver404):
                    self.linked.setdefault(resolve(urlsplit(url).path).view_name, url)

    def fields(self, name: str, method: str) -> dict[str, frozenset[str]]:
        return {k: frozenset(v) for k, v in self.found.get(name, {}).get(method, {}).items()}


def pairs(query: dict[str, list[str]]) -> list[tuple[str, str]]:
    return [(k, v) for k, values in query.items() for v in values]


def query_fields(url: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for k, v in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        out.setdefault(k, set()).add(v)
    return out


# --- the database, where cheap to check ------------------------------------------------------


def records() -> tuple:
    """Every record a write could change: ``test_permissions.state`` and the accounts."""
    from interpersonal.web.supervision.models import SupervisionRelationship

    users = get_user_model().objects.order_by("pk").values_list("pk", "username", "role", "is_active", "password",
                                                               "team_id")
    supervision = SupervisionRelationship.objects.order_by("pk").values_list(
        "pk", "supervisor_id", "supervisee_id", "kind", "started", "ended", "confirmed_at")
    return (state(), list(users), list(supervision), list(Team.objects.order_by("pk").values_list("pk", "name")),
            list(TOTPDevice.objects.order_by("pk").values_list("pk", "confirmed")))


def refused(response) -> bool:
    if response.status_code >= 400:
        return True
    if response.status_code != 200 or response.context is None:
        return False
    contexts = response.context if isinstance(response.context, list) else [response.context]
    return any(isinstance(v, BaseForm) and v.is_bound and v.errors for c in contexts for v in c.flatten().values())


def is_html(response) -> bool:
    return response.get("Content-Type", "").startswith("text/html")


# --- the fuzzer -------------------------------------------------------------------------------


def allowed(name: str) -> list[str]:
    """The personas who may use a URL: the matrix's ``ok`` cells, and for one patient's pages the
    case's therapist and their supervisor (who reads them; a write of theirs must change nothing
    unless ``test_permissions`` lets them make it)."""
    out = [p for p in PERSONAS if MATRIX[name][p] in (OK, OK_TOKEN)]
    if name in URLS and URLS[name].kind == CASE:
        out += ["therapist", "supervisor"]
    if name in URLS and URLS[name].kind == RATER:  # the fixture's assignment is the supervisor's to rate
        out += ["supervisor"]
    if name == "supervision:history":  # the therapist's own supervision history, and their supervisor's view of it
        out += ["therapist", "supervisor"]
    return out


def fuzz(client, persona, path, post_fields, query_fields_, *, examples, before, counts, signed_in_again) -> None:
    """POST junk (``post_fields`` not None) and GET the page with a junk query (``query_fields_``
    not None), each in a savepoint rolled back afterwards."""

    @settings(FUZZ, max_examples=examples)
    @given(body=submissions(post_fields or {}), query=submissions(query_fields_ or {}))
    def run(body, query):
        if post_fields is not None:
            where = f"{persona} POST {path} {query!r} {body!r}"
            with transaction.atomic():
                response = client.post(f"{path}?{urlencode(pairs(query))}", body)
                counts["post"] += 1
                assert response.status_code < 500, f"{where}: {response.status_code}"
                if refused(response):
                    counts["refused"] += 1
                    assert records() == before, f"{where}: refused ({response.status_code}) but wrote"
                transaction.set_rollback(True)
            signed_in_again(persona)
        if query_fields_ is not None:
            where = f"{persona} GET {path} {query!r}"
            with transaction.atomic():
                response = client.get(path, query)
                counts["get"] += 1
                assert response.status_code < 500, f"{where}: {response.status_code}"
                assert records() == before, f"{where}: a GET changed a record"
                transaction.set_rollback(True)
            signed_in_again(persona)

    run()


def test_the_parts_fuzz_every_url_once():
    names = [name for name, _, _ in ALL_PATTERNS]
    parts = [part_of(names, part) for part in range(PARTS)]
    assert sorted(name for names_ in parts for name in names_) == sorted(names)
    assert all(parts)


def part_of(names: list[str], part: int) -> list[str]:
    return names[part::PARTS]


@pytest.mark.parametrize("part", range(PARTS))
def test_every_endpoint_survives_junk(case, personas, therapist, supervisor,  # noqa: F811
                                      nul_refused_as_postgresql_does, part):
    started = time.monotonic()
    clients, users = personas
    users = {**users, "therapist": therapist, "supervisor": supervisor}
    for persona in ("therapist", "supervisor"):
        client = Client()
        client.force_login(users[persona])
        clients[persona] = (client, case["token"])
    patterns = [(name, converters) for name, _, converters in ALL_PATTERNS]
    mine = set(part_of([name for name, _ in patterns], part))

    # 1. crawl
    inputs = Inputs()
    page: dict[tuple[str, str], tuple[str, int, bool]] = {}
    for name, converters in patterns:
        for persona in allowed(name):
            client, token = clients[persona]
            path = path_of(name, converters, case, token=token)
            response = client.get(path)
            assert response.status_code < 500, f"{persona} GET {path}"
            page[name, persona] = (path, response.status_code, is_html(response))
            if is_html(response):
                inputs.read(path, response.content.decode())
    for (name, persona), (_, status, _) in list(page.items()):  # a page that needs a query: as linked
        if status in (400, 404) and name in inputs.linked:
            response = clients[persona][0].get(inputs.linked[name])
            assert response.status_code < 500, f"{persona} GET {inputs.linked[name]}"
            if is_html(response):
                inputs.read(inputs.linked[name], response.content.decode())
    crawled = len(page)

    # 2. fuzz
    counts = {"pairs": 0, "post": 0, "get": 0, "refused": 0}
    fuzzed: set[str] = set()
    session_key = django_settings.SESSION_COOKIE_NAME

    def signed_in_again(persona: str) -> None:
        """Sign the persona in again if the example signed it out (logout, a password change
        whose new session was rolled back)."""
        client, _ = clients[persona]
        if persona in users and (session_key not in client.cookies or
                                 client.session.get("_auth_user_id") != str(users[persona].pk)):
            client.force_login(users[persona])

    for name, _ in patterns:
        if name not in mine:
            continue
        post_fields = inputs.fields(name, "post")
        if is_write(name):
            for field in post_data(name, case):
                post_fields.setdefault(field, frozenset())
        query_fields_ = inputs.fields(name, "get")
        who = allowed(name)
        for persona in who:
            path, get_status, html = page[name, persona]
            client, _ = clients[persona]
            n = max(MIN_PER_PERSONA, EXAMPLES_PER_URL // len(who)) if html or get_status == 405 else FEW
            before = records()
            counts["pairs"] += 1
            fuzzed.add(name)

            fuzz(client, persona, path, post_fields if is_write(name) else None,
                 query_fields_ if get_status != 405 else None, examples=n, before=before, counts=counts,
                 signed_in_again=signed_in_again)

    # 3. every text field one character over its maxlength, the rest as the form offers them: refused
    over = 0
    for name, limits in sorted(inputs.limits.items()):
        if name not in mine:
            continue
        persona = "anonymous" if "anonymous" in allowed(name) else allowed(name)[-1]  # the sign-in page
        path, client = page[name, persona][0], clients[persona][0]
        offered = {k: sorted(v)[:1] or [""] for k, v in inputs.fields(name, "post").items()}
        before = records()
        for field, limit in sorted(limits.items()):
            where = f"{persona} POST {path} {field}: {limit + 1} characters"
            with transaction.atomic():
                response = client.post(path, {**offered, field: ["7" * (limit + 1)]})
                assert refused(response), f"{where}: not refused ({response.status_code})"
                assert records() == before, f"{where}: refused but wrote"
                transaction.set_rollback(True)
            signed_in_again(persona)
            over += 1
    assert over, "the crawl found text fields with a maxlength"

    urls = mine
    assert urls - fuzzed == set(), "every URL is fuzzed by someone allowed to use it"
    print(f"\n[fuzz-endpoints] part {part + 1} of {PARTS}: {len(urls)} URLs x personas = {counts['pairs']} pairs, {crawled} pages crawled, "
          f"{counts['post'] + counts['get']} requests ({counts['post']} POST, {counts['get']} GET; "
          f"{counts['refused']} refused POSTs left every record unchanged; {over} text fields refused one "
          f"character over their maxlength), {time.monotonic() - started:.1f}s")
    assert counts["post"]
    assert counts["get"]
    assert counts["refused"]
