"""Issue 14, "every instrument reachable" and "charts read at a glance", through the course page:
every instrument of the catalogue offered (the protocol's session measures first), reliable
deterioration flagged on every measure with a criterion (the core's one rule), a single score
shown once."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from interpersonal.core import measures
from interpersonal.web.assessments.actions import record_measurement
from interpersonal.web.courses.actions import record_session

pytestmark = pytest.mark.django_db


def attended(course, therapist, days_ago):
    return record_session(course=course, by=therapist, attendance=5,
                          scheduled_at=timezone.now() - dt.timedelta(days=days_ago))


def wsas(total: int) -> dict[str, int]:
    """Five WSAS items (0-8 each) summing to ``total``."""
    values = [min(8, max(0, total - 8 * i)) for i in range(5)]
    return {str(i + 1): v for i, v in enumerate(values)}


def test_course_page_offers_every_instrument_session_measures_first(client_for, therapist, dit_course):
    html = client_for(therapist).get(reverse("courses:detail", args=[dit_course.pk])).content.decode()
    nav = html[html.index('<nav class="measure-links"'):html.index("</nav>", html.index('<nav class="measure-links"'))]
    ids = re.findall(r"\?instrument=([a-z0-9_]+)", nav)
    session = list(dit_course.definition.session_measures)
    assert ids[:len(session)] == session  # PHQ-9 and GAD-7 first (dit.toml)
    assert sorted(ids) == sorted(i.id for i in measures.catalogue())  # each once, BDI-II included
    assert '<span class="visually-hidden">Record </span>PHQ-9</a>' in nav  # named "Record PHQ-9"
    assert "Other measures" in nav
    assert ">Record BDI-II</a>" in nav
    assert ">Rate HRSD-17</a>" in nav  # clinician-rated


def test_reader_who_may_not_record_gets_no_measure_links(client_for, supervisor, dit_course):
    html = client_for(supervisor).get(reverse("courses:detail", args=[dit_course.pk])).content.decode()
    assert "measure-links" not in html


def test_bdi2_is_entered_without_its_licensed_text(client_for, therapist, dit_course):
    response = client_for(therapist).get(reverse("courses:record_measure", args=[dit_course.pk]) + "?instrument=bdi2")
    html = response.content.decode()
    assert response.status_code == 200
    assert "The licence does not allow the item text to be shown" in html
    assert all(item.text is None for item in measures.get("bdi2").items)  # none shipped to show
    assert 'name="bdi2-item_21"' in html


def test_wsas_10_to_23_is_flagged_as_reliable_deterioration(client_for, therapist, dit_course):
    for days, total in ((21, 10), (14, 15), (7, 23)):
        s = attended(dit_course, therapist, days)
        record_measurement(course=dit_course, instrument="wsas", answers=wsas(total), session=s, by=therapist,
                           recorded_at=s.scheduled_at)
    html = client_for(therapist).get(reverse("courses:detail", args=[dit_course.pk])).content.decode()
    row = html[html.index('<tr><th scope="row">WSAS</th>'):]
    row = row[:row.index("</tr>")]
    assert "▲ Reliable deterioration</strong>: 13 points worse" in row
    spec = json.loads(re.search(r'<figure class="chart" id="chart-wsas">.*?<script type="application/json" '
                                r'class="vl-spec">(.*?)</script>', html, re.S).group(1))
    assert "reliable_deterioration" in {layer.get("name") for layer in spec["layer"]}


def test_a_single_score_is_shown_once(client_for, therapist, dit_course):
    s = attended(dit_course, therapist, 7)
    record_measurement(course=dit_course, instrument="phq9", session=s, by=therapist, recorded_at=s.scheduled_at,
                       answers={str(i): 2 for i in range(1, 9)} | {"9": 1})
    html = client_for(therapist).get(reverse("courses:detail", args=[dit_course.pk])).content.decode()
    row = html[html.index('<tr><th scope="row">PHQ-9</th>'):]
    row = row[:row.index("</tr>")]
    assert "<td>17</td>" in row
    assert "only one score so far" in row
    assert row.count("17") == 1  # not "17 → 17"
    assert "needs a score from a later session" in row
