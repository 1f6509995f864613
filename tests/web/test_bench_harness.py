"""The clinic benchmark's preparation against the real settings: every page it will load answers
200 for its signed-in therapist, second factor included. Not a timing test — a harness that
silently measured redirects (as it did once staff MFA became mandatory) is caught here, in
`make test`, not only when someone runs `make bench`."""

from __future__ import annotations

import contextlib
import io
import json

import pytest
from django.core.management import call_command
from django.test import override_settings

from bench import clinic


@pytest.mark.django_db
@override_settings(INTERPERSONAL_REQUIRE_MFA=True)
def test_the_clinic_bench_signs_in_past_the_second_factor_and_every_page_answers():
    call_command("synth_service", "--patients", "120", "--seed", "1", stdout=io.StringIO(), stderr=io.StringIO())
    out = io.StringIO()

    with contextlib.redirect_stdout(out):
        clinic.prepare()

    info = json.loads(out.getvalue().strip().splitlines()[-1])
    assert set(info["urls"]) == {"healthz", "me", "caseload", "course", "record"}
    for label, counts in info["queries"].items():
        assert all(n > 0 for n in counts.values()), f"{label}: a page did not answer 200 ({counts})"
    assert info["cookie"].split("=", 1)[1]
    assert info["record_urls"]
