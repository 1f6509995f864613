"""Fuzzing every form that takes input (issue 7b): no crash, no 500, no silent number.

Hypothesis drives the Django test client (which re-raises any exception a view lets escape, so a
would-be 500 fails the example). Where it is cheap, the property is stronger: an invalid answer
stores no number (recording a measure and the calculator, over every instrument of the catalogue),
a refused form changes nothing, a ``version`` that is not the one shown changes nothing, filters
that are not valid are never answered with unfiltered numbers, and a redirect stays on this site.
Inputs a view reads straight from the request are also sent with NUL, under
``nul_refused_as_postgresql_does``. ``test_fuzz_endpoints`` fuzzes every URL generically.
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interpersonal.core import measures
from interpersonal.web.assessments.models import Measurement
from interpersonal.web.patients.models import Patient
from interpersonal.web.privacy.access import record_link
from interpersonal.web.questionnaires.models import QuestionnaireLink

RUNS: dict[str, int] = {}


@pytest.fixture(scope="module", autouse=True)
def report_examples_run():
    """How many examples each target ran, printed when the module's tests are done (``-s``)."""
    yield
    print(f"\n[fuzz-forms] examples run per target: {RUNS} total {sum(RUNS.values())}")


FUZZ = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)

nasty_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20),
    st.sampled_from(["", " ", "\x00", "<script>alert(1)</script>", "' OR 1=1 --", "ﷺ" * 50, "😀" * 30,
                     "\u202e", "NaN", "inf", "-1", "1e309", "0x10", "٣", "1.5", "None", "true"]),
    st.just("x" * 2000),
).filter(lambda s: "\x00" not in s)
"""Text the browser could send (NUL is refused by Django's form fields before the view; kept out so the
examples exercise the views rather than the database driver)."""
odd_dates = st.one_of(
    st.dates().map(str), st.dates().map(lambda d: d.strftime("%d/%m/%Y")), st.sampled_from(
        ["", "2026-02-30", "0000-00-00", "9999-12-31", "1900-01-01", "31/12/99", "tomorrow", "2026-13-01",
         "20261122", "2026-11-22T10:00", "-1"]), nasty_text)
numbers_as_text = st.one_of(st.integers().map(str), st.integers(-5, 10).map(str), st.floats().map(str), nasty_text)
nhs = st.one_of(st.text(alphabet="0123456789 -", max_size=14), st.sampled_from(["943 476 5919", "9434765919",
                                                                               "9434765918", "0000000000"]),
                nasty_text)


with_nul = st.one_of(nasty_text, st.sampled_from(["\x00", "a\x00b", "1\x00"]))
"""Text with NUL too, for inputs a view reads straight from the request (run under
``nul_refused_as_postgresql_does``: PostgreSQL refuses NUL)."""
huge = st.sampled_from([str(2**31), str(2**63), str(2**64), str(10**30), "9" * 5000, "-" + "9" * 30])


def count(name):
    RUNS[name] = RUNS.get(name, 0) + 1


