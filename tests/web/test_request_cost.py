"""Request cost (issue 12): no view renders a PDF, runs a whole-record export or works out the
service's outcome figures inline.

A PDF costs seconds of CPU (a subject access copy of an ordinary record, 2-5 s; a 200 KB letter,
~9 s); two at once held every web worker past gunicorn's timeout. That work belongs to the task
worker (documents.tasks). Here every URL in the resolver is called — GET, and POST for write URLs
with the data a real form sends — by every persona allowed to use it, with WeasyPrint's
``HTML.write_pdf``, the subject access export (``subject_access.collect``) and the whole-service
outcomes computation (``outcomes.dataset.from_database``, ``service.report``, ``service.funnel``:
1.8 s of CPU at 10 000 patients, tens of seconds at national scale) made to raise, and
with the task backend that stores a task without running it (the immediate backend of the test
settings would run it inside the request). A view that makes a PDF or exports a record inline
raises here.
"""

from __future__ import annotations

from contextlib import ExitStack, suppress
from unittest import mock

import pytest
import weasyprint
from django.db import transaction
from django.test import Client
from django.urls import Resolver404, resolve

from interpersonal.core.outcomes import service as outcomes_service
from interpersonal.web.documents.models import Document
from interpersonal.web.outcomes import dataset as outcomes_dataset
from interpersonal.web.privacy import subject_access
from interpersonal.web.privacy.access import record_link
from web.test_authorisation_matrix import MATRIX, OK, OK_TOKEN, PERSONAS, is_write, path_of, personas  # noqa: F401
from web.test_permissions import ALL_PATTERNS, CASE, URLS, case, post_data  # noqa: F401

QUEUE_ONLY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


class InlineHeavyWork(AssertionError):
    """A view did in the request what the task worker must do."""


def _refuse(what: str):
    def refuse(*args, **kwargs):
        raise InlineHeavyWork(f"{what} ran inside a request")

    return refuse


def allowed(name: str) -> list[str]:
    """The personas who may use a URL (the matrix's ``ok`` cells), and for one patient's pages the
    case's therapist and their supervisor."""
    out = [p for p in PERSONAS if MATRIX[name][p] in (OK, OK_TOKEN)]
    if name in URLS and URLS[name].kind == CASE:
        out += ["therapist", "supervisor"]
    return out


def _heavy_work_refused() -> ExitStack:
    stack = ExitStack()
    stack.enter_context(mock.patch.object(weasyprint.HTML, "write_pdf", _refuse("WeasyPrint's write_pdf")))
    stack.enter_context(mock.patch.object(subject_access, "collect", _refuse("The subject access export")))
    for module, name in ((outcomes_dataset, "from_database"), (outcomes_service, "report"), (outcomes_service, "funnel")):
        stack.enter_context(mock.patch.object(module, name, _refuse(f"The whole-service outcomes computation ({name})")))
    return stack


def test_no_view_renders_a_pdf_or_exports_a_whole_record_inline(settings, case, personas, therapist,  # noqa: F811
                                                                 supervisor):
    settings.TASKS = QUEUE_ONLY
    clients, users = personas
    users = {**users, "therapist": therapist, "supervisor": supervisor}
    for persona in ("therapist", "supervisor"):
        client = Client()
        client.force_login(users[persona])
        clients[persona] = (client, case["token"])
    calls = 0
    progress = set()
    with _heavy_work_refused():
        for name, _, converters in ALL_PATTERNS:
            for persona in allowed(name):
                client, token = clients[persona]
                path = path_of(name, converters, case, token=token)
                for method in ("get", "post") if is_write(name) else ("get",):
                    with transaction.atomic():
                        response = getattr(client, method)(path, post_data(name, case) if method == "post" else None)
                        calls += 1
                        assert response.status_code < 500, f"{persona} {method.upper()} {path}"
                        if method == "post" and response.status_code == 302:
                            with suppress(Resolver404):
                                progress.add(resolve(response["Location"]).view_name)
                        transaction.set_rollback(True)
                    if persona in users:  # signing out (or a rolled-back password change) ends the session
                        client.force_login(users[persona])
    assert calls > len(ALL_PATTERNS)
    # The two ways in were taken: each answered with the progress page of a queued (or reused) document.
    assert {"letters:pdf_progress", "privacy:subject_access_progress"} <= progress


def test_outcomes_dashboard_and_csv_answer_from_summaries_not_the_whole_service(settings, dit_course, service_lead,
                                                                              client_for):
    """Since issue 13 the dashboard adds up per-referral summaries kept at write time (SQL
    aggregates, no worker): it never reads every contact and score into the core."""
    from django.urls import reverse

    settings.TASKS = QUEUE_ONLY
    client = client_for(service_lead)
    with _heavy_work_refused():
        page = client.get(reverse("outcomes:dashboard"), {"therapy": "dit"})
        download = client.get(reverse("outcomes:csv", args=["metrics"]), {"therapy": "dit"})

    assert (page.status_code, download.status_code) == (200, 200)
    assert page.context["overall"]["referrals"] == 1


@pytest.mark.parametrize(("url", "data"), [
    ("letters:pdf", {}),
    ("privacy:subject_access", {"format": "pdf", "reference": "SAR-1"}),
    ("privacy:subject_access", {"format": "json", "reference": "SAR-2"}),
])
def test_asking_for_a_document_only_queues_it(settings, case, client_for, therapist, records_officer, url, data):  # noqa: F811
    from django.urls import reverse

    settings.TASKS = QUEUE_ONLY
    user, obj = (therapist, case["letter"]) if url.startswith("letters") else (records_officer, case["patient"])
    with mock.patch.object(weasyprint.HTML, "write_pdf", _refuse("WeasyPrint's write_pdf")), \
            mock.patch.object(subject_access, "collect", _refuse("The subject access export")):
        ref = obj.pk if url.startswith("letters") else record_link(records_officer, obj.pk)
        response = client_for(user).post(reverse(url, args=[ref]), data)

    assert response.status_code == 302
    document = Document.objects.latest("pk")
    assert document.state == Document.State.QUEUED
    assert not document.file_name
