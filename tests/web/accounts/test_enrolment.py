"""One-time enrolment links: the holder sets their own password; only a hash is stored; the link
works once, for 72 hours."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

from interpersonal.web.accounts import actions, enrolment
from interpersonal.web.accounts.models import EnrolmentLink, Role
from interpersonal.web.audit.models import AuditEvent

User = get_user_model()
PASSWORD = "a-password-only-the-holder-knows"


@pytest.fixture
def issued(clinic_admin):
    return actions.create_staff(by=clinic_admin, username="lou.lead", role=Role.SERVICE_LEAD)


def test_the_holder_sets_their_own_password_and_the_link_is_used_up(client, issued):
    path = f"/accounts/enrol/{issued.token}/"

    assert client.get(path).status_code == 200
    done = client.post(path, {"new_password1": PASSWORD, "new_password2": PASSWORD})

    issued.user.refresh_from_db()
    assert done.status_code == 200
    assert issued.user.check_password(PASSWORD)
    assert client.get(path).status_code == 404
    assert AuditEvent.objects.filter(type="account.enrolled", target_id=str(issued.user.pk)).exists()
    assert PASSWORD not in str(list(AuditEvent.objects.values_list("data", flat=True)))


def test_only_the_hash_of_the_token_is_stored(issued):
    link = EnrolmentLink.objects.get(user=issued.user)

    assert link.token_hash == enrolment.hash_token(issued.token)
    assert issued.token not in str(EnrolmentLink.objects.values_list().get())


def test_an_expired_link_is_refused(client, issued):
    EnrolmentLink.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    response = client.post(f"/accounts/enrol/{issued.token}/", {"new_password1": PASSWORD, "new_password2": PASSWORD})

    assert response.status_code == 404
    assert "Ask your administrator for a new link" in response.content.decode()
    with pytest.raises(ValidationError, match="expired"):
        actions.complete_enrolment(token=issued.token, password=PASSWORD)


def test_a_new_link_replaces_the_old_one(administrator, issued):
    again = actions.reset_sign_in(user=issued.user, by=administrator)  # the superuser's reset is immediate

    assert enrolment.valid_link(issued.token) is None
    assert enrolment.valid_link(again.token) is not None


def test_a_weak_or_overlong_password_is_refused_and_the_link_still_works(client, issued):
    path = f"/accounts/enrol/{issued.token}/"
    long = "x" * 257

    weak = client.post(path, {"new_password1": "short", "new_password2": "short"})
    overlong = client.post(path, {"new_password1": long, "new_password2": long})

    assert weak.status_code == overlong.status_code == 400
    assert enrolment.valid_link(issued.token) is not None


def test_an_unknown_or_absurd_token_is_a_kind_404(client, db):
    assert client.get("/accounts/enrol/" + "A" * 43 + "/").status_code == 404
    assert client.get("/accounts/enrol/" + "A" * 5000 + "/").status_code == 404


def test_a_deactivated_account_cannot_use_its_link(clinic_admin, issued):
    actions.update_staff(user=issued.user, by=clinic_admin, role=Role.SERVICE_LEAD, first_name="", last_name="",
                         email="", team=None, supervisor=None, is_active=False)

    assert enrolment.valid_link(issued.token) is None