@contextmanager
def rolled_back():
    """One example's writes undone afterwards, so a valid one does not change what the next sees."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def assert_served(response, where):
    assert response.status_code < 500, f"{where}: {response.status_code}"


@pytest.fixture
def therapist_client(therapist):
    client = Client()
    client.force_login(therapist)
    return client


def test_patient_registration_and_edit(therapist_client, patient):
    @FUZZ
    @given(given_name=nasty_text, family_name=nasty_text, dob=odd_dates, referral=odd_dates, nhs_number=nhs,
           source=st.sampled_from(["gp", "self", "nonsense", ""]), version=numbers_as_text)
    def run(given_name, family_name, dob, referral, nhs_number, source, version):
        count("patients:new/edit")
        data = {"given_name": given_name, "family_name": family_name, "date_of_birth": dob, "nhs_number": nhs_number,
                "received_on": referral, "source": source}
        before = Patient.objects.count()
        response = therapist_client.post(reverse("patients:new"), data)
        assert_served(response, "patients:new")
        if response.status_code != 302:
            assert Patient.objects.count() == before, "a refused registration stored a patient"
        response = therapist_client.post(reverse("patients:edit", args=[patient.pk]), {**data, "version": version})
        assert_served(response, "patients:edit")

    run()


def test_session_recording(therapist_client, dit_course):
    @FUZZ
    @given(date=odd_dates, time=st.one_of(st.sampled_from(["00:01", "25:00", "12:60", ""]), nasty_text),
           attendance=numbers_as_text, duration=numbers_as_text, medium=st.sampled_from(["face_to_face", "x", ""]),
           notes=nasty_text)
    def run(date, time, attendance, duration, medium, notes):
        count("courses:record_session")
        response = therapist_client.post(reverse("courses:record_session", args=[dit_course.pk]), {
            "date": date, "time": time, "attendance": attendance, "duration_minutes": duration, "medium": medium,
            "notes": notes, "home_practice": notes})
        assert_served(response, "courses:record_session")

    run()


item_values = st.one_of(st.sampled_from(["", "0", "1", "2", "3"]), numbers_as_text)
CATALOGUE = [i.id for i in measures.catalogue()]
not_an_answer = st.one_of(
    st.integers().map(str), numbers_as_text, nasty_text,
    st.sampled_from(["1.0", " 1", "1 ", "+1", "01", "١", "1e0", "0x1", "true", "-0", str(2**64)]),
)
"""A value no item offers as given (out of range, non-numeric, or a number spelt another way)."""


@st.composite
def answer_sets(draw, instrument: measures.Instrument):
    """(field -> value, spoilt): an answer set as the form sends it, mostly each item's own
    options (up to two left blank); ``spoilt`` fields hold a value that is not one of them."""
    values, allowed = {}, {}
    for item in instrument.items:
        name = f"item_{item.id}"
        allowed[name] = {"", *(str(o.value) for o in item.options)}
        values[name] = draw(st.sampled_from(sorted(allowed[name] - {""})))
        if item.variants:
            allowed[f"{name}_variant"] = {"", *(v.id for v in item.variants)}
            values[f"{name}_variant"] = draw(st.sampled_from(sorted(allowed[f"{name}_variant"])))
    for name in draw(st.sets(st.sampled_from(sorted(n for n in values if not n.endswith("_variant"))), max_size=2)):
        values[name] = ""
    spoilt = set()
    for _ in range(draw(st.integers(0, 2))):
        name = draw(st.sampled_from(sorted(values)))
        values[name] = draw(not_an_answer.filter(lambda v, ok=allowed[name]: v not in ok))
        spoilt.add(name)
    return values, spoilt


def expected_score(instrument: measures.Instrument, values: dict[str, str]) -> measures.Score:
    return measures.score(instrument.id, {it.id: int(values[f"item_{it.id}"]) for it in instrument.items
                                          if values[f"item_{it.id}"] != ""})


@pytest.mark.parametrize("instrument_id", CATALOGUE)
def test_record_measure_stores_no_number_from_an_invalid_answer(therapist_client, dit_course, instrument_id):
    """Every instrument of the catalogue: an answer set with a value the item does not offer is
    refused and stores no Measurement; a stored one has exactly the engine's total."""
    instrument = measures.get(instrument_id)
    url = reverse("courses:record_measure", args=[dit_course.pk]) + f"?instrument={instrument_id}"

    @FUZZ
    @given(answers=answer_sets(instrument), date=st.one_of(st.just(""), st.dates(max_value=dt.date(2025, 12, 31)).map(str),
                                                           odd_dates))
    def run(answers, date):
        values, spoilt = answers
        count(f"courses:record_measure[{instrument_id}]")
        before = Measurement.objects.count()
        data = {"instrument": instrument_id, "session": "", "date": date}
        data.update({f"{instrument_id}-{k}": v for k, v in values.items()})
        response = therapist_client.post(url, data)
        assert_served(response, "courses:record_measure")
        stored = Measurement.objects.order_by("-pk").first() if Measurement.objects.count() != before else None
        if spoilt:
            assert stored is None, f"{instrument_id}: a number was stored from {values}"
            assert response.status_code == 400
        if stored is not None:
            assert response.status_code == 302
            assert stored.total == expected_score(instrument, values).total, f"{instrument_id}: {values}"

    run()


@pytest.mark.parametrize("instrument_id", CATALOGUE)
def test_scoring_calculator_shows_no_total_for_an_invalid_answer(therapist_client, instrument_id):
    """Every instrument of the catalogue: the calculator shows an error, never a total, for a value
    the item does not offer; for a valid set it shows the engine's total."""
    instrument = measures.get(instrument_id)
    url = reverse("assessments:score", args=[instrument_id])

    @FUZZ
    @given(answers=answer_sets(instrument))
    def run(answers):
        values, spoilt = answers
        count(f"assessments:score[{instrument_id}]")
        response = therapist_client.post(url, values)
        assert_served(response, "assessments:score")
        html = response.content.decode()
        result = response.context["result"]
        if spoilt:
            assert response.status_code == 400, f"{instrument_id}: {values} scored"
            assert result is None, f"{instrument_id}: scored {values}"
            assert 'class="total"' not in html, f"{instrument_id}: a total shown for {values}"
        elif response.status_code == 200:
            expected = expected_score(instrument, values).total
            assert result.total == expected, f"{instrument_id}: {values}"
            if expected is not None:
                assert f'<dd class="total">{expected} ' in html
        else:  # only an answered item rated in variants without saying which is refused
            assert any(values[f"item_{it.id}"] and not values[f"item_{it.id}_variant"]
                       for it in instrument.items if it.variants), f"{instrument_id}: {values} refused"
            assert result is None
            assert 'class="total"' not in html

    run()


@pytest.fixture
def link(dit_course, therapist):
    from interpersonal.web.questionnaires.actions import issue_link

    return issue_link(course=dit_course, instruments=["phq9", "gad7"], by=therapist)


