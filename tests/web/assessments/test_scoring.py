import pytest
from django.utils.html import escape

from interpersonal.core import measures

pytestmark = pytest.mark.django_db

INSTRUMENTS = measures.catalogue()
WITH_VARIANTS = [(i, item) for i in INSTRUMENTS for item in i.items if item.variants]


def patterned_answers(instrument: measures.Instrument) -> dict[str, int]:
    """Every item answered, cycling through each item's values (deterministic, varied)."""
    return {item.id: item.values[n % len(item.values)] for n, item in enumerate(instrument.items)}


def as_post(instrument: measures.Instrument, answers: dict[str, int | None]) -> dict[str, str]:
    data = {f"item_{k}": str(v) for k, v in answers.items() if v is not None}
    for item in instrument.items:
        if item.variants and answers.get(item.id) is not None:
            data[f"item_{item.id}_variant"] = item.variants[0].id
    return data


def phq9(**overrides: int | None) -> dict[str, int | None]:
    answers: dict[str, int | None] = {str(n): 1 for n in range(1, 10)} | {"9": 0}
    answers.update({k.removeprefix("i"): v for k, v in overrides.items()})
    return answers


@pytest.mark.parametrize("instrument", INSTRUMENTS, ids=lambda i: i.id)
def test_score_form_has_one_labelled_radio_group_per_item(signed_in_client, instrument):
    response = signed_in_client.get(f"/measures/{instrument.id}/score/")

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('<fieldset class="item') == len(instrument.items)
    for item in instrument.items:
        for n, _ in enumerate(item.options):
            assert f'<label class="choice" for="id_item_{item.id}_{n}">' in html


@pytest.mark.parametrize("instrument", INSTRUMENTS, ids=lambda i: i.id)
def test_posting_answers_shows_the_engines_total(signed_in_client, instrument):
    answers = patterned_answers(instrument)
    expected = measures.score(instrument.id, answers)

    response = signed_in_client.post(f"/measures/{instrument.id}/score/", as_post(instrument, answers))

    assert response.status_code == 200
    assert response.context["result"] == expected
    assert f'<dd class="total">{expected.total} <span' in response.content.decode()


def test_phq9_total_severity_and_caseness_shown(signed_in_client):
    answers = {"1": 2, "2": 1, "3": 1, "4": 2, "5": 0, "6": 1, "7": 1, "8": 0, "9": 0}  # the module docstring's example

    html = signed_in_client.post("/measures/phq9/score/", as_post(measures.get("phq9"), answers)).content.decode()

    assert '<dd class="total">8 <span' in html
    assert "<dd>Mild</dd>" in html
    assert "<dd>No</dd>" in html
    assert "<dd>Complete</dd>" in html
    assert "Risk: review now" not in html


def test_phq9_item_9_at_1_raises_the_risk_flag_naming_the_item(signed_in_client):
    response = signed_in_client.post("/measures/phq9/score/", as_post(measures.get("phq9"), phq9(i9=1)))

    html = response.content.decode()
    assert response.status_code == 200
    assert '<div class="risk-flag" role="alert">' in html
    assert "Item 9 — Thoughts of being better off dead or of self-harm" in html


def test_phq9_risk_flag_shown_even_when_too_many_items_missing(signed_in_client):
    answers = {"9": 2}

    html = signed_in_client.post("/measures/phq9/score/", as_post(measures.get("phq9"), answers)).content.decode()

    assert "Risk: review now" in html
    assert "Not calculated" in html
    assert "Not scorable:</strong> 8 of 9 items missing" in html


def test_phq9_two_missing_items_prorated(signed_in_client):
    answers = phq9(i3=None, i4=None)
    expected = measures.score("phq9", answers)

    response = signed_in_client.post("/measures/phq9/score/", as_post(measures.get("phq9"), answers))

    html = response.content.decode()
    assert expected.prorated
    assert f'<dd class="total">{expected.total} <span' in html
    assert "Prorated: 7 answered" in html
    assert "<dd>item 3, item 4</dd>" in html


