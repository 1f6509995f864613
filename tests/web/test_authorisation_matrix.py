"""The authorisation matrix (issue 7a): every URL pattern × every persona, one declared outcome.

ONE table (``MATRIX``) names, for every URL in the resolver, what each persona gets:

* ``login``: a redirect to the sign-in page;
* ``ok``: the page is served (200, a 302 that is not to sign-in, a 400 form refusal, a 405 for GET
  on a POST-only view);
* ``forbidden``: 403; ``not_found``: 404;
* ``ok_token``: a patient page: served with the right token, a kind 404 with a wrong one.

A URL missing from the table fails. Every persona GETs every URL; write URLs are POSTed too,
with the data a real form would send when the persona must be refused (the write would succeed if
access control were missing) and with an empty form when the persona may use the page (harmless).
URL walking, parameter filling and post data come from ``test_permissions``.

The matrix runs with the second factor relaxed (tests sign in with ``force_login``). A second pass
requires it and walks every URL again as each staff persona signed in but not verified: outside
``MFA_OPEN`` every request must be sent to the second factor and change nothing.
"""

from __future__ import annotations

import os

import pytest
from django.test import Client
from django.urls import reverse

from interpersonal.web.questionnaires.actions import issue_link
from web.test_permissions import ALL_PATTERNS, URLS, assert_no_leak, case, path_for, post_data, state  # noqa: F401

LOGIN, OK, FORBIDDEN, NOT_FOUND, OK_TOKEN = "login", "ok", "forbidden", "not_found", "ok_token"
PERSONAS = ("anonymous", "unrelated_therapist", "other_supervisor", "service_lead", "administrator", "link_holder",
            "records_officer")
"""The issue's six personas, and the records officer (information governance) added with issue 7's
subject access and erasure."""


def row(anonymous, unrelated_therapist, other_supervisor, service_lead, administrator, link_holder, records_officer):
    return dict(zip(PERSONAS, (anonymous, unrelated_therapist, other_supervisor, service_lead, administrator,
                               link_holder, records_officer), strict=True))


PUBLIC_ROW = row(OK, OK, OK, OK, OK, OK, OK)
SIGNED_IN = row(LOGIN, OK, OK, OK, OK, LOGIN, OK)
"""Any signed-in staff member: their own account, the measures catalogue, the calculator."""
ADMIN_ONLY = row(LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK, LOGIN, FORBIDDEN)
CLINICIANS = row(LOGIN, OK, OK, FORBIDDEN, FORBIDDEN, LOGIN, FORBIDDEN)
"""Roles that hold a caseload (therapist, supervisor); shows only their own patients."""
LEAD_ONLY = row(LOGIN, FORBIDDEN, FORBIDDEN, OK, FORBIDDEN, LOGIN, FORBIDDEN)
CASE_ROW = row(LOGIN, NOT_FOUND, NOT_FOUND, FORBIDDEN, FORBIDDEN, LOGIN, FORBIDDEN)
"""Someone else's patient: clinicians get a 404 indistinguishable from nothing; roles without a
caseload are refused by role (403) before any object is looked up."""
CASE_ROW_404 = row(LOGIN, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, LOGIN, NOT_FOUND)
"""As CASE_ROW, but the view looks the course up before checking the role (no leak either way)."""
TOKEN_ROW = row(OK_TOKEN, OK_TOKEN, OK_TOKEN, OK_TOKEN, OK_TOKEN, OK_TOKEN, OK_TOKEN)
RECORDS_ONLY = row(LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, LOGIN, OK)
TRIAGERS = row(LOGIN, FORBIDDEN, OK, FORBIDDEN, FORBIDDEN, LOGIN, FORBIDDEN)
"""The referral inbox's writes: clinicians who triage (supervisors), not every therapist."""
RULES_EDITORS = row(LOGIN, FORBIDDEN, FORBIDDEN, OK, OK, LOGIN, FORBIDDEN)
"""The service's suitability rules are edited by the service lead and administrators (no patient data)."""
"""Information governance: subject access and erasure (the records officer only)."""