def test_questionnaire_question_pages_store_no_invalid_answer(link):
    link_obj, token = link
    client = Client()

    @FUZZ
    @given(instrument=st.sampled_from(["phq9", "gad7", "wsas", "x"]), item=st.sampled_from(["1", "9", "10", "0", "a"]),
           answer=item_values, go=st.sampled_from(["next", "back", "skip", "", "zz"]))
    def run(instrument, item, answer, go):
        count("questionnaires:question")
        response = client.post(f"/q/{token}/{instrument}/{item}/", {"answer": answer, "go": go})
        assert_served(response, "questionnaires:question")
        stored = QuestionnaireLink.objects.get(pk=link_obj.pk).draft or {}
        for inst, answers in stored.items():
            for value in answers.values():
                assert type(value) is int, f"draft holds {value!r} ({inst})"
                assert 0 <= value <= 3, f"draft holds {value!r} ({inst})"

    run()


def test_questionnaire_all_on_one_page(link):
    link_obj, token = link
    client = Client()
    names = [f"phq9-{n}" for n in range(1, 10)] + [f"gad7-{n}" for n in range(1, 8)]

    @FUZZ
    @given(values=st.dictionaries(st.sampled_from([*names, "phq9-10", "x"]), item_values, max_size=18),
           submit=st.booleans())
    def run(values, submit):
        count("questionnaires:all/submit")
        response = client.post(f"/q/{token}/all/", values)
        assert_served(response, "questionnaires:all")
        if submit:
            assert_served(client.post(f"/q/{token}/submit/", {}), "questionnaires:submit")
        for m in Measurement.objects.filter(questionnaire_link=link_obj) if hasattr(Measurement, "questionnaire_link") \
                else []:
            assert m.total is None or m.total >= 0

    run()


def test_staff_forms_as_administrator(clinic_admin, therapist):
    client = Client()
    client.force_login(clinic_admin)

    @FUZZ
    @given(username=nasty_text, password=nasty_text, first=nasty_text, email=nasty_text,
           role=st.sampled_from(["therapist", "supervisor", "administrator", "service_lead", "god", ""]),
           supervisor=numbers_as_text, team=numbers_as_text, name=nasty_text)
    def run(username, password, first, email, role, supervisor, team, name):
        count("accounts:staff forms")
        data = {"username": username, "password": password, "first_name": first, "last_name": first, "email": email,
                "role": role, "supervisor": supervisor, "team": team}
        assert_served(client.post(reverse("accounts:staff_new"), data), "accounts:staff_new")
        assert_served(client.post(reverse("accounts:staff_edit", args=[therapist.pk]), {**data, "is_active": "on"}),
                      "accounts:staff_edit")
        assert_served(client.post(reverse("accounts:teams"), {"name": name}), "accounts:teams")

    run()


def test_alert_acknowledgement_notes(therapist_client, risk_alert, nul_refused_as_postgresql_does):
    @FUZZ
    @given(note=with_nul)
    def run(note):
        count("assessments:acknowledge_alert")
        with rolled_back():
            response = therapist_client.post(reverse("assessments:acknowledge_alert", args=[risk_alert.pk]),
                                             {"note": note})
            assert_served(response, "assessments:acknowledge_alert")
            risk_alert.refresh_from_db()
            assert risk_alert.open == (response.status_code != 302), f"{note!r}: {response.status_code}"

    run()


def test_formulation_and_letter_forms(therapist_client, dit_course, therapist):
    from interpersonal.web.letters.actions import draft_letter

    letter = draft_letter(course=dit_course, kind="goodbye", by=therapist)

    @FUZZ
    @given(text=nasty_text, version=numbers_as_text, kind=st.sampled_from(["gp_discharge", "goodbye", "x", ""]))
    def run(text, version, kind):
        count("formulation/letters")
        pk = dit_course.pk
        for name, data in (
            ("formulation:ipaf", {"self_representation": text, "affect": text, "based_on": version}),
            ("letters:new", {"kind": kind}),
        ):
            assert_served(therapist_client.post(reverse(name, args=[pk]), data), name)
        assert_served(therapist_client.post(reverse("letters:edit", args=[letter.pk]),
                                            {"body": text, "version": version}), "letters:edit")

    run()


def test_records_requests_forms(records_officer, dit_course):
    """Find, subject access and erase: a malformed identifier, reference, reason, confirmation or
    version is refused with a page, never a 500, and erases nothing."""
    client = Client()
    client.force_login(records_officer)
    patient = dit_course.patient
    link = record_link(records_officer, patient.pk)

    @FUZZ
    @given(identifier=st.one_of(nhs, nasty_text), reference=nasty_text, fmt=st.sampled_from(["pdf", "json", "x", ""]),
           reason=st.sampled_from(["entered_in_error", "retention_expired", "erasure_request", "nonsense", ""]),
           confirm=st.one_of(nasty_text, st.just("P999999")), version=numbers_as_text)
    def run(identifier, reference, fmt, reason, confirm, version):
        count("records requests")
        assert_served(client.post(reverse("privacy:find"), {"identifier": identifier}), "privacy:find")
        if fmt != "pdf":  # a PDF per example would be slow; the PDF path shares the form (tested elsewhere)
            assert_served(client.post(reverse("privacy:subject_access", args=[link]),
                                      {"format": fmt, "reference": reference}), "privacy:subject_access")
        response = client.post(reverse("privacy:erase", args=[link]),
                               {"reason": reason, "reference": reference, "confirm": confirm, "version": version})
        assert_served(response, "privacy:erase")
        assert Patient.objects.filter(pk=patient.pk).exists(), "a malformed erasure erased the record"

    run()


