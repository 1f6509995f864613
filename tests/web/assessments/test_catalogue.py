import re

import pytest
from django.test import Client
from django.utils.html import escape

from interpersonal.core import measures

pytestmark = pytest.mark.django_db

INSTRUMENTS = measures.catalogue()
LICENSED = [i for i in INSTRUMENTS if not i.licence.item_text]
ids = [i.id for i in INSTRUMENTS]

CATALOGUE_URLS = ["/measures/"] + [u for i in INSTRUMENTS for u in (f"/measures/{i.id}/", f"/measures/{i.id}/score/")]


def html_of(response) -> str:
    return response.content.decode()


def sourced_values(instrument: measures.Instrument) -> list[measures.Sourced]:
    candidates = [
        instrument.missing.sourced,
        instrument.bands_sourced,
        instrument.caseness and instrument.caseness.sourced,
        instrument.remission and instrument.remission.sourced,
        instrument.reliable_change and instrument.reliable_change.sourced,
        instrument.jacobson_truax and instrument.jacobson_truax.sourced,
        *(s.sourced for s in instrument.subscales),
    ]
    return [s for s in candidates if s]


@pytest.mark.parametrize("url", CATALOGUE_URLS)
def test_anonymous_visitors_are_sent_to_sign_in(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(f"/accounts/login/?next={url}")


def test_anonymous_scoring_post_is_refused_without_scoring(client):
    response = client.post("/measures/phq9/score/", {"item_1": "3"})

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_catalogue_lists_every_instrument(signed_in_client: Client):
    response = signed_in_client.get("/measures/")

    html = html_of(response)
    assert response.status_code == 200
    for instrument in INSTRUMENTS:
        assert escape(instrument.abbreviation) in html
        assert escape(instrument.name) in html
        assert f'href="/measures/{instrument.id}/"' in html


@pytest.mark.parametrize("instrument", INSTRUMENTS, ids=ids)
def test_catalogue_row_shows_respondent_items_range_and_unconfirmed_badges(signed_in_client, instrument):
    html = html_of(signed_in_client.get("/measures/"))

    row = re.search(rf'href="/measures/{instrument.id}/".*?</tr>', html, re.S).group(0)
    lo, hi = instrument.scoring.score_range
    assert instrument.respondent.value.capitalize() in row
    assert f'<td data-label="Items">{len(instrument.items)}</td>' in row
    assert f"{lo}–{hi}" in row
    assert row.count("badge--setting") == len(instrument.unconfirmed())


@pytest.mark.parametrize("instrument", INSTRUMENTS, ids=ids)
def test_detail_page_renders_every_rule(signed_in_client, instrument):
    response = signed_in_client.get(f"/measures/{instrument.id}/")

    html = html_of(response)
    assert response.status_code == 200
    for n in range(1, len(instrument.items) + 1):
        assert f'<span class="item__number">Item {n}</span>' in html
    for band in instrument.bands:
        assert escape(band.label) in html
    assert escape(instrument.citation) in html
    assert escape(instrument.licence.name) in html
    for code in (instrument.codes.loinc, instrument.codes.loinc_total, instrument.codes.snomed_total):
        if code:
            assert code in html
    for sourced in sourced_values(instrument):
        assert escape(sourced.source) in html
    for group in instrument.scoring.groups:
        assert f"{escape(group.name)} (items {', '.join(group.items)}) counts once, by the highest value" in html
    if instrument.scoring.method == "mean":
        assert "multiplied by" in html
    for risk in instrument.risk:
        assert f"Item {risk.item} at or above {risk.at_or_above}: {escape(risk.label)}" in html


@pytest.mark.parametrize("instrument", INSTRUMENTS, ids=ids)
def test_detail_marks_each_unconfirmed_value_as_a_service_setting(signed_in_client, instrument):
    html = html_of(signed_in_client.get(f"/measures/{instrument.id}/"))

    marked = html.count("service setting — source unconfirmed</strong>")
    assert marked == len(instrument.unconfirmed())
    for sourced in sourced_values(instrument):
        if not sourced.confirmed:
            marker = f'service setting — source unconfirmed</strong> <span class="source__label">Source:</span> {escape(sourced.source)}'
            assert marker in html


def test_phq9_detail_shows_item_text_options_and_reverse_free_sum_rule(signed_in_client):
    html = html_of(signed_in_client.get("/measures/phq9/"))

    assert "Little interest or pleasure in doing things" in html
    assert "Nearly every day" in html
    assert "The total is the sum of 9 components" in html
    assert "Recorded but not scored: item 10." in html
    assert "Up to 2 of 9 components may be missing" in html
    assert "A total at or above 10 meets caseness." in html


@pytest.mark.parametrize("instrument", LICENSED, ids=[i.id for i in LICENSED])
@pytest.mark.parametrize("page", ["", "score/"])
def test_licensed_instrument_pages_show_numbers_and_the_licence_never_text(signed_in_client, instrument, page):
    html = html_of(signed_in_client.get(f"/measures/{instrument.id}/{page}"))

    assert "The licence does not allow the item text to be shown" in html
    if page == "":
        assert escape(instrument.licence.notes or instrument.licence.name) in html
        heads = re.findall(r'<p class="item__head">(.*?)</p>', html, re.S)
    else:
        heads = re.findall(r"<legend>(.*?)</legend>", html, re.S)
    assert len(heads) == len(instrument.items)
    for n, head in enumerate(heads, start=1):
        text_only = re.sub(r"<span class=\"(badge|code)\">.*?</span>", "", head)
        assert re.sub(r"<[^>]+>", "", text_only).strip() == f"Item {n}"
    for item in instrument.items:
        assert item.text is None
        for option in item.options:
            assert not option.label or option.label.strip().isdigit()
    if instrument.instructions:
        assert escape(instrument.instructions) not in html


@pytest.mark.parametrize("instrument", [i for i in INSTRUMENTS if i.licence.item_text], ids=lambda i: i.id)
def test_instruments_with_free_text_show_their_items(signed_in_client, instrument):
    html = html_of(signed_in_client.get(f"/measures/{instrument.id}/"))

    for item in instrument.items:
        if item.text:
            assert escape(item.text) in html


@pytest.mark.parametrize("url", ["/measures/no-such-measure/", "/measures/no-such-measure/score/"])
def test_unknown_instrument_is_404(signed_in_client, url):
    assert signed_in_client.get(url).status_code == 404
