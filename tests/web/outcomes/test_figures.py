"""Outcome figures are worked out by the task worker, stored, and shown "as of" their time
(issue 12: "No request does heavy work inline")."""

from __future__ import annotations

import csv
import datetime as dt
import io
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from interpersonal.core.outcomes import service
from interpersonal.web.audit.models import AuditEvent
from interpersonal.web.outcomes import actions, tasks
from interpersonal.web.outcomes.models import STUCK_AFTER, Figures
from tests.web.outcomes.test_outcomes import finished_course  # noqa: F401

QUEUE_ONLY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def _refuse(*args, **kwargs):
    raise AssertionError("the whole-service computation ran inside a request")


def test_first_visit_with_nothing_worked_out_shows_progress_not_a_blank(settings, service_lead, client_for):
    settings.TASKS = QUEUE_ONLY

    response = client_for(service_lead).get(reverse("outcomes:dashboard"))

    assert response.status_code == 200
    figures = Figures.objects.get()
    assert (figures.state, figures.filter_key, figures.result) == (Figures.State.QUEUED, "{}", None)
    body = response.content.decode()
    assert "Waiting to start." in body
    assert 'data-poll="3000"' in body
    assert "overall" not in response.context
    assert AuditEvent.objects.filter(type="outcomes.figures_requested", actor_id=service_lead.pk).count() == 1


def test_asking_again_while_figures_are_queued_makes_one_job(settings, service_lead, client_for):
    settings.TASKS = QUEUE_ONLY
    client = client_for(service_lead)

    first = client.post(reverse("outcomes:refresh"), {"therapy": "dit"})
    second = client.post(reverse("outcomes:refresh"), {"therapy": "dit"})
    client.get(reverse("outcomes:dashboard"), {"therapy": "dit"})

    assert first.status_code == second.status_code == 302
    assert first["Location"] == reverse("outcomes:dashboard") + "?therapy=dit"
    assert list(Figures.objects.values_list("filter_key", "state")) == [('{"therapy":"dit"}', "queued")]


def test_each_filter_set_has_its_own_figures(finished_course, service_lead, client_for):  # noqa: F811
    client = client_for(service_lead)

    whole = client.get(reverse("outcomes:dashboard"))
    ipt = client.get(reverse("outcomes:dashboard"), {"therapy": "ipt"})

    assert (whole.context["overall"]["finished"], ipt.context["overall"]["finished"]) == (1, 0)
    assert sorted(Figures.objects.values_list("filter_key", flat=True)) == ['{"therapy":"ipt"}', "{}"]


def test_page_and_csv_show_the_stored_figures_without_working_them_out_again(finished_course, service_lead,  # noqa: F811
                                                                            client_for):
    client = client_for(service_lead)
    client.get(reverse("outcomes:dashboard"))  # the immediate backend works them out here
    finished_at = Figures.objects.get().finished_at

    with mock.patch.object(service, "report", _refuse), mock.patch.object(service, "funnel", _refuse):
        page = client.get(reverse("outcomes:dashboard"))
        download = client.get(reverse("outcomes:csv", args=["metrics"]))

    assert page.status_code == download.status_code == 200
    assert page.context["overall"]["recovery_rate"] == 1.0
    assert f"Figures as of {timezone.localtime(finished_at):%H:%M}" in page.content.decode()
    rows = {r["metric"]: r for r in csv.DictReader(io.StringIO(download.content.decode()))}
    assert float(rows["recovery_rate"]["value"]) == 1.0


def test_csv_with_nothing_worked_out_goes_to_the_dashboard(settings, service_lead, client_for):
    settings.TASKS = QUEUE_ONLY

    response = client_for(service_lead).get(reverse("outcomes:csv", args=["funnel"]), {"therapy": "dit"})

    assert response.status_code == 302
    assert response["Location"] == reverse("outcomes:dashboard") + "?therapy=dit"
    assert not Figures.objects.exists()


def test_fresh_figures_replace_the_old_ones_and_only_the_latest_is_kept(finished_course, service_lead,  # noqa: F811
                                                                       client_for):
    client = client_for(service_lead)
    client.get(reverse("outcomes:dashboard"))
    old = Figures.objects.get()

    client.post(reverse("outcomes:refresh"))

    fresh = Figures.objects.get()
    assert fresh.pk != old.pk
    assert fresh.state == Figures.State.READY


def test_figures_that_fail_say_so_and_offer_to_ask_again(service_lead, client_for):
    with mock.patch.object(service, "report", side_effect=RuntimeError("boom")):
        response = client_for(service_lead).get(reverse("outcomes:dashboard"))

    figures = Figures.objects.get()
    assert figures.state == Figures.State.FAILED
    body = response.content.decode()
    assert response.status_code == 200
    assert "The figures could not be worked out" in body
    assert f"quote figures {figures.pk}" in body
    assert "Ask for fresh figures" in body
    assert "boom" not in body


def test_figures_stuck_running_are_failed_and_asked_for_again(settings, service_lead):
    settings.TASKS = QUEUE_ONLY
    stuck = Figures.objects.create(filter_key="{}", state=Figures.State.RUNNING,
                                   started_at=timezone.now() - STUCK_AFTER - dt.timedelta(minutes=1))

    fresh = actions.request_figures(filters={}, by=service_lead)

    stuck.refresh_from_db()
    assert stuck.state == Figures.State.FAILED
    assert (fresh.pk != stuck.pk, fresh.state) == (True, Figures.State.QUEUED)


def test_stored_filter_sets_are_bounded(db):
    now = timezone.now()
    Figures.objects.bulk_create([
        Figures(filter_key=f'{{"since":"2026-01-{day:02d}"}}', state=Figures.State.READY, result={},
                finished_at=now - dt.timedelta(minutes=day))
        for day in range(1, 29)] + [
        Figures(filter_key=f'{{"until":"2026-02-{day:02d}"}}', state=Figures.State.READY, result={},
                finished_at=now - dt.timedelta(hours=day))
        for day in range(1, 29)])

    actions.prune(now=now)

    assert Figures.objects.count() == actions.MAX_FILTER_SETS
    assert Figures.objects.filter(filter_key='{"since":"2026-01-01"}').exists()  # the most recent stay
    assert not Figures.objects.filter(filter_key='{"until":"2026-02-28"}').exists()  # the oldest go


@pytest.mark.parametrize("filters", [{}, {"therapy": "dit", "since": dt.date(2026, 1, 1)}])
def test_filters_survive_the_round_trip_to_the_worker(filters):
    assert actions.filters_of(actions.filter_key(filters)) == filters


def test_stored_result_has_no_nan_for_postgresql():
    assert tasks._plain({"a": [float("nan"), 1.5], "b": {"c": float("inf")}}) == {"a": [None, 1.5], "b": {"c": None}}
