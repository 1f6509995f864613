"""Every URL is classified, and every patient-specific URL refuses everyone but the
clinicians responsible for the case (STYLE.md 6 and 13).

The table below must name every URL pattern in the resolver: a new URL fails
``test_every_url_pattern_is_classified`` until someone decides who may use it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from interpersonal.web.assessments.models import Measurement, RiskAlert, RiskAssessment
from interpersonal.web.audit.models import AuditEvent
from interpersonal.web.courses.models import Contact, Course, DiaryFeed, FollowUp, TaskCompletion, TherapySession
from interpersonal.web.documents.models import Document
from interpersonal.web.formulation.models import InventoryPerson, IpafRevision, IptFormulation, TimelineEvent
from interpersonal.web.letters.models import Letter
from interpersonal.web.patients.models import Patient
from interpersonal.web.privacy.access import record_link
from interpersonal.web.questionnaires.models import QuestionnaireLink
from interpersonal.web.referrals.models import Referral, ScreeningDecision, SelfReferral, SuitabilityRule, Triage
from interpersonal.web.service.models import GradeCost, OptInInvitation, StaffGrade, StaffProfile
from web.referrals.screening_helpers import ensure_default_rules

PUBLIC = "public"
"""Anyone, signed in or not."""
GENERAL = "general"
"""Signed-in staff; shows no patient of anyone else (lists, forms, catalogue, aggregates)."""
CASE = "case"
"""One patient's record: only the clinicians responsible for the case."""
RECORDS = "records"
"""Information governance (records officer) only, one patient's whole record by a record link that
an audited search made for that officer (``ref``; never the bare id): everyone else — the
patient's own clinicians included — is refused by role (403)."""
RATER = "rater"
"""A rating assignment (fidelity): only the rater it was given to; everyone else, the patient's own
clinicians included, gets 404."""
TOKEN = "token"
"""A patient's questionnaire link: no login, the secret token in the path is the credential.
Shows the patient's first name only; an unknown token gets the same kind 404 as nothing at all."""


@dataclass(frozen=True)
class Url:
    kind: str
    obj: str | None = None
    """Which object's id fills the int parameter: patient, course (DIT), ipt_course, session, alert,
    letter (a draft), final_letter or referral (the DIT course's); for a general page, staff, grant or rule."""
    post: bool = False
    """The view accepts POST (a write)."""
    supervisor_post_ok: bool = False
    """The supervisor of the course's therapist may POST (acknowledging alerts)."""
    more: tuple[tuple[str, str], ...] = ()
    """Further int parameters and the object whose id fills each: (("link_pk", "link"),); link, person or event."""


