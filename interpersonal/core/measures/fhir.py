"""FHIR R4 Questionnaire export of an instrument definition.

Own mapping (no FHIR library at run time); the tests validate every export with the
``fhir.resources`` R4B models. Licensed instruments carry no item or option text: items
are titled "Item N" and options are bare integers.
"""

from __future__ import annotations

import re
from typing import Any

from ._model import Instrument, Item

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ORDINAL = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
BASE = "urn:interpersonal"


def fhir_id(instrument_id: str) -> str:
    """FHIR ids allow letters, digits, '-' and '.' only."""
    return instrument_id.replace("_", "-")


def _answer_options(inst: Instrument, item: Item) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for option in item.options:
        if not option.label:
            out.append({"valueInteger": option.value})
            continue
        coding: dict[str, Any] = (
            {"system": LOINC, "code": option.loinc, "display": option.label}
            if option.loinc
            else {"system": f"{BASE}:answers:{inst.id}", "code": str(option.value), "display": option.label}
        )
        out.append({"valueCoding": coding, "extension": [{"url": ORDINAL, "valueDecimal": option.value}]})
    return out


def questionnaire(inst: Instrument) -> dict[str, Any]:
    """The instrument as a FHIR R4 Questionnaire resource (a JSON-ready dict)."""
    items: list[dict[str, Any]] = []
    for item in inst.items:
        entry: dict[str, Any] = {
            "linkId": item.id,
            "prefix": f"{item.id}.",
            "text": item.text if (item.text and inst.licence.item_text) else f"Item {item.id}",
            "type": "choice",
            "required": False,
            "answerOption": _answer_options(inst, item),
        }
        if item.loinc:
            entry["code"] = [{"system": LOINC, "code": item.loinc}]
        items.append(entry)
        if item.variants:
            items.append({
                "linkId": f"{item.id}-variant",
                "text": f"Item {item.id} rated by",
                "type": "choice",
                "required": False,
                "answerOption": [
                    {"valueCoding": {"system": f"{BASE}:variants:{inst.id}", "code": v.id, "display": v.name}}
                    for v in item.variants
                ],
            })
    total: dict[str, Any] = {
        "linkId": "total",
        "text": f"{inst.abbreviation} total score",
        "type": "integer" if inst.scoring.decimals == 0 else "decimal",
        "readOnly": True,
        "required": False,
    }
    total_codes = []
    if inst.codes.loinc_total:
        total_codes.append({"system": LOINC, "code": inst.codes.loinc_total})
    if inst.codes.snomed_total:
        total_codes.append({"system": SNOMED, "code": inst.codes.snomed_total})
    if total_codes:
        total["code"] = total_codes
    items.append(total)

    resource: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": fhir_id(inst.id),
        "url": f"{BASE}:questionnaire:{inst.id}",
        "version": inst.version,
        "name": re.sub(r"[^A-Za-z0-9_]", "", inst.abbreviation.upper()) or "Q",
        "title": inst.name,
        "status": "active",
        "subjectType": ["Patient"],
        "description": f"{inst.construct}. Respondent: {inst.respondent.value}. Recall: {inst.recall_period}. Source: {inst.citation}",
        "purpose": f"Scored by the interpersonal measures engine; severity bands and cut-offs per {inst.abbreviation} definition.",
        "copyright": inst.licence.name,
        "item": items,
    }
    if inst.codes.loinc:
        resource["code"] = [{"system": LOINC, "code": inst.codes.loinc, "display": inst.name}]
    return resource