# --- the rest of issue 7's inputs: formulation, courses, questionnaires, outcomes, audit, accounts --


def versions(current: int) -> st.SearchStrategy[str]:
    """The ``version`` a form sends back: the current one, another, none, or junk."""
    return st.one_of(st.just(str(current)), st.just(""), st.integers(-2, current + 2).map(str), numbers_as_text, huge,
                     with_nul)


NOT_A_NUMBER = "not a number"


def form_number(value: str) -> int | None:
    """A posted number as Django's IntegerField reads it (None if blank or not a number)."""
    try:
        return forms.IntegerField(required=False).clean(value)
    except ValidationError:
        return None


def whole_number(value: str) -> int | str | None:
    """A posted ``version`` as a version view reads it: Python's ``int`` of the text, None when
    blank (no check asked for), else NOT_A_NUMBER."""
    try:
        return int(value) if value.strip() else None
    except ValueError:
        return NOT_A_NUMBER


OMIT = object()
bad_value = st.one_of(st.just(OMIT), with_nul, numbers_as_text, huge, odd_dates)
"""What a spoilt field holds: nothing at all (left out), or junk."""


def forms_data(valid: dict[str, st.SearchStrategy], bad: dict[str, st.SearchStrategy] | None = None):
    """A form as sent: every field valid, then up to three of them spoilt (left out, or junk;
    ``bad`` names a field's own kind of junk, beside ``bad_value``). Valid, nearly valid and
    plainly wrong forms are all drawn, so both the refusals and the writes are exercised."""
    bad = bad or {}

    @st.composite
    def build(draw):
        data = {name: draw(strategy) for name, strategy in valid.items()}
        for name in draw(st.sets(st.sampled_from(sorted(valid)), max_size=3)):
            data[name] = draw(st.one_of(bad[name], bad_value) if name in bad else bad_value)
        return {k: v for k, v in data.items() if v is not OMIT}

    return build()


def test_ipt_inventory_person_forms(therapist_client, ipt_course, therapist, nul_refused_as_postgresql_does):
    """PersonForm (add, edit) and the remove button: a refused form changes nothing; a person is
    changed or removed only against the version the form showed."""
    from interpersonal.web.formulation.actions import add_person
    from interpersonal.web.formulation.models import InventoryPerson

    person = add_person(course=ipt_course, by=therapist, label="Sam", relationship="partner", ring="inner",
                        quality="", support="", conflict="", expectations="", change_wanted="")
    pk = ipt_course.pk
    text = st.sampled_from(["", "Close", "Rows about money"])
    valid = {"label": st.sampled_from(["Mum", "Sam", "Dr K"]), "relationship": text,
             "ring": st.sampled_from(["inner", "middle", "outer"]), "quality": text, "support": text, "conflict": text,
             "expectations": text, "change_wanted": text, "version": st.just(str(person.version)),
             "seen-label": st.just("Sam")}
    bad = {"ring": st.sampled_from(["", "INNER", "core"]), "version": versions(person.version)}

    @FUZZ
    @given(data=forms_data(valid, bad), version=st.one_of(st.just(None), versions(person.version)))
    def run(data, version):
        count("formulation:inventory/person/person_remove")
        with rolled_back():
            before = InventoryPerson.objects.count()
            response = therapist_client.post(reverse("formulation:inventory", args=[pk]), data)
            assert_served(response, "formulation:inventory")
            if response.status_code != 302:
                assert InventoryPerson.objects.count() == before, "a refused person was added"
        with rolled_back():
            response = therapist_client.post(reverse("formulation:person", args=[pk, person.pk]), data)
            assert_served(response, "formulation:person")
            saved = InventoryPerson.objects.get(pk=person.pk)
            if response.status_code == 302:
                assert form_number(data.get("version", "")) == person.version, f"saved over {data.get('version')!r}"
            else:
                assert (saved.label, saved.version) == (person.label, person.version), "a refused edit saved"
        with rolled_back():  # the remove button's own version: none, the one shown, another, junk
            response = therapist_client.post(reverse("formulation:person_remove", args=[pk, person.pk]),
                                             {} if version is None else {"version": version})
            assert_served(response, "formulation:person_remove")
            if InventoryPerson.objects.get(pk=person.pk).removed_at is not None:
                assert whole_number(version or "") in (None, person.version), f"removed with version {version!r}"
            else:
                assert response.status_code in (400, 409)

    run()