MATRIX: dict[str, dict[str, str]] = {
    "healthz": PUBLIC_ROW,
    "accounts:login": PUBLIC_ROW,
    "accounts:logout": SIGNED_IN,
    "accounts:me": SIGNED_IN,
    "accounts:mfa_setup": SIGNED_IN,
    "accounts:mfa_verify": SIGNED_IN,
    "accounts:password_change": SIGNED_IN,
    "accounts:password_change_done": SIGNED_IN,
    "accounts:staff": ADMIN_ONLY,
    "accounts:staff_new": ADMIN_ONLY,
    "accounts:staff_edit": ADMIN_ONLY,
    "accounts:teams": ADMIN_ONLY,
    "accounts:staff_reset": ADMIN_ONLY,
    "accounts:staff_reset_mfa": ADMIN_ONLY,
    "accounts:staff_handover": ADMIN_ONLY,
    "accounts:team": ADMIN_ONLY,
    "accounts:grants": row(LOGIN, FORBIDDEN, OK, OK, OK, LOGIN, FORBIDDEN),
    "accounts:grant": row(LOGIN, FORBIDDEN, OK, OK, OK, LOGIN, FORBIDDEN),  # read by those told; decided by a confirmer
    "accounts:enrol": PUBLIC_ROW,
    "home": SIGNED_IN,
    "assessments:catalogue": SIGNED_IN,
    "assessments:detail": SIGNED_IN,
    "assessments:score": SIGNED_IN,
    "assessments:acknowledge_alert": CASE_ROW,
    "assessments:alert": CASE_ROW,
    "assessments:risk": CASE_ROW,
    "assessments:risk_new": CASE_ROW,
    "assessments:safety_plan": CASE_ROW,
    "patients:list": CLINICIANS,
    "patients:new": CLINICIANS,
    "patients:detail": CASE_ROW,
    "patients:edit": CASE_ROW,
    "patients:new_referral": CASE_ROW,
    "patients:end_referral": CASE_ROW,
    "audit:list": ADMIN_ONLY,
    "privacy:find": RECORDS_ONLY,
    "privacy:patient": RECORDS_ONLY,
    "privacy:subject_access": RECORDS_ONLY,
    "privacy:subject_access_progress": RECORDS_ONLY,
    "privacy:subject_access_download": RECORDS_ONLY,
    "privacy:erase": RECORDS_ONLY,
    "privacy:retention": RECORDS_ONLY,
    "courses:caseload": CLINICIANS,
    "courses:service": LEAD_ONLY,
    "outcomes:dashboard": LEAD_ONLY,
    "outcomes:csv": LEAD_ONLY,
    "courses:new": CASE_ROW,
    "courses:detail": CASE_ROW,
    "courses:record_session": CASE_ROW,
    "courses:correct_session": CASE_ROW,
    "courses:delete_session": CASE_ROW,
    "courses:correct_measure": CASE_ROW,
    "courses:delete_measure": CASE_ROW,
    "courses:record_measure": CASE_ROW,
    "courses:task": CASE_ROW,
    "courses:end": CASE_ROW,
    "courses:step_up": CASE_ROW,
    "courses:diary": CLINICIANS,
    "courses:diary_feed_settings": CLINICIANS,
    "courses:diary_feed": PUBLIC_ROW,  # by its private key, for a calendar app: times and session numbers only
    "courses:book_series": CASE_ROW,
    "courses:appointment": CASE_ROW,
    "courses:notes": CASE_ROW,
    "courses:record_contact": CASE_ROW,
    "courses:correct_contact": CASE_ROW,
    "courses:delete_contact": CASE_ROW,
    "questionnaires:list": CASE_ROW_404,
    "questionnaires:send": CASE_ROW,
    "questionnaires:withdraw": CASE_ROW,
    "questionnaires:resend": CASE_ROW,
    "questionnaires:start": TOKEN_ROW,
    "questionnaires:question": TOKEN_ROW,
    "questionnaires:all": TOKEN_ROW,
    "questionnaires:review": TOKEN_ROW,
    "questionnaires:submit": TOKEN_ROW,
    "questionnaires:done": TOKEN_ROW,
    "formulation:ipaf": CASE_ROW,
    "formulation:inventory": CASE_ROW,
    "formulation:person": CASE_ROW,
    "formulation:person_remove": CASE_ROW,
    "formulation:timeline": CASE_ROW,
    "formulation:event": CASE_ROW,
    "formulation:event_remove": CASE_ROW,
    "formulation:ipt": CASE_ROW,
    "fidelity:course_recordings": CASE_ROW_404,
    "fidelity:give_consent": CASE_ROW_404,
    "fidelity:withdraw_consent": CASE_ROW_404,
    "fidelity:upload_start": CASE_ROW_404,
    "fidelity:upload_chunk": CASE_ROW_404,
    "fidelity:upload_finish": CASE_ROW_404,
    "fidelity:recording": CASE_ROW_404,
    "fidelity:recording_media": CASE_ROW_404,
    "fidelity:assign": CASE_ROW_404,
    "fidelity:hold": CASE_ROW_404,
    "fidelity:awaiting": SIGNED_IN,
    "fidelity:rate": CASE_ROW_404,  # only the assigned rater; no persona here is one
    "letters:list": CASE_ROW,
    "letters:new": CASE_ROW,
    "letters:edit": CASE_ROW,
    "letters:finalise": CASE_ROW,
    "letters:new_version": CASE_ROW,
    "letters:pdf": CASE_ROW,
    "letters:pdf_progress": CASE_ROW,
    "letters:pdf_download": CASE_ROW,
    "screening:referral": CASE_ROW,
    "screening:contact": CASE_ROW,
    "screening:send": CASE_ROW,
    "screening:withdraw": CASE_ROW,
    "screening:acknowledge": CASE_ROW,
    "screening:decide": CASE_ROW,
    "screening:triage": CASE_ROW,
    "screening:rules": row(LOGIN, OK, OK, OK, OK, LOGIN, FORBIDDEN),  # the service's rules: no patient data
    "screening:rule_new": RULES_EDITORS,
    "screening:rule_edit": RULES_EDITORS,
    "referrals:self_refer": PUBLIC_ROW,
    "referrals:self_refer_thanks": PUBLIC_ROW,
    "referrals:inbox": row(LOGIN, FORBIDDEN, OK, OK, FORBIDDEN, LOGIN, FORBIDDEN),  # the lead: a queue without names
    "referrals:new": TRIAGERS,
    "referrals:detail": CASE_ROW,
    "referrals:decide_duplicate": CASE_ROW,
    "service:waiting": LEAD_ONLY,
    "service:queue": LEAD_ONLY,
    "service:opt_in": LEAD_ONLY,
    "service:operations": LEAD_ONLY,
    "service:costs": LEAD_ONLY,
    "service:staff_profile": LEAD_ONLY,
    "service:my_waiting": CLINICIANS,
    "supervision:dashboard": TRIAGERS,  # supervisors only (the other supervisor sees their own, empty)
    "supervision:log": TRIAGERS,
    "supervision:log_new": TRIAGERS,
    "supervision:history": CASE_ROW_404,  # the supervisee themself and their current supervisors only
    "supervision:relationship_add": ADMIN_ONLY,
    "supervision:relationship_end": ADMIN_ONLY,
    "supervision:costs": LEAD_ONLY,
    "service:discharge": row(LOGIN, OK, OK, OK, FORBIDDEN, LOGIN, FORBIDDEN),  # each may discharge only their own
    "service:invite": CASE_ROW,
    "service:letter": CASE_ROW,
    "service:opted_in": CASE_ROW,
}