URLS: dict[str, Url] = {
    "healthz": Url(PUBLIC),
    "accounts:login": Url(PUBLIC, post=True),
    "accounts:logout": Url(GENERAL, post=True),
    "accounts:me": Url(GENERAL),
    "accounts:mfa_setup": Url(GENERAL, post=True),
    "accounts:mfa_verify": Url(GENERAL, post=True),
    "accounts:password_change": Url(GENERAL, post=True),
    "accounts:password_change_done": Url(GENERAL),
    "accounts:staff": Url(GENERAL),
    "accounts:staff_new": Url(GENERAL, post=True),
    "accounts:staff_edit": Url(GENERAL, obj="staff", post=True),
    "accounts:teams": Url(GENERAL, post=True),
    "accounts:staff_reset": Url(GENERAL, obj="staff", post=True),
    "accounts:staff_reset_mfa": Url(GENERAL, obj="staff", post=True),
    "accounts:staff_handover": Url(GENERAL, obj="staff", post=True),
    "accounts:team": Url(GENERAL, obj="team", post=True),
    "accounts:grants": Url(GENERAL),
    "accounts:grant": Url(GENERAL, obj="grant", post=True),
    "accounts:enrol": Url(PUBLIC, post=True),
    "home": Url(GENERAL),
    "assessments:catalogue": Url(GENERAL),
    "assessments:detail": Url(GENERAL),
    "assessments:score": Url(GENERAL, post=True),
    "assessments:acknowledge_alert": Url(CASE, obj="alert", post=True, supervisor_post_ok=True),
    "assessments:alert": Url(CASE, obj="alert"),
    "assessments:risk": Url(CASE, obj="course"),
    "assessments:risk_new": Url(CASE, obj="course", post=True),
    "assessments:safety_plan": Url(CASE, obj="course"),
    "patients:list": Url(GENERAL),
    "patients:new": Url(GENERAL, post=True),
    "patients:detail": Url(CASE, obj="patient"),
    "patients:edit": Url(CASE, obj="patient", post=True),
    "patients:new_referral": Url(CASE, obj="patient", post=True),
    "patients:end_referral": Url(CASE, obj="patient", post=True, more=(("referral_pk", "referral"),)),
    "audit:list": Url(GENERAL),
    "privacy:find": Url(GENERAL, post=True),
    "privacy:patient": Url(RECORDS, obj="patient"),
    "privacy:subject_access": Url(RECORDS, obj="patient", post=True),
    "privacy:subject_access_progress": Url(RECORDS, obj="patient", more=(("document_pk", "sar_document"),)),
    "privacy:subject_access_download": Url(RECORDS, obj="patient", more=(("document_pk", "sar_document"),)),
    "privacy:erase": Url(RECORDS, obj="patient", post=True),
    "privacy:retention": Url(GENERAL),
    "courses:caseload": Url(GENERAL),
    "courses:service": Url(GENERAL),
    "outcomes:dashboard": Url(GENERAL),
    "outcomes:csv": Url(GENERAL),
    "courses:new": Url(CASE, obj="patient", post=True),
    "courses:detail": Url(CASE, obj="course"),
    "courses:record_session": Url(CASE, obj="course", post=True),
    "courses:record_measure": Url(CASE, obj="course", post=True),
    "courses:task": Url(CASE, obj="course", post=True),
    "courses:end": Url(CASE, obj="course", post=True),
    "courses:step_up": Url(CASE, obj="course", post=True),
    "courses:correct_session": Url(CASE, obj="course", post=True, more=(("session_pk", "session"),)),
    "courses:delete_session": Url(CASE, obj="course", post=True, more=(("session_pk", "session"),)),
    "courses:correct_measure": Url(CASE, obj="course", post=True, more=(("measure_pk", "measurement"),)),
    "courses:delete_measure": Url(CASE, obj="course", post=True, more=(("measure_pk", "measurement"),)),
    "courses:diary": Url(GENERAL),
    "courses:diary_feed_settings": Url(GENERAL, post=True),
    "courses:diary_feed": Url(PUBLIC),  # the therapist's calendar feed, by its key: no patient data in it
    "courses:book_series": Url(CASE, obj="course", post=True),
    "courses:appointment": Url(CASE, obj="course", post=True, more=(("session_pk", "booking"),)),
    "courses:notes": Url(CASE, obj="course"),
    "courses:record_contact": Url(CASE, obj="course", post=True),
    "courses:correct_contact": Url(CASE, obj="course", post=True, more=(("contact_pk", "contact"),)),
    "courses:delete_contact": Url(CASE, obj="course", post=True, more=(("contact_pk", "contact"),)),
    "questionnaires:list": Url(CASE, obj="course"),
    "questionnaires:send": Url(CASE, obj="course", post=True),
    "questionnaires:withdraw": Url(CASE, obj="course", post=True, more=(("link_pk", "link"),)),
    "questionnaires:resend": Url(CASE, obj="course", post=True, more=(("link_pk", "link"),)),
    "questionnaires:start": Url(TOKEN, post=True),
    "questionnaires:question": Url(TOKEN, post=True),
    "questionnaires:all": Url(TOKEN, post=True),
    "questionnaires:review": Url(TOKEN),
    "questionnaires:submit": Url(TOKEN, post=True),
    "questionnaires:done": Url(TOKEN),
    "formulation:ipaf": Url(CASE, obj="course", post=True),
    "formulation:inventory": Url(CASE, obj="ipt_course", post=True),
    "formulation:person": Url(CASE, obj="ipt_course", post=True, more=(("person_pk", "person"),)),
    "formulation:person_remove": Url(CASE, obj="ipt_course", post=True, more=(("person_pk", "person"),)),
    "formulation:timeline": Url(CASE, obj="ipt_course", post=True),
    "formulation:event": Url(CASE, obj="ipt_course", post=True, more=(("event_pk", "event"),)),
    "formulation:event_remove": Url(CASE, obj="ipt_course", post=True, more=(("event_pk", "event"),)),
    "formulation:ipt": Url(CASE, obj="ipt_course", post=True),
    "fidelity:course_recordings": Url(CASE, obj="course"),
    "fidelity:give_consent": Url(CASE, obj="course", post=True),
    "fidelity:withdraw_consent": Url(CASE, obj="course", post=True),
    "fidelity:upload_start": Url(CASE, obj="course", post=True),
    "fidelity:upload_chunk": Url(CASE, obj="recording", post=True, more=(("index", "recording"),)),
    "fidelity:upload_finish": Url(CASE, obj="recording", post=True),
    "fidelity:recording": Url(CASE, obj="recording"),
    "fidelity:recording_media": Url(CASE, obj="recording"),
    "fidelity:assign": Url(CASE, obj="recording", post=True, supervisor_post_ok=True),  # the supervisor assigns
    "fidelity:hold": Url(CASE, obj="recording", post=True, supervisor_post_ok=True),  # the supervisor decides
    "fidelity:awaiting": Url(GENERAL),
    "fidelity:rate": Url(RATER, obj="assignment", post=True),
    "letters:list": Url(CASE, obj="course"),
    "letters:new": Url(CASE, obj="course", post=True),
    "letters:edit": Url(CASE, obj="letter", post=True),
    "letters:finalise": Url(CASE, obj="letter", post=True),
    "letters:new_version": Url(CASE, obj="final_letter", post=True),
    "letters:pdf": Url(CASE, obj="final_letter", post=True, supervisor_post_ok=True),  # asks for a PDF: a read
    "letters:pdf_progress": Url(CASE, obj="final_letter", more=(("document_pk", "letter_document"),)),
    "letters:pdf_download": Url(CASE, obj="final_letter", more=(("document_pk", "letter_document"),)),
    "screening:referral": Url(CASE, obj="referral"),
    "screening:contact": Url(CASE, obj="referral", post=True),
    "screening:send": Url(CASE, obj="referral", post=True),
    "screening:withdraw": Url(CASE, obj="referral", post=True, more=(("link_pk", "screening_link"),)),
    "screening:acknowledge": Url(CASE, obj="referral", post=True, supervisor_post_ok=True,
                                 more=(("alert_pk", "screening_alert"),)),
    "screening:decide": Url(CASE, obj="referral", post=True),
    "screening:triage": Url(CASE, obj="referral", post=True),
    "screening:rules": Url(GENERAL),
    "screening:rule_new": Url(GENERAL, post=True),
    "screening:rule_edit": Url(GENERAL, obj="rule", post=True),
    "referrals:self_refer": Url(PUBLIC, post=True),
    "referrals:self_refer_thanks": Url(PUBLIC),
    "referrals:inbox": Url(GENERAL),
    "referrals:new": Url(GENERAL, post=True),
    "referrals:detail": Url(CASE, obj="referral"),
    "referrals:decide_duplicate": Url(CASE, obj="referral", post=True),
    "service:waiting": Url(GENERAL),
    "service:queue": Url(GENERAL),
    "service:opt_in": Url(GENERAL),
    "service:operations": Url(GENERAL),
    "service:costs": Url(GENERAL, post=True),
    "service:staff_profile": Url(GENERAL, obj="staff", post=True),
    "service:my_waiting": Url(GENERAL),
    "supervision:dashboard": Url(GENERAL),
    "supervision:log": Url(GENERAL),
    "supervision:log_new": Url(GENERAL, post=True),
    "supervision:history": Url(GENERAL, obj="staff"),
    "supervision:relationship_add": Url(GENERAL, obj="staff", post=True),
    "supervision:relationship_end": Url(GENERAL, obj="relationship", post=True),
    "supervision:costs": Url(GENERAL, post=True),
    "service:discharge": Url(GENERAL, post=True),
    "service:invite": Url(CASE, obj="referral", post=True),
    "service:letter": Url(CASE, obj="referral"),
    "service:opted_in": Url(CASE, obj="referral", post=True),
}