def test_ipt_timeline_event_forms(therapist_client, ipt_course, therapist, nul_refused_as_postgresql_does):
    """EventForm (add, edit) and the remove button: the mood stored is the one given, from −5 to +5;
    a refused form changes nothing; removal only against the version shown."""
    from interpersonal.web.formulation.actions import add_event
    from interpersonal.web.formulation.models import TimelineEvent

    event = add_event(course=ipt_course, by=therapist, occurred_on=dt.date(2025, 9, 1), event="Moved out", mood=-3)
    pk = ipt_course.pk
    valid = {"occurred_on": st.dates(dt.date(1950, 1, 1), dt.date(2025, 12, 31)).map(str),
             "event": st.sampled_from(["New job", "Moved out", "Lost job </script>"]),
             "mood": st.integers(-5, 5).map(str), "version": st.just(str(event.version))}
    bad = {"mood": st.sampled_from(["-6", "6", "1.5", "+1", "٣", "-0", " 2"]), "version": versions(event.version)}

    def stored_mood_is_the_one_given(stored, data):
        assert stored.mood == int(data["mood"]), f"mood {data['mood']!r} stored as {stored.mood}"
        assert -5 <= stored.mood <= 5, f"mood {data['mood']!r} stored"

    @FUZZ
    @given(data=forms_data(valid, bad), version=st.one_of(st.just(None), versions(event.version)))
    def run(data, version):
        count("formulation:timeline/event/event_remove")
        with rolled_back():
            before = TimelineEvent.objects.count()
            response = therapist_client.post(reverse("formulation:timeline", args=[pk]), data)
            assert_served(response, "formulation:timeline")
            if response.status_code == 302:
                stored_mood_is_the_one_given(TimelineEvent.objects.order_by("-pk").first(), data)
            else:
                assert TimelineEvent.objects.count() == before, "a refused event was added"
        with rolled_back():
            response = therapist_client.post(reverse("formulation:event", args=[pk, event.pk]), data)
            assert_served(response, "formulation:event")
            saved = TimelineEvent.objects.get(pk=event.pk)
            if response.status_code == 302:
                assert form_number(data.get("version", "")) == event.version, f"saved over {data.get('version')!r}"
                stored_mood_is_the_one_given(saved, data)
            else:
                assert (saved.event, saved.mood, saved.version) == (event.event, event.mood, event.version)
        with rolled_back():  # the remove button's own version: none, the one shown, another, junk
            response = therapist_client.post(reverse("formulation:event_remove", args=[pk, event.pk]),
                                             {} if version is None else {"version": version})
            assert_served(response, "formulation:event_remove")
            if TimelineEvent.objects.get(pk=event.pk).removed_at is not None:
                assert whole_number(version or "") in (None, event.version), f"removed with version {version!r}"
            else:
                assert response.status_code in (400, 409)

    run()


def test_ipt_formulation_form(therapist_client, ipt_course, nul_refused_as_postgresql_does):
    """IptFormulationForm: the contract's number of sessions stored is the one given (1–500); a
    refused form changes nothing."""
    from interpersonal.web.formulation.models import FocalArea, IptFormulation

    url = reverse("formulation:ipt", args=[ipt_course.pk])
    valid = {"formulation": st.sampled_from(["", "Low since the move"]), "area_1": st.sampled_from(["", "grief"]),
             "stage_1": st.just(""), "goals_1": st.sampled_from(["", "Talk about Dad"]),
             "area_2": st.sampled_from(["", "role_transition"]), "stage_2": st.just(""), "goals_2": st.just(""),
             "contract_sessions": st.one_of(st.just(""), st.integers(1, 500).map(str)),
             "contract_start": st.sampled_from(["", "2026-01-05"]), "contract_end": st.sampled_from(["", "2026-05-04"]),
             "version": st.just("0")}
    areas = st.sampled_from([*FocalArea.Area.values, "GRIEF", "x"])
    stages = st.sampled_from([*FocalArea.DisputeStage.values, "x"])
    bad = {"area_1": areas, "area_2": areas, "stage_1": stages, "stage_2": stages,
           "contract_sessions": st.sampled_from(["0", "501", "-1", "1.5", "16.0", "١٦"]), "version": versions(0)}

    def saved():
        return list(IptFormulation.objects.values_list("pk", "version", "formulation", "contract_sessions",
                                                       "contract_start", "contract_end"))

    @FUZZ
    @given(data=forms_data(valid, bad))
    def run(data):
        count("formulation:ipt")
        with rolled_back():
            before = saved()
            response = therapist_client.post(url, data)
            assert_served(response, "formulation:ipt")
            if response.status_code == 302:
                stored = IptFormulation.objects.get(course=ipt_course).contract_sessions
                assert stored == form_number(data.get("contract_sessions", "")), f"{data} -> {stored}"
                assert stored is None or 1 <= stored <= 500
            else:
                assert saved() == before, "a refused formulation saved"

    run()