NOT_IN_PERMISSIONS_TABLE_POST = {"accounts:mfa_setup", "accounts:mfa_verify"}
"""Write URLs that ``test_permissions.URLS`` does not (yet) describe; they take no parameters."""


def path_of(name, converters, case, token=None) -> str:  # noqa: F811
    if name not in URLS and not converters:
        return reverse(name)
    return path_for(name, converters, case, token=token)


def is_write(name) -> bool:
    if name in URLS:
        return URLS[name].post or URLS[name].kind == "case"
    return name in NOT_IN_PERMISSIONS_TABLE_POST


def classify(response) -> str:
    code = response.status_code
    if code == 302 and response["Location"].startswith(reverse("accounts:login")):
        return LOGIN
    if code in (200, 302, 400):
        return OK
    return {403: FORBIDDEN, 404: NOT_FOUND}.get(code, f"status {code}")


def test_every_url_pattern_is_in_the_matrix():
    names = {name for name, _, _ in ALL_PATTERNS}
    assert sorted(n for n in names if n not in MATRIX) == [], "add these URLs to MATRIX"
    assert sorted(set(MATRIX) - names) == [], "stale MATRIX entries"
    assert all(set(r) == set(PERSONAS) for r in MATRIX.values())


@pytest.fixture
def personas(request, case, unrelated_therapist, make_user_other_supervisor, service_lead, clinic_admin,  # noqa: F811
             records_officer):
    """persona → (client, right token for /q/ URLs)."""
    from interpersonal.web.patients.models import Patient

    other_course = Patient.objects.get(given_name="Olive").courses.get()
    _, holder_token = issue_link(course=other_course, instruments=["phq9", "gad7"], by=unrelated_therapist)
    holder = Client()
    assert holder.get(f"/q/{holder_token}/").status_code in (200, 302)  # the holder's session knows its own link
    users = {"unrelated_therapist": unrelated_therapist, "other_supervisor": make_user_other_supervisor,
             "service_lead": service_lead, "administrator": clinic_admin, "records_officer": records_officer}
    out = {"anonymous": (Client(), case["token"]), "link_holder": (holder, holder_token)}
    for persona, user in users.items():
        client = Client()
        client.force_login(user)
        out[persona] = (client, case["token"])
    return out, users


