"""The one reading of a stored answer set's unanswered risk items, shared by a measurement
and the caseload's fetched answers."""

from __future__ import annotations

import json

import pytest

from interpersonal.web.assessments.models import Measurement, unanswered_risk
from interpersonal.web.courses import caseload

PHQ9_ITEM_9_UNANSWERED = {str(i): 1 for i in range(1, 9)} | {"9": None}


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (PHQ9_ITEM_9_UNANSWERED, ("9",)),
        ({str(i): 1 for i in range(1, 9)}, ("9",)),  # item 9 absent
        ({str(i): 0 for i in range(1, 10)}, ()),
        (None, ("9",)),
    ],
)
def test_unanswered_risk_of_stored_phq9_answers(answers, expected):
    assert unanswered_risk("phq9", answers) == expected


def test_unanswered_risk_of_an_unknown_instrument_is_empty():
    assert unanswered_risk("no-such-measure", PHQ9_ITEM_9_UNANSWERED) == ()


def test_measurement_and_caseload_read_unanswered_risk_the_same_way():
    m = Measurement(instrument="phq9", answers=PHQ9_ITEM_9_UNANSWERED)

    as_text = caseload._unanswered_risk("phq9", json.dumps(PHQ9_ITEM_9_UNANSWERED))  # SQLite returns JSON text
    as_dict = caseload._unanswered_risk("phq9", PHQ9_ITEM_9_UNANSWERED)  # PostgreSQL decodes it

    assert m.risk_unanswered == as_text == as_dict == ("9",)
    assert caseload._unanswered_risk("phq9", None) == ()  # no measure yet: nothing to say