def test_course_forms(therapist_client, therapist, dit_course):
    """StartCourseForm, StepUpForm, EndCourseForm and TaskForm: a refused form changes nothing; the
    planned number of sessions stored is the one given (1–500) or the protocol's usual one."""
    from interpersonal.core import protocols
    from interpersonal.core.codes import EndReason
    from interpersonal.web.courses.actions import start_course
    from interpersonal.web.courses.models import Course, TaskCompletion
    from interpersonal.web.patients.actions import register_patient

    def new_patient(given):
        return register_patient(by=therapist, given_name=given, family_name="Fuzz", date_of_birth=dt.date(1980, 1, 1),
                                received_on=dt.date(2025, 1, 6), source="gp")

    fresh = new_patient("Nova")
    lit = start_course(patient=new_patient("Lita"), protocol="lit", therapist=therapist, by=therapist,
                       started_on=dt.date(2025, 2, 3))
    task_ids = [t.id for phase in dit_course.definition.phases for t in phase.tasks]
    planned = st.one_of(st.just(""), st.integers(1, 500).map(str))
    bad = {"protocol": st.sampled_from(["", "DIT", "nope"]), "planned_sessions": st.sampled_from(["0", "501", "1.5"]),
           "started_on": st.sampled_from(["2099-01-01", "1900-01-01"]), "ended_on": st.sampled_from(["2099-01-01"]),
           "reason": st.sampled_from(["stepped_up", "x"]), "task": st.sampled_from(["nope", "IPAF_AGREED"]),
           "done": st.sampled_from(["2", "true", "yes"])}
    forms_ = st.tuples(
        forms_data({"protocol": st.sampled_from([p.id for p in protocols.catalogue()]), "planned_sessions": planned,
                    "started_on": st.sampled_from(["", "2025-06-02"])}, bad),
        forms_data({"protocol": st.sampled_from([p.id for p in protocols.catalogue() if p.step > lit.definition.step]),
                    "planned_sessions": planned}, bad),
        forms_data({"reason": st.sampled_from([r.value for r in EndReason if r.value not in ("stepped_up",
                                                                                              "stepped_down")]),
                    "ended_on": st.sampled_from(["", "2025-12-01"])}, bad),
        forms_data({"task": st.sampled_from(task_ids), "done": st.sampled_from(["1", "0"])}, bad),
    )

    def courses():
        return list(Course.objects.order_by("pk").values_list("pk", "status", "protocol", "planned_sessions",
                                                                "ended_on", "version"))

    @FUZZ
    @given(forms_=forms_)
    def run(forms_):
        count("courses:new/step_up/end/task")
        new, step_up, end, task = forms_
        for name, pk, data in (("courses:new", fresh.pk, new), ("courses:step_up", lit.pk, step_up),
                               ("courses:end", dit_course.pk, end)):
            with rolled_back():
                before = courses()
                response = therapist_client.post(reverse(name, args=[pk]), data)
                assert_served(response, name)
                if response.status_code != 302:
                    assert courses() == before, f"{name}: refused but a course changed"
                elif name != "courses:end":
                    created = Course.objects.order_by("-pk").first()
                    given = form_number(data.get("planned_sessions", ""))
                    assert created.planned_sessions == (given or created.definition.default_sessions), f"{name}: {data}"
                    assert created.planned_sessions is None or 1 <= created.planned_sessions <= 500  # None: open-ended
        with rolled_back():
            before = list(TaskCompletion.objects.values_list("pk", "task_id"))
            response = therapist_client.post(reverse("courses:task", args=[dit_course.pk]), task)
            assert_served(response, "courses:task")
            if response.status_code != 302:
                assert list(TaskCompletion.objects.values_list("pk", "task_id")) == before

    run()


def test_questionnaire_send_and_withdraw(therapist_client, dit_course, therapist):
    """SendForm: a refused form issues no link; an issued link lasts the 1–31 days asked for and
    carries only the sendable questionnaires chosen. Withdraw ignores whatever else is posted."""
    from interpersonal.web.questionnaires.actions import answerable_by_patient, issue_link

    sendable = [i for i in CATALOGUE if answerable_by_patient(i)]
    existing, _ = issue_link(course=dit_course, instruments=["phq9"], by=therapist)
    valid = {"instruments": st.lists(st.sampled_from(sendable), min_size=1, max_size=3, unique=True),
             "session": st.just(""), "valid_days": st.integers(1, 31).map(str)}
    bad = {"instruments": st.lists(st.one_of(st.sampled_from([*CATALOGUE, "nope"]), nasty_text), max_size=3),
           "valid_days": st.sampled_from(["0", "32", "7.0", "-1"])}

    @FUZZ
    @given(data=forms_data(valid, bad), junk=st.dictionaries(nasty_text, nasty_text, max_size=3))
    def run(data, junk):
        count("questionnaires:send/withdraw")
        with rolled_back():
            before = QuestionnaireLink.objects.count()
            response = therapist_client.post(reverse("questionnaires:send", args=[dit_course.pk]), data)
            assert_served(response, "questionnaires:send")
            if QuestionnaireLink.objects.count() != before:
                link = QuestionnaireLink.objects.order_by("-pk").first()
                days = form_number(data["valid_days"])
                assert response.status_code == 200
                assert days is not None, f"issued with valid_days {data['valid_days']!r}"
                assert 1 <= days <= 31, f"issued with valid_days {days}"
                assert (link.expires_at - link.created_at).days in (days - 1, days)
                assert set(link.instruments) == set(data["instruments"]) <= set(sendable)
            else:
                assert response.status_code == 400
        with rolled_back():
            response = therapist_client.post(reverse("questionnaires:withdraw", args=[dit_course.pk, existing.pk]),
                                             junk)
            assert_served(response, "questionnaires:withdraw")
            assert QuestionnaireLink.objects.get(pk=existing.pk).withdrawn_at is not None

    run()