def test_phq9_three_missing_items_not_scorable(signed_in_client):
    answers = phq9(i1=None, i2=None, i3=None)

    response = signed_in_client.post("/measures/phq9/score/", as_post(measures.get("phq9"), answers))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Not calculated" in html
    assert escape(measures.score("phq9", answers).reason) in html


@pytest.mark.parametrize("tampered", [{"item_1": "7"}, {"item_1": "-1"}, {"item_2": "two"}, {"item_3": "1.5"}])
def test_tampered_value_is_a_400_form_error_and_nothing_is_scored(signed_in_client, tampered):
    data = as_post(measures.get("phq9"), phq9()) | tampered

    response = signed_in_client.post("/measures/phq9/score/", data)

    html = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem: nothing was scored" in html
    assert "Select a valid choice" in html
    assert response.context["result"] is None
    assert 'class="result"' not in html


def test_unknown_fields_are_ignored(signed_in_client):
    data = as_post(measures.get("phq9"), phq9()) | {"item_99": "3"}

    response = signed_in_client.post("/measures/phq9/score/", data)

    assert response.status_code == 200
    assert response.context["result"] == measures.score("phq9", phq9())


def test_score_page_rejects_other_methods(signed_in_client):
    assert signed_in_client.put("/measures/phq9/score/").status_code == 405


@pytest.mark.parametrize(("instrument", "item"), WITH_VARIANTS, ids=[f"{i.id}-{it.id}" for i, it in WITH_VARIANTS])
def test_item_rated_in_variants_offers_each_variant_and_its_labels(signed_in_client, instrument, item):
    html = signed_in_client.get(f"/measures/{instrument.id}/score/").content.decode()

    for n, variant in enumerate(item.variants):
        assert f'id="id_item_{item.id}_variant_{n}"' in html
        assert escape(variant.name) in html
        if instrument.licence.item_text:
            for option in variant.options:
                if option.label:
                    assert escape(f"{variant.id}: {option.label}") in html


@pytest.mark.parametrize(("instrument", "item"), WITH_VARIANTS, ids=[f"{i.id}-{it.id}" for i, it in WITH_VARIANTS])
def test_item_rated_in_variants_needs_the_variant_when_answered(signed_in_client, instrument, item):
    answers = patterned_answers(instrument)
    data = as_post(instrument, answers)
    del data[f"item_{item.id}_variant"]

    response = signed_in_client.post(f"/measures/{instrument.id}/score/", data)

    assert response.status_code == 400
    assert f"Item {item.id} is answered: say which way it was rated." in response.content.decode()


@pytest.mark.parametrize(("instrument", "item"), WITH_VARIANTS, ids=[f"{i.id}-{it.id}" for i, it in WITH_VARIANTS])
def test_item_rated_in_variants_records_the_variant_used(signed_in_client, instrument, item):
    answers = patterned_answers(instrument)
    data = as_post(instrument, answers) | {f"item_{item.id}_variant": item.variants[-1].id}

    response = signed_in_client.post(f"/measures/{instrument.id}/score/", data)

    assert response.status_code == 200
    assert f"<dt>Item {item.id} rated</dt><dd>Variant {item.variants[-1].id}</dd>" in response.content.decode()
    assert response.context["result"] == measures.score(instrument.id, answers)


def test_phq9_item_9_unanswered_is_prorated_and_tells_the_clinician_to_ask(signed_in_client):
    html = signed_in_client.post("/measures/phq9/score/", as_post(measures.get("phq9"), phq9(i9=None))).content.decode()

    assert "Prorated" in html
    assert "Risk item not answered: the risk is unknown" in html
    assert escape("PHQ-9 item 9 (thoughts of being better off dead or of self-harm) was not answered: "
                  "ask about it at the next contact.") in html


def test_phq9_item_9_answered_0_shows_no_unanswered_prompt(signed_in_client):
    html = signed_in_client.post("/measures/phq9/score/", as_post(measures.get("phq9"), phq9(i9=0))).content.decode()

    assert "was not answered" not in html
