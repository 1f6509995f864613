"""Every field of every installed model is classified (STYLE.md 8), and the table names no ghosts."""

from __future__ import annotations

from django.db import models

from interpersonal.web.privacy.classification import (
    CREDENTIAL_KEYS,
    FIELDS,
    Class,
    field_names,
    installed_models,
    key,
    project_models,
)


def test_the_project_apps_are_all_covered():
    labels = {m._meta.app_label for m in project_models()}
    assert {"accounts", "audit", "patients", "courses", "assessments", "questionnaires", "formulation",
            "letters"} <= labels


def test_the_third_party_apps_are_all_covered():
    labels = {m._meta.label for m in installed_models()}
    assert {"auth.Group", "auth.Permission", "contenttypes.ContentType", "sessions.Session",
            "django_tasks_database.DBTaskResult", "otp_totp.TOTPDevice", "axes.AccessAttempt", "axes.AccessLog",
            "axes.AccessFailureLog"} <= labels


def test_project_models_are_the_installed_models_of_project_apps():
    project = set(project_models())
    assert project < set(installed_models())
    assert all(m.__module__.startswith("interpersonal.") for m in project)


def test_every_field_of_every_installed_model_is_classified():
    unclassified = [key(m, name) for m in installed_models() for name in field_names(m) if key(m, name) not in FIELDS]
    assert not unclassified, f"classify these in interpersonal/web/privacy/classification.py: {unclassified}"


def test_the_classification_names_only_fields_that_exist():
    existing = {key(m, name) for m in installed_models() for name in field_names(m)}
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


def test_credentials_and_client_details_of_third_party_models_are_identifying():
    for name in ("sessions.Session.session_key", "sessions.Session.session_data", "otp_totp.TOTPDevice.key",
                 "axes.AccessLog.session_hash", "django_tasks_database.DBTaskResult.args_kwargs"):
        assert FIELDS[name] is Class.IDENTIFYING, name
    for model in ("AccessAttempt", "AccessLog", "AccessFailureLog"):
        for field in ("username", "ip_address", "user_agent"):
            assert FIELDS[f"axes.{model}.{field}"] is Class.IDENTIFYING, f"axes.{model}.{field}"


def test_every_free_text_field_is_identifying():
    text = [key(m, f.name) for m in installed_models() for f in m._meta.concrete_fields
            if isinstance(f, models.TextField)]
    assert "sessions.Session.session_data" in text
    assert [k for k in text if FIELDS[k] is not Class.IDENTIFYING] == []


def test_every_ip_address_is_identifying():
    addresses = [key(m, f.name) for m in installed_models() for f in m._meta.concrete_fields
                 if isinstance(f, models.GenericIPAddressField)]
    assert addresses
    assert [k for k in addresses if FIELDS[k] is not Class.IDENTIFYING] == []


def test_every_key_is_pseudonymous_unless_it_is_a_credential():
    keys = [key(m, f.name) for m in installed_models() for f in m._meta.concrete_fields if f.primary_key or f.is_relation]
    keys += [key(m, f.name) for m in installed_models() for f in m._meta.local_many_to_many]
    assert set(keys) >= CREDENTIAL_KEYS
    assert [k for k in keys if k not in CREDENTIAL_KEYS and FIELDS[k] is not Class.PSEUDONYMOUS] == []
    assert all(FIELDS[k] is Class.IDENTIFYING for k in CREDENTIAL_KEYS)
