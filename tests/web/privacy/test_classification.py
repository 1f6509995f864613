"""Every field of every project model is classified (STYLE.md 8), and the table names no ghosts."""

from __future__ import annotations

from interpersonal.web.privacy.classification import FIELDS, Class, field_names, key, project_models


def test_the_project_apps_are_all_covered():
    labels = {m._meta.app_label for m in project_models()}
    assert {"accounts", "audit", "patients", "courses", "assessments", "questionnaires", "formulation",
            "letters"} <= labels


def test_every_field_of_every_project_model_is_classified():
    unclassified = [key(m, name) for m in project_models() for name in field_names(m) if key(m, name) not in FIELDS]
    assert not unclassified, f"classify these in interpersonal/web/privacy/classification.py: {unclassified}"


def test_the_classification_names_only_fields_that_exist():
    existing = {key(m, name) for m in project_models() for name in field_names(m)}
    stale = sorted(set(FIELDS) - existing)
    assert not stale, f"these classified fields no longer exist: {stale}"


def test_every_value_is_a_class():
    assert all(isinstance(c, Class) for c in FIELDS.values())


def test_the_obviously_identifying_fields_are_identifying():
    for name in ("patients.Patient.given_name", "patients.Patient.family_name", "patients.Patient.nhs_number",
                 "patients.Patient.date_of_birth", "patients.Patient.email", "patients.Patient.phone",
                 "patients.Patient.address", "patients.Patient.gp_practice", "accounts.User.username",
                 "courses.TherapySession.notes", "letters.Letter.body", "assessments.RiskAlert.note",
                 "questionnaires.QuestionnaireLink.token_hash", "formulation.TimelineEvent.event"):
        assert FIELDS[name] is Class.IDENTIFYING, name


def test_every_free_text_field_is_identifying():
    from django.db import models

    text = [key(m, f.name) for m in project_models() for f in m._meta.concrete_fields if isinstance(f, models.TextField)]
    assert text
    assert [k for k in text if FIELDS[k] is not Class.IDENTIFYING] == []


def test_every_key_is_pseudonymous():
    keys = [key(m, f.name) for m in project_models() for f in m._meta.concrete_fields if f.primary_key or f.is_relation]
    assert all(FIELDS[k] is Class.PSEUDONYMOUS for k in keys)