STR_PARAMS = {"instrument_id": "phq9", "instrument": "phq9", "item": "1", "table": "metrics", "slug": "triage"}
OUTSIDERS = ["unrelated_therapist", "make_user_other_supervisor", "service_lead", "clinic_admin", "administrator"]
"""Personas who must not see or change anything of ``therapist``'s patient."""


def walk(patterns, namespace: str = "", prefix: str = ""):
    """(name, route, converters) of every URL pattern, through includes."""
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from walk(p.url_patterns, ns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield (f"{namespace}{p.name}" if p.name else None, prefix + str(p.pattern), dict(p.pattern.converters))


ALL_PATTERNS = list(walk(get_resolver().url_patterns))


def today() -> str:
    return timezone.localdate().isoformat()


from interpersonal.web.supervision.models import SupervisionRelationship  # noqa: E402


def post_data(name: str, case) -> dict[str, str]:
    """Data a real form would send: if access control were missing, the write would succeed."""
    phq9 = {f"phq9-item_{n}": "1" for n in range(1, 10)}
    return {
        "patients:edit": {"given_name": "Hacked", "family_name": "Name", "date_of_birth": "1985-03-14",
                          "received_on": today(), "source": "gp", "version": "1"},
        "patients:new": {"given_name": "Newton", "family_name": "Outsider", "date_of_birth": "1970-01-01",
                         "received_on": today(), "source": "self"},
        "courses:new": {"protocol": "ipt", "planned_sessions": "16", "started_on": today()},
        "patients:new_referral": {"received_on": today(), "source": "gp"},
        "patients:end_referral": {"reason": "declined", "ended_on": today(), "version": "1"},
        "courses:record_session": {"date": today(), "time": "00:01", "attendance": "5", "duration_minutes": "50",
                                   "medium": "face_to_face", "notes": "", "home_practice": ""},
        "courses:record_measure": {"instrument": "phq9", "session": "", "date": today(), **phq9},
        "courses:task": {"task": "ipaf_agreed", "done": "1"},
        "courses:end": {"reason": "completed", "ended_on": today()},
        "courses:step_up": {"protocol": "ipt", "planned_sessions": "16"},
        "courses:correct_session": {"date": today(), "time": "00:01", "attendance": "3", "duration_minutes": "",
                                    "medium": "telephone", "notes": "Hacked", "home_practice": "",
                                    "reason": "Hacked", "version": "1"},
        "courses:delete_session": {"delete-reason": "Hacked", "delete-version": "1"},
        "courses:correct_measure": {**phq9, "phq9-item_9": "0", "reason": "Hacked", "version": "1"},
        "courses:delete_measure": {"delete-reason": "Hacked", "delete-version": "1"},
        "courses:book_series": {"first_day": (timezone.localdate() + dt.timedelta(days=5)).isoformat(), "time": "09:00",
                                "count": "2", "every_days": "7", "duration_minutes": "50", "medium": "face_to_face",
                                "room": ""},
        "courses:appointment": {"op": "cancel", "code": "2", "expected": case["booking"].scheduled_at.isoformat()},
        "courses:diary_feed_settings": {"op": "new"},
        "courses:record_contact": {"kind": "phone", "date": today(), "time": "00:01", "duration_minutes": "10",
                                   "with_whom": "", "note": "Hacked"},
        "courses:correct_contact": {"kind": "letter", "date": today(), "time": "00:01", "duration_minutes": "",
                                    "with_whom": "", "note": "Hacked", "reason": "Hacked", "version": "1"},
        "courses:delete_contact": {"delete-reason": "Hacked", "delete-version": "1"},
        "assessments:acknowledge_alert": {"note": "Acknowledged by someone not responsible"},
        "assessments:risk_new": {"reviews": "0", "alert": "0", "a_overall_level": "high", "a_formulation": "Hacked",
                                 "p_warning_signs": "Hacked",
                                 "review_due": (timezone.localdate() + dt.timedelta(days=7)).isoformat()},
        "assessments:score": phq9,
        "accounts:login": {"username": "nobody", "password": "wrong"},
        "accounts:staff_reset": {"confirm": "on"},
        "accounts:staff_reset_mfa": {"confirm": "on"},
        "accounts:staff_handover": {"to_therapist": "1", "confirm": "on"},
        "accounts:team": {"action": "rename", "name": "Hacked", "version": "1"},
        "accounts:grant": {"decision": "confirm"},
        "questionnaires:send": {"instruments": ["phq9", "gad7"], "valid_days": "7"},
        "questionnaires:resend": {"channel": "email"},
        "questionnaires:start": {"mode": "one"},
        "formulation:ipaf": {"self_representation": "Hacked", "affect": "Hacked", "based_on": ""},
        "formulation:inventory": {"label": "Hacked", "ring": "inner"},
        "formulation:person": {"label": "Hacked", "ring": "inner", "version": "1"},
        "formulation:person_remove": {"version": "1"},
        "formulation:timeline": {"occurred_on": today(), "event": "Hacked", "mood": "0"},
        "formulation:event": {"occurred_on": today(), "event": "Hacked", "mood": "0", "version": "1"},
        "formulation:event_remove": {"version": "1"},
        "formulation:ipt": {"formulation": "Hacked", "area_1": "grief", "version": "0"},
        "letters:new": {"kind": "gp_discharge"},
        "fidelity:give_consent": {"given_on": today(), "how": "written"},
        "fidelity:withdraw_consent": {"withdrawn_on": today()},
        "fidelity:hold": {"held": "1"},
        "fidelity:rate": {"item_focus": "1", "reason": "Hacked", "version": "2"},
        "letters:edit": {"body": "Hacked", "version": "1"},
        "letters:finalise": {"version": "1"},
        "privacy:find": {"identifier": case["patient"].local_id},
        "privacy:subject_access": {"format": "json", "reference": "SAR-1"},
        "referrals:new": {"given_name": "Newton", "family_name": "Outsider", "date_of_birth": "1970-01-01",
                          "received_on": today(), "source": "gp"},
        "referrals:decide_duplicate": {"same_person": "yes", "version": "1"},
        "privacy:erase": {"reason": "entered_in_error", "reference": "IG-1", "confirm": case["patient"].local_id,
                          "version": str(case["patient"].version)},
        "screening:contact": {"date": today(), "time": "00:01", "attendance": "5", "duration_minutes": "30",
                              "medium": "telephone", "notes": ""},
        "screening:send": {"instruments": ["phq9", "gad7"], "valid_days": "7"},
        "screening:acknowledge": {"note": "Acknowledged by someone not responsible"},
        "screening:withdraw": {},
        "screening:decide": {"clinician_risk": "no", "under_secondary_care": "no", "decision": "referred_on",
                             "reason": "Hacked", "version": str(case["referral"].version)},
        "screening:triage": {"step": "3", "therapy": "ipt", "reason": "Hacked", "preferred_therapy": "no_preference",
                             "version": str(case["referral"].version)},
        "screening:rule_new": {"name": "Hacked", "kind": "secondary_care", "outcome": "refer_on", "message": "Hacked",
                               "position": "5", "active": "on"},
        "screening:rule_edit": {"name": "Hacked", "kind": "secondary_care", "outcome": "refer_on", "message": "Hacked",
                                "position": "5", "active": "on", "version": str(case["rule"].version)},
        "service:costs": {"form": "grade", "grade-name": "Band 9 outsider"},
        "service:staff_profile": {"weekly_capacity": "1", "version": "0"},
        "service:discharge": {"referral": [f"{case['referral'].pk}:{case['referral'].version}"], "confirm": "on"},
        "service:invite": {"channel": "letter"},
        "service:opted_in": {"opted_in_on": ""},
    }.get(name, {})


@pytest.fixture
def case(therapist, patient, dit_course, attended_session, risk_alert, other_patient, records_officer, clinic_admin,
         settings):
    """``therapist``'s patient with a DIT course, a session, an open risk alert, an open
    questionnaire link, a draft goodbye letter and a final GP letter; ``therapist``'s second
    patient with an IPT course, one person in the inventory and one timeline event; and an
    unrelated patient so the outsiders have caseloads of their own."""
    from interpersonal.web.accounts.actions import create_staff, create_team
    from interpersonal.web.assessments.actions import raise_alert
    from interpersonal.web.courses.actions import start_course
    from interpersonal.web.courses.contacts import record_contact
    from interpersonal.web.courses.diary.actions import book_series, new_feed_key
    from interpersonal.web.documents.actions import request_letter_pdf, request_subject_access
    from interpersonal.web.formulation.actions import add_event, add_person
    from interpersonal.web.letters.actions import PLACEHOLDER, draft_letter, finalise_letter
    from interpersonal.web.patients.actions import register_patient
    from interpersonal.web.questionnaires.actions import issue_link
    from interpersonal.web.questionnaires.tokens import hash_token, new_token

    link, token = issue_link(course=dit_course, instruments=["phq9", "gad7"], by=therapist)
    ipt_patient = register_patient(
        by=therapist, given_name="Ivy", family_name="Tutorial", date_of_birth=dt.date(1979, 11, 5),
        received_on=timezone.localdate() - dt.timedelta(days=30), source="gp",
    )
    ipt_course = start_course(patient=ipt_patient, protocol="ipt", therapist=therapist, by=therapist,
                              started_on=timezone.localdate() - dt.timedelta(days=14))
    person = add_person(course=ipt_course, by=therapist, label="Sam", relationship="partner", ring="inner",
                        quality="", support="", conflict="", expectations="", change_wanted="")
    event = add_event(course=ipt_course, by=therapist, occurred_on=dt.date(2025, 9, 1), event="Moved out", mood=-3)
    gp_draft = draft_letter(course=dit_course, kind="gp_discharge", by=therapist)
    final_letter = finalise_letter(letter=gp_draft, by=therapist, expected_version=gp_draft.version,
                                   body=PLACEHOLDER.sub("Discharged to your care.", gp_draft.body))
    letter = draft_letter(course=dit_course, kind="goodbye", by=therapist)
    letter_document = request_letter_pdf(letter=final_letter, by=therapist)
    sar_document = request_subject_access(patient=patient, fmt="json", reference="", by=therapist)
    # Account pages: a new therapist's access waiting for a clinician, and a new service lead's link.
    grant = create_staff(by=clinic_admin, username="nell.newcomer", role="therapist").grant
    enrolment_key = create_staff(by=clinic_admin, username="ned.newlead", role="service_lead").token
    team = create_team(name="Permissions team", by=clinic_admin)
    # Screening rows of the patient's referral (in treatment now: screening is closed, so stored
    # through the lower-level pieces): a link sent at screening and the risk alert it raised.
    referral = dit_course.referral
    screening_link = QuestionnaireLink.objects.create(
        token_hash=hash_token(new_token()), patient=patient, referral=referral, course=None, instruments=["phq9"],
        created_by=therapist, expires_at=timezone.now() + dt.timedelta(days=7),
    )
    with transaction.atomic():
        screening_alert = raise_alert(referral=referral, instrument="phq9", items=["9"], by=therapist,
                                      questionnaire_link=screening_link)
    booking = book_series(course=dit_course, by=therapist, first_day=timezone.localdate() + dt.timedelta(days=3),
                          at=dt.time(10, 0), count=1)[0]
    feed_key = new_feed_key(by=therapist)
    contact = record_contact(course=dit_course, by=therapist, kind="liaison", with_whom="GP, Elm Surgery",
                             at=timezone.now() - dt.timedelta(days=2), note="Discussed medication with the GP.")
    # A session recording of the DIT course, rated by the supervisor (fidelity); the key stays set to play it.
    from web.fidelity.conftest import KEY
    from web.fidelity.helpers import add_rated_recording

    settings.INTERPERSONAL_RECORDINGS_KEY = KEY
    recording = add_rated_recording(dit_course, therapist)
    ensure_default_rules()  # emptied by a transactional test that ran before, if any
    rule = SuitabilityRule.objects.order_by("pk").first()
    return {"patient": patient, "course": dit_course, "session": attended_session, "alert": risk_alert,
            "measurement": risk_alert.measurement,
            "link": link, "token": token, "ipt_patient": ipt_patient, "ipt_course": ipt_course,
            "person": person, "event": event, "letter": letter, "final_letter": final_letter, "staff": therapist,
            "relationship": SupervisionRelationship.objects.filter(supervisee=therapist).first(),
            "records_officer": records_officer, "letter_document": letter_document, "sar_document": sar_document,
            "grant": grant, "enrolment_key": enrolment_key, "referral": referral, "screening_link": screening_link,
            "screening_alert": screening_alert, "rule": rule, "booking": booking,
            "feed_key": feed_key, "team": team, "contact": contact, "recording": recording,
            "assignment": recording.assignments.get()}


def path_for(name: str, converters: dict, case, *, token: str | None = None) -> str:
    url = URLS[name]
    more = dict(url.more)
    kwargs = {}
    for param, converter in converters.items():
        if type(converter).__name__ == "IntConverter":
            obj = more.get(param, url.obj)
            assert obj, f"{name}: say which object fills <int:{param}>"
            kwargs[param] = case[obj].pk
        elif param == "token":
            kwargs[param] = token or case["token"]
        elif param == "ref":  # a records page: the link a search made for the case's records officer
            assert url.obj, f"{name}: say which object <str:ref> links to"
            kwargs[param] = record_link(case["records_officer"], case[url.obj].pk)
        elif param == "feed_key":  # the case therapist's calendar feed (courses.diary)
            kwargs[param] = case["feed_key"]
        elif param == "key":  # a staff enrolment link's one-time key
            kwargs[param] = case["enrolment_key"]
        else:
            kwargs[param] = STR_PARAMS[param]
    return reverse(name, kwargs=kwargs)


def state() -> tuple:
    """Everything a write could change."""
    return (
        list(Patient.objects.order_by("pk").values_list("pk", "given_name", "family_name", "version")),
        list(Course.objects.order_by("pk").values_list("pk", "status", "version")),
        list(Referral.objects.order_by("pk").values_list("pk", "status", "version")),
        TherapySession.objects.count(), Measurement.objects.count(), TaskCompletion.objects.count(),
        list(TherapySession.all_rows.order_by("pk").values_list("pk", "version", "attendance", "notes")),
        list(Measurement.all_rows.order_by("pk").values_list("pk", "version", "answers")),
        list(RiskAlert.objects.order_by("pk").values_list("pk", "acknowledged_at")),
        list(QuestionnaireLink.objects.order_by("pk").values_list("pk", "submitted_at", "withdrawn_at", "draft",
                                                                       "delivery", "token_hash")),
        IpafRevision.objects.count(),
        list(InventoryPerson.objects.order_by("pk").values_list("pk", "label", "version", "removed_at")),
        list(TimelineEvent.objects.order_by("pk").values_list("pk", "event", "version", "removed_at")),
        list(IptFormulation.objects.order_by("pk").values_list("pk", "formulation", "version")),
        list(Letter.objects.order_by("pk").values_list("pk", "status", "body", "version")),
        list(Document.objects.order_by("pk").values_list("pk", "kind", "state")),
        list(Referral.objects.order_by("pk").values_list("pk", "status", "version", "therapy", "therapist_id")),
        ScreeningDecision.objects.count(), Triage.objects.count(),
        list(SuitabilityRule.objects.order_by("pk").values_list("pk", "name", "version", "active")),
        list(SelfReferral.objects.order_by("pk").values_list("pk", "duplicate", "version")),
        list(OptInInvitation.objects.order_by("pk").values_list("pk", "opted_in_on")),
        list(StaffGrade.objects.order_by("pk").values_list("pk", "name")), GradeCost.objects.count(),
        list(StaffProfile.objects.order_by("pk").values_list("pk", "version")),
        list(TherapySession.objects.order_by("pk").values_list("pk", "scheduled_at", "attendance", "room")),
        FollowUp.objects.count(), list(DiaryFeed.objects.order_by("pk").values_list("pk", "key_hash")),
        list(Contact.all_rows.order_by("pk").values_list("pk", "kind", "note", "version", "entered_in_error_at")),
        RiskAssessment.objects.count(),
    )


def assert_no_leak(response, case, where: str) -> None:
    if response.get("Content-Type", "").startswith("application/pdf"):
        raise AssertionError(f"{where}: a letter's PDF was served")
    body = response.content.decode(errors="replace")
    # Not the NHS number or date of birth: the fixture's are the NHS's own examples, used in help texts.
    for patient in (case["patient"], case["ipt_patient"]):
        for secret in (patient.full_name, f"{patient.family_name}, {patient.given_name}", patient.local_id):
            assert secret not in body, f"{where}: {secret!r} leaked"


def case_patterns():
    return [(n, r, c) for n, r, c in ALL_PATTERNS if n in URLS and URLS[n].kind == CASE]


def records_patterns():
    return [(n, r, c) for n, r, c in ALL_PATTERNS if n in URLS and URLS[n].kind == RECORDS]


def token_patterns():
    return [(n, r, c) for n, r, c in ALL_PATTERNS if n in URLS and URLS[n].kind == TOKEN]


# --- the table is complete -----------------------------------------------------------------


def test_every_url_pattern_is_named_and_classified():
    unnamed = [route for name, route, _ in ALL_PATTERNS if name is None]
    unclassified = sorted({name for name, _, _ in ALL_PATTERNS if name and name not in URLS})

    assert unnamed == [], "name every URL pattern so it can be classified"
    assert unclassified == [], f"classify these URLs in tests/web/test_permissions.py: {unclassified}"


def test_classification_table_has_no_stale_entries():
    known = {name for name, _, _ in ALL_PATTERNS}

    assert sorted(set(URLS) - known) == []


def test_every_case_url_says_which_object_it_takes():
    for name, _, converters in case_patterns():
        assert converters, f"{name} is classified as one patient's record but takes no id"
        assert URLS[name].obj in {"patient", "course", "ipt_course", "session", "alert", "letter", "final_letter",
                                  "referral", "recording"}
        assert {obj for _, obj in URLS[name].more} <= {"link", "person", "event", "letter_document", "screening_link",
                                                       "screening_alert", "referral", "session", "measurement", "booking",
                                                       "contact", "recording"}


def test_every_token_url_takes_the_token_and_no_id():
    assert token_patterns()
    for name, route, converters in token_patterns():
        assert "token" in converters, f"{name} is classified as reached by token but takes none"
        assert not any(type(c).__name__ == "IntConverter" for c in converters.values()), name
        assert route.startswith("q/"), f"{name}: patient pages live under q/"


# --- anonymous -----------------------------------------------------------------------------


def test_anonymous_requests_redirect_to_login_except_public_urls(case):
    client = Client()
    before = state()
    for name, _, converters in ALL_PATTERNS:
        path = path_for(name, converters, case)
        methods = ("get", "post") if URLS[name].post or URLS[name].kind == CASE else ("get",)
        for method in methods:
            response = getattr(client, method)(path, post_data(name, case) if method == "post" else None)
            where = f"anonymous {method.upper()} {path} ({name})"
            if URLS[name].kind == PUBLIC:
                assert response.status_code in (200, 400, 405), where
            elif URLS[name].kind == TOKEN:
                assert response.status_code in (200, 302, 400, 405), where
                if response.status_code == 302:
                    assert response["Location"].startswith(f"/q/{case['token']}/"), where
            else:
                assert response.status_code == 302, where
                assert response["Location"].startswith(reverse("accounts:login")), where
            assert_no_leak(response, case, where)

    assert state() == before


def test_token_urls_with_an_unknown_token_are_404_and_change_nothing(case):
    client = Client()
    before = state()
    for name, _, converters in token_patterns():
        path = path_for(name, converters, case, token="x" * 43)
        method = "get" if name not in ("questionnaires:submit",) else "post"
        response = getattr(client, method)(path, post_data(name, case) if method == "post" else None)
        where = f"anonymous {method.upper()} {path} ({name})"
        assert response.status_code == 404, f"{where}: {response.status_code}"
        assert not re.search(r"\bPat\b", response.content.decode()), where

    assert state() == before


# --- outsiders -----------------------------------------------------------------------------


@pytest.mark.parametrize("persona", OUTSIDERS)
def test_outsiders_get_404_or_403_on_every_case_url_and_change_nothing(request, case, persona):
    outsider = request.getfixturevalue(persona)
    client = Client()
    client.force_login(outsider)
    before = state()
    for name, _, converters in case_patterns():
        path = path_for(name, converters, case)
        for method in ("get", "post"):
            response = getattr(client, method)(path, post_data(name, case) if method == "post" else None)
            where = f"{persona} {method.upper()} {path} ({name})"
            assert response.status_code in (403, 404, 405), f"{where}: {response.status_code}"
            assert_no_leak(response, case, where)

    assert state() == before
    assert not AuditEvent.objects.filter(actor_id=outsider.pk, patient_id=case["patient"].pk).exists()


@pytest.mark.parametrize("persona", OUTSIDERS)
def test_outsiders_see_no_trace_of_the_patient_on_general_pages(request, case, persona):
    client = Client()
    client.force_login(request.getfixturevalue(persona))
    for name, _, converters in ALL_PATTERNS:
        if URLS[name].kind == CASE:
            continue
        path = path_for(name, converters, case)
        response = client.get(path, follow=True)
        assert response.status_code in (200, 403, 404, 405), f"{persona} GET {path}: {response.status_code}"
        assert_no_leak(response, case, f"{persona} GET {path} ({name})")
        if name == "patients:list" and response.status_code == 200:
            for q in (case["patient"].family_name, "9434765919", case["patient"].local_id, "Pat"):
                found = client.get(path, {"q": q})  # the page echoes the query; it must find nothing
                assert list(found.context["patients"]) == [], f"{persona} search {q!r}"
                assert case["patient"].full_name not in found.content.decode()


def test_id_of_an_unrelated_course_is_indistinguishable_from_a_missing_one(case, unrelated_therapist, client_for):
    client = client_for(unrelated_therapist)
    missing = Course.objects.order_by("-pk").first().pk + 1000

    real = client.get(reverse("courses:detail", args=[case["course"].pk]))
    absent = client.get(reverse("courses:detail", args=[missing]))

    assert real.status_code == absent.status_code == 404


# --- the supervisor: reads, does not write -------------------------------------------------


def test_supervisor_reads_the_case_but_cannot_change_it(case, supervisor):
    client = Client()
    client.force_login(supervisor)
    for name in ("patients:detail", "courses:detail"):
        obj = "patient" if name.startswith("patients") else "course"
        assert client.get(reverse(name, args=[case[obj].pk])).status_code == 200, name

    before = state()
    for name, _, converters in case_patterns():
        if not URLS[name].post or URLS[name].supervisor_post_ok:
            continue
        path = path_for(name, converters, case)
        response = client.post(path, post_data(name, case))
        assert response.status_code in (403, 404), f"supervisor POST {path} ({name}): {response.status_code}"
    assert state() == before


def test_supervisor_may_acknowledge_a_supervisees_alert(case, supervisor, client_for):
    response = client_for(supervisor).post(reverse("assessments:acknowledge_alert", args=[case["alert"].pk]),
                                           {"note": "Discussed in supervision; GP informed."})

    assert response.status_code == 302
    case["alert"].refresh_from_db()
    assert case["alert"].acknowledged_by == supervisor


# --- the therapist: the case URLs work ----------------------------------------------------


def test_therapist_gets_every_case_page(case, therapist, client_for):
    client = client_for(therapist)
    for name, _, converters in case_patterns():
        path = path_for(name, converters, case)
        if name == "courses:record_measure":
            path += "?instrument=phq9"
        response = client.get(path)
        assert response.status_code in (200, 405), f"therapist GET {path} ({name}): {response.status_code}"


def test_get_never_changes_state(case, therapist, client_for):
    client = client_for(therapist)
    before = state()
    for name, _, converters in ALL_PATTERNS:
        if name == "accounts:logout":
            continue
        client.get(path_for(name, converters, case))

    assert state() == before


def test_record_measure_unknown_instrument_is_404(case, therapist, client_for):
    response = client_for(therapist).get(reverse("courses:record_measure", args=[case["course"].pk]), {"instrument": "nope"})

    assert response.status_code == 404


# --- records requests: the records officer only ----------------------------------------------


@pytest.mark.parametrize("persona", ["therapist", "supervisor", *OUTSIDERS])
def test_only_the_records_officer_reaches_the_records_pages(request, case, persona):
    """Even the patient's own therapist and supervisor are refused: a whole-record copy or an
    erasure is information governance's decision, not a clinician's."""
    client = Client()
    client.force_login(request.getfixturevalue(persona))
    before = state()
    general = [(n, r, c) for n, r, c in ALL_PATTERNS if n in ("privacy:find", "privacy:retention")]
    for name, _, converters in [*records_patterns(), *general]:
        path = path_for(name, converters, case)
        for method in ("get", "post"):
            response = getattr(client, method)(path, post_data(name, case) if method == "post" else None)
            where = f"{persona} {method.upper()} {path} ({name})"
            assert response.status_code in (403, 405), f"{where}: {response.status_code}"
            assert_no_leak(response, case, where)
    assert state() == before


def test_every_records_url_takes_a_patient(case, records_officer, client_for):
    client = client_for(records_officer)
    assert records_patterns()
    for name, _, converters in records_patterns():
        assert URLS[name].obj == "patient", name
        path = path_for(name, converters, case)
        response = client.get(path)
        assert response.status_code in (200, 405), f"records officer GET {path} ({name}): {response.status_code}"