def wrong(token: str) -> str:
    return token[:-1] + ("A" if token[-1] != "A" else "B")


def test_authorisation_matrix(case, personas):  # noqa: F811
    clients, users = personas
    before = state()
    requests = 0
    failures = []
    seen: dict[str, dict[str, set]] = {}
    for persona in PERSONAS:
        client, right_token = clients[persona]
        for name, _, converters in ALL_PATTERNS:
            if name not in MATRIX:
                failures.append(f"{name}: not in MATRIX")
                continue
            expected = MATRIX[name][persona]
            if expected == OK_TOKEN:
                tries = [(path_of(name, converters, case, token=right_token), OK)]
                if persona == "link_holder":  # one persona probes: wrong tokens are rate limited per address
                    tries.append((path_of(name, converters, case, token=wrong(right_token)), NOT_FOUND))
            else:
                tries = [(path_of(name, converters, case), expected)]
            methods = ("get", "post") if is_write(name) else ("get",)
            for path, want in tries:
                for method in methods:
                    data = None
                    if method == "post":
                        data = {} if want == OK else post_data(name, case)
                    response = getattr(client, method)(path, data)
                    requests += 1
                    got = classify(response)
                    if name == "accounts:logout" and method == "post" and want == OK and got == LOGIN:
                        got = OK  # signing out lands on the sign-in page
                    where = f"{persona} {method.upper()} {path} ({name})"
                    seen.setdefault(name, {}).setdefault(persona, set()).add(got)
                    if response.status_code == 405:
                        continue  # the method is refused before anything else: reveals nothing
                    if got != want:
                        failures.append(f"{where}: expected {want}, got {got}")
                    if want == OK and expected == OK_TOKEN and response.status_code == 302:
                        assert response["Location"].startswith(f"/q/{right_token}/"), where
                    entitled = persona == "records_officer" and MATRIX[name] is RECORDS_ONLY  # the whole record
                    if (persona == "link_holder" or expected != OK_TOKEN) and not entitled:
                        assert_no_leak(response, case, where)
                    if name == "accounts:logout" and persona in users:
                        client.force_login(users[persona])
    print(f"\n[authorisation-matrix] {len(PERSONAS)} personas x {len(MATRIX)} URLs = "
          f"{len(PERSONAS) * len(MATRIX)} cells; {requests} requests made; {len(failures)} mismatches")
    if os.environ.get("MATRIX_DUMP"):
        for name, by in seen.items():
            print(f"    {name!r}: row({', '.join('/'.join(sorted(by.get(p, {'?'}))) for p in PERSONAS)}),")
    assert failures == [], "\n".join(failures)
    assert state() == before