def test_outcomes_filters_and_csv_tables(service_lead, dit_course, nul_refused_as_postgresql_does):
    """FilterForm and ``<str:table>``: an unknown table is a 404; filters that are not valid are
    refused (400), never answered with the whole service's numbers as if they applied."""
    from urllib.parse import quote

    from interpersonal.web.outcomes.dataset import therapists
    from interpersonal.web.outcomes.tables import NAMES

    client = Client()
    client.force_login(service_lead)
    valid = {"since": st.sampled_from(["", "2025-01-01"]), "until": st.sampled_from(["", "2026-12-31"]),
             "provider": st.just(""), "therapy": st.sampled_from(["", "dit", "ipt"]),
             "therapist": st.sampled_from(["", *therapists()])}
    bad = {"therapy": st.sampled_from(["DIT", "nope"]), "therapist": st.sampled_from(["T999", "Tess"]),
           "since": st.sampled_from(["2026-02-30", "0000-01-01"]), "until": st.sampled_from(["soon", "10000-01-01"])}

    @FUZZ
    @given(query=forms_data(valid, bad), table=st.one_of(st.sampled_from(NAMES), with_nul))
    def run(query, table):
        count("outcomes:dashboard/csv")
        response = client.get(reverse("outcomes:dashboard"), query)
        assert_served(response, "outcomes:dashboard")
        invalid = bool(response.context["form"].errors)
        assert response.status_code == (400 if invalid else 200)
        if invalid:
            assert not response.context["filtered"]
            assert "not applied" in response.content.decode()
        response = client.get(f"/outcomes/{quote(table, safe='')}.csv", query)
        assert_served(response, "outcomes:csv")
        if table not in NAMES:
            assert response.status_code == 404
        elif invalid:
            assert response.status_code == 400
            assert not response["Content-Type"].startswith("text/csv")
        else:
            assert response.status_code == 200
            assert response["Content-Type"].startswith("text/csv")

    run()


def test_audit_filters_and_page(clinic_admin, nul_refused_as_postgresql_does):
    """AuditFilterForm and ``?page``: filters that are not valid list nothing (400); a page past
    the end or not a number is the nearest page, never a 500."""
    from interpersonal.web.audit import log
    from interpersonal.web.audit.views import PAGE_SIZE

    for n in range(PAGE_SIZE + 5):  # two pages
        log.record("patients.listed", actor=clinic_admin, target=("user", clinic_admin.pk), patient_id=n + 1)
    client = Client()
    client.force_login(clinic_admin)
    valid = {"type": st.sampled_from(["", "patients", "patients.listed"]), "actor": st.sampled_from(["", "adam.admin"]),
             "patient": st.sampled_from(["", "1", "7"]), "date_from": st.sampled_from(["", "2025-01-01"]),
             "date_to": st.sampled_from(["", "2099-12-31"]), "page": st.sampled_from(["1", "2", "3", "last", "0"])}
    bad = {"page": st.one_of(numbers_as_text, huge, with_nul), "patient": st.sampled_from(["0", "-1", "1.5"]),
           "date_to": st.just("1999-01-01")}

    @FUZZ
    @given(query=forms_data(valid, bad))
    def run(query):
        count("audit:list")
        response = client.get(reverse("audit:list"), query)
        assert_served(response, "audit:list")
        if response.status_code == 400:
            assert response.context["rows"] == []
        else:
            assert response.status_code == 200
            assert not response.context["form"].errors
            if query.get("patient"):
                assert {e.patient_id for e, _ in response.context["rows"]} <= {int(query["patient"])}

    run()


def on_this_site(location: str, page: str) -> bool:
    """A redirect's target, read as the browser would from ``page``, is on this site."""
    target = urlsplit(urljoin(f"http://testserver{page}", location.strip()))
    return url_has_allowed_host_and_scheme(location, allowed_hosts={"testserver"}) \
        and (target.scheme, target.netloc) == ("http", "testserver")


def test_mfa_codes_and_next(settings, therapist, supervisor, nul_refused_as_postgresql_does):
    """CodeForm on verify and setup, and ``?next``: only the right code passes, and passing sends
    the user to a page of this site, never elsewhere."""
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from interpersonal.web.accounts import mfa

    settings.INTERPERSONAL_REQUIRE_MFA = True
    devices = {therapist.pk: TOTPDevice.objects.create(user=therapist, name="phone", confirmed=True),
               supervisor.pk: mfa.pending_device(supervisor)}
    right = "RIGHT"
    codes = st.one_of(st.just(right), st.text(alphabet="0123456789", max_size=8), with_nul)
    nexts = st.one_of(st.sampled_from(["", "/", "/patients/?q=1", "//evil.example/", "https://evil.example/",
                                       "http://testserver/accounts/me/", "/\\evil.example", "\\\\evil.example",
                                       " //evil.example", "javascript:alert(1)", "/%2F%2Fevil.example", "///evil", "0/"]),
                      nasty_text).filter(lambda v: not v or "/" in v or "." in v)  # test_mfa_next_that_is_not_a_path

    @FUZZ
    @given(user=st.sampled_from([therapist, supervisor]), code=codes, next_=nexts)
    def run(user, code, next_):
        count("accounts:mfa_verify/mfa_setup")
        client = Client()
        client.force_login(user)
        device = devices[user.pk]
        sent = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}" if code == right \
            else code
        with rolled_back():
            name = "accounts:mfa_verify" if device.confirmed else "accounts:mfa_setup"
            response = client.post(f"{reverse(name)}?{urlencode({'next': next_})}", {"code": sent})
            assert_served(response, name)
            if response.status_code == 302:
                assert code == right, f"{name}: {sent!r} accepted"
                assert on_this_site(response["Location"], reverse(name)), response["Location"]
            else:
                assert response.status_code == 400
                assert client.get(reverse("accounts:me")).status_code == 302, "not verified, yet let in"
            response = client.get(reverse("patients:list"), {"q": next_, "next": next_})
            assert_served(response, "RequireMFAMiddleware")

    run()


