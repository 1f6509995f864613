"""A contact and the measures taken at it, validated together and saved together or not at all.

The course's "Record a session" and screening's "Record an assessment contact" are the same
form shape: a contact form (date, time, attendance, …) and one :class:`ScoreForm` per measure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from interpersonal.web.assessments import actions as measure_actions
from interpersonal.web.assessments.forms import ScoreForm
from interpersonal.web.courses.models import ATTENDED, TherapySession
from interpersonal.web.formerrors import add_action_errors
from interpersonal.web.outcomes import summaries as outcome_summaries


def record_with_measures(
    form: Any, score_forms: Sequence[ScoreForm], *, what: str, by: Any, owner: Mapping[str, Any],
    record: Callable[[], TherapySession], rename: Mapping[str, str],
) -> TherapySession | None:
    """Validate ``form`` and every score form (each shows its own errors); measures need an
    attended contact (code 5 or 6). If all is well, ``record()`` saves the contact and each answered
    measure is recorded at it (``owner``: ``course=`` or ``referral=``), in one transaction with one
    outcome summary refresh at its end. The contact, or None with the errors on the forms (an
    action's refusal goes to the form it concerns) and nothing saved."""
    valid = form.is_valid()
    valid = sum(not f.is_valid() for f in score_forms) == 0 and valid  # validate every form
    if not valid:
        return None
    answered = [f for f in score_forms if any(v is not None for v in f.answers().values())]
    if answered and form.cleaned_data["attendance"] not in ATTENDED:
        form.add_error("attendance", f"Measures are recorded at a {what} the patient attended: choose code 5 "
                                     "or 6, or leave the measures blank.")
        return None
    target: Any = form
    try:
        with transaction.atomic(), outcome_summaries.deferred():
            session = record()
            for target in answered:
                measure_actions.record_measurement(
                    instrument=target.instrument.id, answers=target.answers(), variants=target.variants(),
                    session=session, by=by, recorded_at=min(session.scheduled_at, timezone.now()), **owner,
                )
    except ValidationError as exc:
        add_action_errors(target, exc, rename=rename)
        return None
    return session