MFA_OPEN = {"healthz", "accounts:mfa_setup", "accounts:mfa_verify", "accounts:logout",
            "questionnaires:start", "questionnaires:question", "questionnaires:all", "questionnaires:review",
            "questionnaires:submit", "questionnaires:done"}
"""The URLs a member of staff who is signed in but has not passed the second factor may still
reach (``RequireMFAMiddleware``): setting up or giving the code, signing out, the health check,
and the patient's questionnaire pages (a token, not a staff session, opens those). For them the
MATRIX row stands; every other URL sends such a person to the second factor."""


def test_mfa_open_urls_are_in_the_matrix():
    assert sorted(MFA_OPEN - set(MATRIX)) == []


MFA_PARTS = {
    "admin-therapist-lead": ("administrator", "therapist", "service_lead"),
    "other-clinicians-records": ("unrelated_therapist", "other_supervisor", "records_officer"),
}
"""The staff personas of the test below in two parts, so pytest-xdist runs them on both workers
(as one test it took 30-100 s on a 2-core machine). Together: every staff persona (asserted)."""


@pytest.mark.parametrize("part", MFA_PARTS)
def test_every_other_page_waits_for_the_second_factor(settings, case, personas, therapist, part):  # noqa: F811
    """With the second factor required, each staff persona signed in but not verified — the
    case's own therapist too, whose writes would otherwise succeed — GETs every URL, and POSTs
    every write URL with the data a real form sends: outside MFA_OPEN, each is sent to set up or
    give the code (a device or not) and nothing changes; inside it, the MATRIX row holds."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    settings.INTERPERSONAL_REQUIRE_MFA = True
    _, users = personas
    users = {**users, "therapist": therapist}
    assert sorted(p for part_ in MFA_PARTS.values() for p in part_) == sorted(users)
    TOTPDevice.objects.create(user=users["administrator"], name="phone", confirmed=True)
    TOTPDevice.objects.create(user=therapist, name="phone", confirmed=True)
    users = {persona: users[persona] for persona in MFA_PARTS[part]}
    setup, verify = reverse("accounts:mfa_setup"), reverse("accounts:mfa_verify")
    before = state()
    requests, failures = 0, []
    for persona, user in users.items():
        client = Client()
        client.force_login(user)
        gate = verify if persona in ("administrator", "therapist") else setup
        for name, _, converters in ALL_PATTERNS:
            path = path_of(name, converters, case)
            for method in ("get", "post") if is_write(name) else ("get",):
                response = getattr(client, method)(path, post_data(name, case) if method == "post" else None)
                requests += 1
                where = f"{persona} (not verified) {method.upper()} {path} ({name})"
                if name in MFA_OPEN:
                    want = MATRIX[name]["unrelated_therapist" if persona == "therapist" else persona]
                    got = classify(response)
                    if name == "accounts:logout" and got == LOGIN:
                        got = OK  # signing out lands on the sign-in page
                        client.force_login(user)
                    if want == OK_TOKEN:
                        want = OK
                    if got != want and response.status_code != 405:
                        failures.append(f"{where}: expected {want}, got {got}")
                elif response.status_code != 302 or not response["Location"].startswith(gate):
                    failures.append(f"{where}: expected a redirect to {gate}, got {response.status_code} "
                                    f"{response.get('Location', '')}")
                if state() != before:
                    failures.append(f"{where}: changed a record")
                    before = state()
    print(f"\n[authorisation-matrix-mfa] {part}: {len(users)} staff personas x {len(MATRIX)} URLs, not verified: "
          f"{requests} requests made; {len(failures)} mismatches")
    assert failures == [], "\n".join(failures)