def test_patient_search(therapist, unrelated_therapist, patient, nul_refused_as_postgresql_does):
    """``?q`` on the patient list: only the searcher's own patients, whatever is searched."""
    own, other = Client(), Client()
    own.force_login(therapist)
    other.force_login(unrelated_therapist)
    queries = st.one_of(with_nul, nhs, st.sampled_from([patient.family_name, patient.local_id, "Pat", "%", "_"]),
                        st.just("x" * 500))

    @FUZZ
    @given(q=st.lists(queries, min_size=1, max_size=2))
    def run(q):
        count("patients:list?q")
        for client, user in ((own, therapist), (other, unrelated_therapist)):
            response = client.get(reverse("patients:list"), {"q": q})
            assert_served(response, "patients:list")
            assert all(p.therapist_id == user.pk for p in response.context["patients"]), f"{user}: {q!r}"

    run()


def test_login_and_password_change(settings, therapist):
    """Sign-in (with ``?next``) and password change: signed in only with the right password, sent
    only to this site; a refused change keeps the old password."""
    from django.contrib.auth.hashers import make_password

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed; the hasher is not tested
    known, new = "a-known-synthetic-password", "another-long-synthetic-passphrase"
    therapist.password = make_password(known)
    therapist.save(update_fields=["password"])
    user_model = type(therapist)

    @FUZZ
    @given(username=st.one_of(st.just(therapist.username), with_nul, st.just("x" * 300)), password=st.one_of(st.just(known), with_nul),
           next_=st.one_of(st.sampled_from(["", "/caseload/", "//evil.example/", "https://evil.example/"]), nasty_text),
           new1=st.one_of(st.just(new), nasty_text), new2=st.one_of(st.just(new), nasty_text))
    def run(username, password, next_, new1, new2):
        count("accounts:login/password_change")
        client = Client()
        with rolled_back():
            response = client.post(f"{reverse('accounts:login')}?{urlencode({'next': next_})}",
                                   {"username": username, "password": password, "next": next_})
            assert_served(response, "accounts:login")
            signed_in = client.session.get("_auth_user_id") == str(therapist.pk)
            assert signed_in == (username == therapist.username and password == known and response.status_code == 302)
            if response.status_code == 302:
                assert on_this_site(response["Location"], reverse("accounts:login")), response["Location"]
        client.force_login(therapist)
        with rolled_back():
            response = client.post(reverse("accounts:password_change"),
                                   {"old_password": password, "new_password1": new1, "new_password2": new2})
            assert_served(response, "accounts:password_change")
            changed = user_model.objects.get(pk=therapist.pk).password != therapist.password
            assert changed == (response.status_code == 302)
            if changed:
                assert password == known
                assert new1 == new2

    run()


def test_letter_finalise_and_new_version(therapist_client, dit_course, therapist, nul_refused_as_postgresql_does):
    """The ``version`` posted to finalise: a letter is finalised only against the version shown;
    new-version takes no input and ignores whatever is posted."""
    from interpersonal.web.letters.actions import PLACEHOLDER, draft_letter, edit_letter, finalise_letter
    from interpersonal.web.letters.models import Letter

    # Both written through (no [[prompt]] left), so that a good version and the confirmation finalise.
    draft = draft_letter(course=dit_course, kind="goodbye", by=therapist)
    draft = edit_letter(letter=draft, by=therapist, expected_version=draft.version,
                        body=PLACEHOLDER.sub("Written.", draft.body))
    gp = draft_letter(course=dit_course, kind="gp_discharge", by=therapist)
    final = finalise_letter(letter=gp, by=therapist, expected_version=gp.version,
                            body=PLACEHOLDER.sub("Written.", gp.body))

    @FUZZ
    @given(version=versions(draft.version), junk=st.dictionaries(nasty_text, with_nul, max_size=3))
    def run(version, junk):
        count("letters:finalise/new_version")
        with rolled_back():
            response = therapist_client.post(reverse("letters:finalise", args=[draft.pk]),
                                             {**junk, "version": version, "confirm": "on"})
            assert_served(response, "letters:finalise")
            if Letter.objects.get(pk=draft.pk).is_final:
                assert whole_number(version) in (None, draft.version), f"finalised with version {version!r}"
            else:
                assert response.status_code in (400, 409)
        with rolled_back():
            before = Letter.objects.count()
            response = therapist_client.post(reverse("letters:new_version", args=[final.pk]),
                                             {**junk, "version": version})
            assert_served(response, "letters:new_version")
            assert response.status_code == 302
            assert Letter.objects.count() == before + 1

    run()
