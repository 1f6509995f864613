"""Every instrument exports as a FHIR R4 Questionnaire that the fhir.resources models accept."""

from __future__ import annotations

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire

from interpersonal.core import measures
from interpersonal.core.measures.fhir import LOINC, questionnaire

INSTRUMENTS = [i.id for i in measures.catalogue()]


@pytest.mark.parametrize("instrument_id", INSTRUMENTS)
def test_every_instrument_exports_a_valid_r4_questionnaire(instrument_id):
    inst = measures.get(instrument_id)

    resource = Questionnaire.model_validate(questionnaire(inst))

    assert resource.status == "active"
    link_ids = [item.linkId for item in resource.item]
    assert [i.id for i in inst.items] == [x for x in link_ids if x.isdigit()]
    assert "total" in link_ids


def test_phq9_questionnaire_carries_loinc_codes_for_panel_items_and_answers():
    # LOINC 44249-1 (panel), 44261-6 (total), 44260-8 (item 9), answers LA6568-5..LA6571-9: ../shared/DOMAIN.md §3.
    q = questionnaire(measures.get("phq9"))

    assert q["code"] == [{"system": LOINC, "code": "44249-1", "display": "Patient Health Questionnaire-9"}]
    item9 = next(i for i in q["item"] if i["linkId"] == "9")
    assert item9["code"] == [{"system": LOINC, "code": "44260-8"}]
    codes = [o["valueCoding"]["code"] for o in item9["answerOption"]]
    assert codes == ["LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"]
    ordinals = [o["extension"][0]["valueDecimal"] for o in item9["answerOption"]]
    assert ordinals == [0, 1, 2, 3]
    total = next(i for i in q["item"] if i["linkId"] == "total")
    assert {"system": LOINC, "code": "44261-6"} in total["code"]


def test_phq9_difficulty_answers_use_loinc_list_ll359_1_codes_in_scale_order():
    # LOINC answer list LL359-1: LA6575-0 is "Very difficult", LA6574-3 "Extremely difficult".
    q = questionnaire(measures.get("phq9"))
    item10 = next(i for i in q["item"] if i["linkId"] == "10")
    pairs = [(o["valueCoding"]["code"], o["valueCoding"]["display"]) for o in item10["answerOption"]]
    assert pairs == [
        ("LA6572-7", "Not difficult at all"),
        ("LA6573-5", "Somewhat difficult"),
        ("LA6575-0", "Very difficult"),
        ("LA6574-3", "Extremely difficult"),
    ]


@pytest.mark.parametrize("instrument_id", [i.id for i in measures.catalogue() if not i.licence.item_text])
def test_licensed_instrument_questionnaire_has_no_item_or_option_text(instrument_id):
    q = questionnaire(measures.get(instrument_id))

    for item in q["item"]:
        if item["linkId"].isdigit():
            assert item["text"] == f"Item {item['linkId']}"
            assert all(set(option) == {"valueInteger"} for option in item["answerOption"])


def test_hrsd17_item16_variant_is_exported_as_its_own_choice():
    q = questionnaire(measures.get("hrsd17"))
    variant = next(i for i in q["item"] if i["linkId"] == "16-variant")
    assert [o["valueCoding"]["code"] for o in variant["answerOption"]] == ["A", "B"]


def test_fhir_ids_are_valid_for_instrument_ids_with_underscores():
    assert questionnaire(measures.get("qids_sr16"))["id"] == "qids-sr16"
