"""Course forms: they parse; courses.actions and assessments.actions validate and write."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone

from interpersonal.core import protocols
from interpersonal.core.codes import Attendance, EndReason, Medium
from interpersonal.web import bounds
from interpersonal.web.assessments.actions import NOTE_MAX
from interpersonal.web.assessments.models import LeftOpen

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


def protocol_choices(min_step: int = 0) -> list[tuple[str, str]]:
    return [(p.id, p.name) for p in protocols.catalogue() if p.step > min_step]


def start_choices() -> list[tuple[str, str]]:
    return [("", "Choose…"), *protocol_choices()]


class StartCourseForm(forms.Form):
    """The protocol defaults to the one the referral was triaged to (the view's initial);
    otherwise it is chosen, never pre-selected."""

    protocol = forms.ChoiceField(choices=start_choices, error_messages={"required": "Choose the course's protocol."})
    planned_sessions = forms.IntegerField(required=False, min_value=1, max_value=bounds.SESSIONS_MAX,
                                          help_text="Leave blank for the protocol's usual number.")
    started_on = bounds.DateField(window=bounds.CLINICAL, widget=DATE, required=False, help_text="Leave blank for today.")


ACKNOWLEDGE = "acknowledge"
ALERTS_SEEN_MAX = 1000
"""How many open risk alerts one ending or stepping up may decide on (ids posted back)."""
_ID_DIGITS = 18
"""A positive database id has at most this many digits (a 64-bit key)."""


class AlertDecisionForm(forms.Form):
    """The decision about a course's open risk alerts that ending it or stepping it up needs:
    acknowledge each one (``note_<id>``: what was done) or leave them open for a coded reason.
    ``alerts_seen`` posts back the ids of the alerts the clinician was shown, so that an alert
    raised or acknowledged meanwhile is noticed (courses.actions checks them)."""

    alerts_seen = forms.CharField(required=False, widget=forms.HiddenInput, strip=True)

    def __init__(self, *args: Any, alert_ids: list[int] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        self.alert_ids = list(alert_ids)
        if self.alert_ids:
            self.fields["alerts_decision"] = forms.ChoiceField(
                label="What to do about the open risk alerts", widget=forms.RadioSelect,
                choices=[(ACKNOWLEDGE, "Acknowledge each alert now, saying what was done")]
                + [(r.value, f"Leave them open: {r.label}") for r in LeftOpen],
                error_messages={"required": "Choose what to do about the open risk alerts."},
            )
            for pk in self.alert_ids:
                self.fields[f"note_{pk}"] = forms.CharField(
                    label="What was done", required=False, max_length=NOTE_MAX,
                    widget=forms.Textarea(attrs={"rows": 2}), help_text="Needed if you acknowledge the alerts here.",
                )

    def clean_alerts_seen(self) -> list[int]:
        """At most :data:`ALERTS_SEEN_MAX` ids, each a positive whole number. A problem here is
        shown at the top of the form (the field itself is hidden)."""
        raw = self.cleaned_data.get("alerts_seen") or ""
        parts = [p.strip() for p in raw.split(",", ALERTS_SEEN_MAX) if p.strip()]
        if len(parts) > ALERTS_SEEN_MAX:
            self.add_error(None, f"This page lists more than {ALERTS_SEEN_MAX} open risk alerts, more than one "
                                 "decision can cover. Acknowledge some of them on the course page first, then "
                                 "try again.")
            return []
        if not all(p.isascii() and p.isdigit() and len(p) <= _ID_DIGITS and int(p) > 0 for p in parts):
            self.add_error(None, "The list of open risk alerts you were shown did not come back whole. Nothing "
                                 "was saved: reload the page and try again.")
            return []
        return [int(p) for p in parts]

    def alert_decision(self) -> dict[str, Any]:
        """The keyword arguments of courses.actions.end_course (or step_up) for the open alerts."""
        decision = self.cleaned_data.get("alerts_decision")
        seen = self.cleaned_data.get("alerts_seen") or []
        if not decision:
            return {}
        if decision == ACKNOWLEDGE:
            return {"alert_notes": {pk: self.cleaned_data.get(f"note_{pk}", "") for pk in seen}}
        return {"alerts_left_open": decision, "alerts_seen": seen}


class StepUpForm(AlertDecisionForm):
    """With risk alerts open, stepping up needs the same decision about them as ending."""

    protocol = forms.ChoiceField(label="High-intensity protocol")
    planned_sessions = forms.IntegerField(required=False, min_value=1, max_value=bounds.SESSIONS_MAX,
                                          help_text="Leave blank for the protocol's usual number.")

    def __init__(self, *args: Any, current_step: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["protocol"].choices = protocol_choices(current_step)


END_CHOICES = [(r.value, f"{r.label}{f' (code {r.nhs_code})' if r.nhs_code else ''}")
               for r in EndReason if r.ends_course and r not in (EndReason.STEPPED_UP, EndReason.STEPPED_DOWN)]


class EndCourseForm(AlertDecisionForm):
    """The end reason is chosen, never pre-selected. With risk alerts open the clinician
    decides about them here (acknowledge each, or leave them open for a stated reason); a
    course ending as "completed" far short of its planned sessions needs a confirmation."""

    reason = forms.ChoiceField(label="Why the course ended", choices=[("", "Choose…"), *END_CHOICES],
                               error_messages={"required": "Choose why the course ended."},
                               help_text="NHS Talking Therapies end code. To step up, use “Step up” instead.")
    ended_on = bounds.DateField(window=bounds.PAST_CLINICAL, widget=DATE, required=False, help_text="Leave blank for today.")

    def __init__(self, *args: Any, attended: int | None = None, planned: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.attended, self.planned = attended, planned
        if self.short_course:
            self.fields["confirm_completed"] = forms.BooleanField(
                required=False, label="Treatment was completed",
                help_text=f"Only {attended} of {planned} planned sessions were attended. Tick to confirm that "
                          "treatment was completed; otherwise choose another reason.",
            )

    @property
    def short_course(self) -> bool:
        """Fewer than half the planned sessions attended: "completed" needs a confirmation."""
        return self.attended is not None and bool(self.planned) and self.attended * 2 < (self.planned or 0)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if (self.short_course and data.get("reason") == EndReason.COMPLETED.value
                and not data.get("confirm_completed")):
            self.add_error("confirm_completed", f"Only {self.attended} of {self.planned} planned sessions were attended. "
                                                "Tick to confirm that treatment was completed, or choose another reason.")
        return data


ATTENDANCE_CHOICES = [("", "Not yet: book this session")] + [(str(a.value), f"{a.value} · {a.label}") for a in Attendance]


class SessionForm(forms.Form):
    date = bounds.DateField(window=bounds.CLINICAL, widget=DATE)
    time = forms.TimeField(widget=TIME)
    attendance = forms.TypedChoiceField(choices=ATTENDANCE_CHOICES, coerce=int, empty_value=None, required=False,
                                        help_text="NHS Talking Therapies attendance code.")
    duration_minutes = forms.IntegerField(label="Duration (minutes)", required=False,
                                          min_value=bounds.SESSION_MINUTES[0], max_value=bounds.SESSION_MINUTES[1])
    medium = forms.ChoiceField(choices=[(m.value, m.label) for m in Medium], initial=Medium.FACE_TO_FACE.value)
    notes = forms.CharField(max_length=bounds.NOTE, required=False, widget=forms.Textarea(attrs={"rows": 4}))
    home_practice = forms.CharField(max_length=bounds.NOTE, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def scheduled_at(self) -> dt.datetime:
        naive = dt.datetime.combine(self.cleaned_data["date"], self.cleaned_data["time"])
        return timezone.make_aware(naive, timezone.get_current_timezone())


class MeasureMetaForm(forms.Form):
    """Where a stand-alone measure belongs: a session of the course, or a date."""

    session = forms.TypedChoiceField(coerce=int, empty_value=None, required=False, label="Session")
    # A measure has been taken: never ahead, never before the service kept records (a year-1
    # date would otherwise become the course's baseline, the first score by date).
    date = bounds.DateField(window=bounds.PAST_CLINICAL, widget=DATE, required=False, help_text="Leave blank for today.")

    def __init__(self, *args: Any, sessions: list[tuple[int, str]] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        self.fields["session"].choices = [("", "Not at a session")] + [(str(pk), label) for pk, label in sessions]


class AcknowledgeForm(forms.Form):
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="What was done", max_length=NOTE_MAX)


class TaskForm(forms.Form):
    task = forms.CharField(max_length=64)
    done = forms.TypedChoiceField(choices=[("1", "done"), ("0", "not done")], coerce=lambda v: v == "1")
