"""Formulation pages through the test client: happy paths, read-only supervisor, denial of
the unrelated therapist, the closeness-circle SVG and its text alternative, the timeline
spec, and 409 on a stale save."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.urls import reverse

from interpersonal.web.formulation import actions
from interpersonal.web.formulation.models import InventoryPerson, IpafRevision, IptFormulation, TimelineEvent

pytestmark = pytest.mark.django_db

IPAF_POST = {"self_representation": "Small", "other_representation": "Dismissive", "affect": "Shame",
             "defensive_function": "Avoids conflict", "link_to_depression": "Withdraws", "agreed_on": ""}


def test_ipaf_happy_path_and_history(client_for, therapist, dit_course):
    client = client_for(therapist)
    url = reverse("formulation:ipaf", args=[dit_course.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, IPAF_POST | {"based_on": ""}).status_code == 302
    assert client.post(url, IPAF_POST | {"based_on": "1", "affect": "Anger", "agreed_with_patient": "on"}).status_code == 302
    page = client.get(url).content.decode()
    assert IpafRevision.objects.filter(course=dit_course).count() == 2
    assert "Revision history" in page
    assert "Linking affect" in page
    assert "Initial" in page


def test_ipaf_stale_save_is_409_with_changes(client_for, therapist, dit_course):
    actions.revise_ipaf(course=dit_course, by=therapist, based_on=None, affect="Shame")
    actions.revise_ipaf(course=dit_course, by=therapist, based_on=1, affect="Anger")
    response = client_for(therapist).post(reverse("formulation:ipaf", args=[dit_course.pk]),
                                          IPAF_POST | {"based_on": "1"})
    page = response.content.decode()
    assert response.status_code == 409
    assert "changed meanwhile" in page.lower()
    assert "Linking affect: “Shame” → “Anger”" in page
    assert 'name="based_on" value="2"' in page
    assert IpafRevision.objects.filter(course=dit_course).count() == 2


def test_supervisor_reads_but_cannot_post(client_for, supervisor, dit_course, ipt_course):
    client = client_for(supervisor)
    url = reverse("formulation:ipaf", args=[dit_course.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert b"<form method=\"post\" action=\"" + url.encode() not in page.content
    assert client.post(url, IPAF_POST).status_code == 403
    assert client.post(reverse("formulation:inventory", args=[ipt_course.pk]), {"label": "X", "ring": "inner"}).status_code == 403
    assert client.post(reverse("formulation:ipt", args=[ipt_course.pk]), {"formulation": "x"}).status_code == 403


@pytest.mark.parametrize("name", ["inventory", "timeline", "ipt"])
def test_unrelated_therapist_gets_404(client_for, unrelated_therapist, ipt_course, name):
    client = client_for(unrelated_therapist)
    url = reverse(f"formulation:{name}", args=[ipt_course.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {}).status_code == 404


def test_ipaf_page_404_for_ipt_course(client_for, therapist, ipt_course):
    assert client_for(therapist).get(reverse("formulation:ipaf", args=[ipt_course.pk])).status_code == 404


def test_inventory_svg_has_one_element_per_person_and_table(client_for, therapist, ipt_course):
    client = client_for(therapist)
    url = reverse("formulation:inventory", args=[ipt_course.pk])
    people = [("Mum", "inner"), ("Sam <b>", "inner"), ("Boss", "outer"), ("Neighbour", "middle")]
    for label, ring in people:
        assert client.post(url, {"label": label, "ring": ring, "support": f"support of {label}"}).status_code == 302
    page = client.get(url).content.decode()
    svg = page[page.index("<svg"):page.index("</svg>")]
    assert 'role="img"' in svg
    assert "<title" in svg
    assert "<desc" in svg
    assert svg.count('<g class="person"') == 4
    assert "Sam &lt;b&gt;" in svg
    assert "Sam <b>" not in svg
    table = page[page.index('id="inventory-table"'):]
    for label, _ in people:
        assert f"support of {label}".replace("<", "&lt;").replace(">", "&gt;") in table


def test_person_edit_stale_is_409(client_for, therapist, ipt_course):
    p = actions.add_person(course=ipt_course, by=therapist, label="Mum", ring="inner", conflict="Rows")
    actions.update_person(person=p, by=therapist, expected_version=1, conflict="Fewer rows")
    url = reverse("formulation:person", args=[ipt_course.pk, p.pk])
    response = client_for(therapist).post(url, {"label": "Mum", "ring": "inner", "conflict": "Rows", "version": "1",
                                                "seen-label": "Mum", "seen-ring": "inner", "seen-conflict": "Rows"})
    assert response.status_code == 409
    assert "Conflict: “Rows” → “Fewer rows”" in response.content.decode()


def test_person_remove(client_for, therapist, ipt_course):
    p = actions.add_person(course=ipt_course, by=therapist, label="Mum", ring="inner")
    response = client_for(therapist).post(reverse("formulation:person_remove", args=[ipt_course.pk, p.pk]), {"version": "1"})
    assert response.status_code == 302
    assert InventoryPerson.objects.get(pk=p.pk).removed_at is not None


@pytest.mark.parametrize("version", ["one", "0.0", "1e0", "9" * 5000])
def test_remove_with_a_version_that_is_not_a_number_is_refused(client_for, therapist, ipt_course, version):
    """Found by tests/web/test_fuzz_forms.py: a garbled ``version`` was taken as "no version sent"
    and removed the row without the stale-copy check. It is refused (400); nothing is removed."""
    p = actions.add_person(course=ipt_course, by=therapist, label="Mum", ring="inner")
    e = actions.add_event(course=ipt_course, by=therapist, occurred_on=dt.date(2025, 9, 1), event="Moved", mood=-2)
    client = client_for(therapist)

    person = client.post(reverse("formulation:person_remove", args=[ipt_course.pk, p.pk]), {"version": version})
    event = client.post(reverse("formulation:event_remove", args=[ipt_course.pk, e.pk]), {"version": version})

    assert (person.status_code, event.status_code) == (400, 400)
    assert InventoryPerson.objects.get(pk=p.pk).removed_at is None
    assert TimelineEvent.objects.get(pk=e.pk).removed_at is None


def test_timeline_spec_has_the_events(client_for, therapist, ipt_course):
    client = client_for(therapist)
    url = reverse("formulation:timeline", args=[ipt_course.pk])
    assert client.post(url, {"occurred_on": "2025-04-02", "event": "Lost job </script>", "mood": "-4"}).status_code == 302
    assert client.post(url, {"occurred_on": "2025-09-10", "event": "New job", "mood": "2"}).status_code == 302
    page = client.get(url).content.decode()
    spec = json.loads(re.search(r'<script type="application/json" class="vl-spec">(.*?)</script>', page, re.S).group(1))
    assert [(v["date"], v["mood"], v["event"]) for v in spec["data"]["values"]] == [
        ("2025-04-02", -4, "Lost job </script>"), ("2025-09-10", 2, "New job")]
    assert "Lost job &lt;/script&gt;" in page[page.index('id="timeline-table"'):]
    assert TimelineEvent.objects.filter(course=ipt_course).count() == 2


def test_ipt_formulation_happy_path_and_stale(client_for, therapist, ipt_course):
    client = client_for(therapist)
    url = reverse("formulation:ipt", args=[ipt_course.pk])
    data = {"formulation": "Low since the separation", "area_1": "role_dispute", "stage_1": "impasse", "goals_1": "Talk",
            "area_2": "", "stage_2": "", "goals_2": "", "contract_sessions": "16", "contract_start": "",
            "contract_end": "", "version": "0"}
    assert client.get(url).status_code == 200
    assert client.post(url, data).status_code == 302
    assert IptFormulation.objects.get(course=ipt_course).focal_areas.get().dispute_stage == "impasse"
    stale = client.post(url, data | {"contract_sessions": "14"})
    assert stale.status_code == 409
    assert "changed meanwhile" in stale.content.decode().lower()
    bad = client.post(url, data | {"version": "1", "contract_sessions": "30"})
    assert bad.status_code == 400
    assert "12 to 20" in bad.content.decode()
