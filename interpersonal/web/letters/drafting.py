"""First drafts of ending letters, from the course's formulation and outcomes.

A draft is a starting point the therapist edits: kind, plain English for the patient
(no statistics jargon), the measure names and NHS Talking Therapies terms for the GP.
Reads an already-authorised course; writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone

from interpersonal.core import measures
from interpersonal.core.outcomes import ANXIETY_MEASURE, DEPRESSION_MEASURE, rules
from interpersonal.web.courses.models import Course
from interpersonal.web.courses.summary import CourseSummary, summarise

TABLE_MEASURES = (DEPRESSION_MEASURE, ANXIETY_MEASURE, "wsas", "hrsd17")
"""The measures of the scores table, in this order, where recorded."""

PLAIN_NAMES = {
    DEPRESSION_MEASURE: "the questionnaire about low mood",
    ANXIETY_MEASURE: "the questionnaire about worry and anxiety",
    "wsas": "the questionnaire about how things affect your work and daily life",
    "hrsd17": "the depression interview",
}


# -- the formulation ------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Ipaf:
    self_representation: str
    other_representation: str
    affect: str
    defensive_function: str
    link_to_depression: str
    agreed: bool


@dataclass(frozen=True, slots=True)
class Focus:
    label: str
    stage: str
    goals: str


@dataclass(frozen=True, slots=True)
class IptFocus:
    areas: tuple[Focus, ...]
    formulation: str


def _clean(text: str) -> str:
    return " ".join((text or "").split()).rstrip(".;, ")


def read_ipaf(course: Course) -> Ipaf | None:
    """The latest IPAF revision of a DIT course (the agreed one if any was agreed)."""
    from interpersonal.web.formulation.models import IpafRevision

    revisions = IpafRevision.objects.filter(course=course).order_by("-number")
    latest = revisions.filter(agreed_with_patient=True).first() or revisions.first()
    if latest is None:
        return None
    return Ipaf(
        self_representation=_clean(latest.self_representation),
        other_representation=_clean(latest.other_representation),
        affect=_clean(latest.affect),
        defensive_function=_clean(latest.defensive_function),
        link_to_depression=_clean(latest.link_to_depression),
        agreed=latest.agreed_with_patient,
    )


def read_ipt_focus(course: Course) -> IptFocus | None:
    """The focal areas (with goals) and the formulation text of an IPT course."""
    from interpersonal.web.formulation.models import IptFormulation

    formulation = IptFormulation.objects.filter(course=course).first()
    if formulation is None:
        return None
    areas = tuple(
        Focus(label=a.get_area_display(), stage=a.get_dispute_stage_display() if a.dispute_stage else "",
              goals=_clean(a.goals))
        for a in formulation.focal_areas.order_by("position", "id")
    )
    return IptFocus(areas=areas, formulation=" ".join(formulation.formulation.split()))


# -- the outcomes ---------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ScoreRow:
    """One line of the scores table: a measure's first and last totals."""

    instrument: measures.Instrument
    first: float
    last: float
    paired: bool
    severity_first: str
    severity_last: str
    reliable_change: str
    """"improved", "deteriorated", "no reliable change", or "" (no criterion, or not paired)."""
    unanswered_first: tuple[str, ...] = ()
    unanswered_last: tuple[str, ...] = ()
    """Risk items left unanswered at the first and the last score: the risk then is unknown, not absent."""

    def unanswered_notes(self) -> list[str]:
        """What the GP must be told about unanswered risk items, one sentence per score."""
        notes = []
        for when, items in (("first", self.unanswered_first), ("last", self.unanswered_last)):
            if items and not (when == "last" and not self.paired):
                labels = {r.item: r.label for r in self.instrument.risk}
                named = ", ".join(f"item {i} ({labels.get(i, 'risk item').lower()})" for i in items)
                notes.append(f"At the {when} {self.instrument.abbreviation}, {named} was not answered: "
                             "the risk at that time is not known from the questionnaire.")
        return notes

    @property
    def change(self) -> float:
        return self.last - self.first


def score_rows(summary: CourseSummary) -> list[ScoreRow]:
    rows = []
    by_id = {s.instrument.id: s for s in summary.series}
    for instrument_id in TABLE_MEASURES:
        series = by_id.get(instrument_id)
        if series is None:
            continue
        scored = [p for p in series.points if p.total is not None]
        if not scored:
            continue
        instrument, first, last = series.instrument, scored[0], scored[-1]
        assert first.total is not None  # noqa: S101 - filtered above
        assert last.total is not None  # noqa: S101 - filtered above
        paired = rules.first_and_last([(p.x, p.total) for p in scored]) is not None
        reliable = ""
        if paired:
            reliable = rules.reliable_change(instrument.id, first.total, last.total) or ""
        rows.append(ScoreRow(
            instrument=instrument, first=first.total, last=last.total, paired=paired,
            severity_first=instrument.severity(first.total) or "", severity_last=instrument.severity(last.total) or "",
            reliable_change=reliable, unanswered_first=tuple(first.risk_unanswered),
            unanswered_last=tuple(last.risk_unanswered),
        ))
    return rows


def num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _plain_change(row: ScoreRow) -> str:
    name = PLAIN_NAMES.get(row.instrument.id, f"the {row.instrument.abbreviation} questionnaire")
    text = f"your score on {name} went from {num(row.first)} to {num(row.last)}"
    if row.reliable_change == "improved":
        text += ", a real improvement — bigger than the ups and downs scores have from week to week"
    elif row.reliable_change == "deteriorated":
        text += ", which tells us things have been harder lately"
    elif row.paired and row.instrument.reliable_change:
        text += ", a smaller change than we would count as a clear difference"
    return text


def _patient_outcomes(course: Course, summary: CourseSummary, rows: list[ScoreRow]) -> str:
    lines = [f"We met for {summary.attended} session{'s' if summary.attended != 1 else ''}."]
    key = [r for r in rows if r.instrument.id in (DEPRESSION_MEASURE, ANXIETY_MEASURE) and r.paired]
    if key:
        parts = [_plain_change(r) for r in key]
        lines.append("When we look at the questionnaires you filled in along the way, " + "; and ".join(parts) + ".")
        if summary.outcome.recovered:
            lines.append("By the end, your scores were below the level that usually means low mood or anxiety "
                         "is getting in the way of life. That is a real achievement, and it is yours.")
        elif summary.outcome.reliable_deterioration:
            lines.append("I know this has been a difficult time, and it is important that support continues "
                         "after our sessions end.")
    else:
        lines.append("We did not have enough questionnaires from the start and the end to compare your scores, "
                     "so I have written about what we noticed together instead.")
    return " ".join(lines)


def _gp_outcomes(summary: CourseSummary, rows: list[ScoreRow]) -> str:
    out = []
    for r in rows:
        if not r.paired:
            out.append(f"{r.instrument.abbreviation}: {num(r.first)} ({r.severity_first}), one score only.")
            continue
        text = (f"{r.instrument.abbreviation}: {num(r.first)} ({r.severity_first}) at the start, "
                f"{num(r.last)} ({r.severity_last}) at the end")
        if r.reliable_change:
            text += f"; {r.reliable_change.replace('improved', 'reliable improvement').replace('deteriorated', 'reliable deterioration')}"
        out.append(text + ".")
    out += [note for r in rows for note in r.unanswered_notes()]
    o = summary.outcome
    if o.paired and summary.finished_treatment:
        if not o.caseness_at_start:
            out.append("NHS Talking Therapies outcome: not at caseness at the start of treatment.")
        else:
            terms = ["recovered" if o.recovered else "not recovered"]
            if o.reliable_recovery:
                terms.append("reliable recovery")
            if o.reliable_improvement:
                terms.append("reliable improvement")
            if o.reliable_deterioration:
                terms.append("reliable deterioration")
            if o.no_reliable_change:
                terms.append("no reliable change")
            out.append(f"NHS Talking Therapies outcome: {', '.join(terms)}.")
    else:
        out.append("NHS Talking Therapies outcome: not available (no paired PHQ-9 and GAD-7 scores from "
                   "two or more attended sessions).")
    return "\n".join(out)


# -- risk, for the GP -----------------------------------------------------------------------

def prompt(text: str) -> str:
    """A prompt for the therapist, left in the draft: ``[[text]]``. Finalising is refused while
    one remains (actions.placeholders finds them)."""
    return f"[[{text}]]"


def _date(value: Any) -> str:
    return f"{value.day} {value:%B %Y}"


def _answer(instrument: measures.Instrument, item_id: str, value: Any) -> str:
    """``value`` of item ``item_id`` with its option's words where the licence lets us print them."""
    if value is None:
        return "not answered"
    label = ""
    if instrument.licence.item_text:
        item = next((i for i in instrument.items if i.id == item_id), None)
        option = next((o for o in item.options if o.value == value), None) if item is not None else None
        label = option.label if option is not None and option.label else ""
    shown = num(value) if isinstance(value, int | float) else str(value)
    return f"{shown} (“{label.lower()}”)" if label else shown


def _risk_label(instrument: measures.Instrument, item_id: str) -> str:
    labels = {r.item: r.label for r in instrument.risk}
    return f"item {item_id} ({labels.get(item_id, 'risk item').lower()})"


def _instrument(instrument_id: str) -> measures.Instrument | None:
    try:
        return measures.get(instrument_id)
    except measures.UnknownInstrument:
        return None


def latest_risk_answers(course: Course) -> list[str]:
    """One sentence per measure with risk items recorded in the course: the risk items' answers at
    its latest score (an unanswered one said so: unknown risk is not "no risk")."""
    from interpersonal.web.assessments.models import Measurement

    sentences = []
    seen: set[str] = set()
    for m in Measurement.objects.filter(course=course).order_by("-recorded_at", "-id").only(
            "instrument", "answers", "recorded_at"):
        instrument = _instrument(m.instrument)
        if instrument is None or not instrument.risk or m.instrument in seen:
            continue
        seen.add(m.instrument)
        answers = m.answers or {}
        said = "; ".join(f"{_risk_label(instrument, r.item)} was answered {_answer(instrument, r.item, answers.get(r.item))}"
                         if answers.get(r.item) is not None else f"{_risk_label(instrument, r.item)} was not answered, "
                         "so the risk then is not known from the questionnaire"
                         for r in instrument.risk)
        sentences.append(f"At the last {instrument.abbreviation}, on {_date(timezone.localdate(m.recorded_at))}, {said}.")
    return sentences


def alert_sentences(course: Course) -> tuple[list[str], int]:
    """The risk alerts of the course (and of its referral's screening), oldest first, one sentence
    each: what raised it and when, and whether it was acknowledged, by whom and what was done —
    or that it is still open. And how many are still open."""
    from django.db.models import Q

    from interpersonal.web.assessments.alerts import left_open_text
    from interpersonal.web.assessments.models import RiskAlert

    alerts = (RiskAlert.objects.filter(Q(course=course) | Q(course__isnull=True, referral_id=course.referral_id))
              .select_related("measurement", "course", "acknowledged_by", "left_open_by").order_by("raised_at", "id"))
    sentences, still_open = [], 0
    for alert in alerts:
        instrument = _instrument(alert.instrument)
        if instrument is None:
            what = f"a {alert.instrument} answer (items {', '.join(map(str, alert.items))})"
        elif alert.measurement is None:
            # Raised as the patient saved a risk answer in a questionnaire not yet sent: the answer
            # met the item's threshold (assessments.models.RiskAlert.measurement).
            what = f"the {instrument.abbreviation}: " + "; ".join(
                f"{_risk_label(instrument, str(i))} answered at or above its risk threshold" for i in alert.items
            ) + ", in a questionnaire not yet sent"
        else:
            answers = alert.measurement.answers or {}
            what = f"the {instrument.abbreviation}: " + "; ".join(
                f"{_risk_label(instrument, str(i))} answered {_answer(instrument, str(i), answers.get(str(i)))}"
                if answers.get(str(i)) is not None else f"{_risk_label(instrument, str(i))} not answered"
                for i in alert.items)
        where = " at screening, before treatment" if alert.course_id is None else ""
        text = f"On {_date(timezone.localdate(alert.raised_at))}{where}, an alert was raised by {what}."
        if alert.acknowledged_at is not None:
            who = alert.acknowledged_by.display_name if alert.acknowledged_by is not None else "a clinician"
            note = " ".join(alert.note.split()).rstrip(".")
            text += (f" {who} acknowledged it on {_date(timezone.localdate(alert.acknowledged_at))}"
                     + (f": {note}." if note else "."))
        else:
            still_open += 1
            text += " It is still open (not yet acknowledged)." + (f" {left_open_text(alert)}" if alert.left_open_reason else "")
        sentences.append(text)
    return sentences, still_open


def _gp_risk(course: Course) -> str:
    """The risk paragraph of the GP letter: current risk first, then every alert of the course."""
    name = course.patient.given_name
    alerts, still_open = alert_sentences(course)
    current = []
    if still_open:
        current.append(f"{still_open} risk alert{'s are' if still_open != 1 else ' is'} still open at the time of "
                       "writing (listed below).")
    current += latest_risk_answers(course) or ["No questionnaire with a risk item was recorded during the course."]
    from interpersonal.web.assessments.risk_summary import latest_sentence

    current += [s for s in [latest_sentence(course)] if s]
    paragraphs = ["Current risk: " + " ".join(current),
                  prompt(f"Your assessment of {name}'s current risk to self and others at discharge, the "
                         "protective factors, and any safety plan agreed.")]
    if alerts:
        paragraphs.append(f"Risk alerts during the course ({len(alerts)}):\n" + "\n".join(f"- {a}" for a in alerts))
    else:
        paragraphs.append("No risk alert was raised during the course.")
    return "\n\n".join(paragraphs)


# -- the letters ----------------------------------------------------------------------------

def _therapist_name(course: Course) -> str:
    t = course.therapist
    return t.get_full_name() or t.get_username()


def _sign_off(course: Course, closing: str) -> str:
    return f"{closing},\n{_therapist_name(course)}\n{course.definition.name} therapist"


def _keep_well() -> str:
    """The closing paragraph of a letter to the patient: where to turn (the service's crisis text)."""
    return ("If your mood drops again, please talk to your GP, who can refer you back to us; you can also refer "
            "yourself. " + settings.INTERPERSONAL_CRISIS_MESSAGE)


def _goodbye(course: Course, summary: CourseSummary, rows: list[ScoreRow]) -> str:
    patient = course.patient
    ipaf = read_ipaf(course)
    parts = [f"Dear {patient.given_name},",
             "As our sessions come to an end, I wanted to write to you, as we agreed, about what we have understood "
             "together, so that you have something to keep and come back to."]
    if ipaf is not None:
        pattern = ["Early on, we noticed a pattern that kept coming back in your relationships."]
        if ipaf.self_representation:
            pattern.append(f"You often found yourself feeling {ipaf.self_representation}"
                           + (f", while other people seemed {ipaf.other_representation}." if ipaf.other_representation
                              else "."))
        elif ipaf.other_representation:
            pattern.append(f"Other people often seemed {ipaf.other_representation}.")
        if ipaf.affect:
            pattern.append(f"When this happened, you felt {ipaf.affect}.")
        if ipaf.defensive_function:
            pattern.append(f"It made sense that {ipaf.defensive_function}: it protected you, but it also cost you.")
        if ipaf.link_to_depression:
            pattern.append(f"Together we came to see how this pattern was tied up with your low mood: "
                           f"{ipaf.link_to_depression}.")
        parts.append(" ".join(pattern))
    else:
        parts.append(prompt("In your own words to the patient: the pattern in their relationships that you "
                            "worked on together, and how it was linked to their low mood."))
    parts.append(_patient_outcomes(course, summary, rows))
    parts.append("Endings can bring up mixed feelings, and that is all right. The pattern we worked on may still "
                 "show itself at times, especially when you are under stress. When it does, you now know how to "
                 "notice it, to pause and to wonder what you and the other person might be feeling.")
    parts.append(prompt("What you hope for the patient, and what they can do if things get difficult again."))
    parts.append(_keep_well())
    parts.append(_sign_off(course, "With warm wishes"))
    return "\n\n".join(parts)


def _ending_summary(course: Course, summary: CourseSummary, rows: list[ScoreRow]) -> str:
    patient = course.patient
    focus = read_ipt_focus(course)
    parts = [f"Dear {patient.given_name},",
             "This letter sums up the work we have done together in interpersonal psychotherapy, so that you "
             "have a record of it to look back on."]
    if focus is not None and focus.areas:
        for area in focus.areas:
            text = f"We agreed to focus on {area.label.lower()}"
            text += f" (a disagreement at the stage of {area.stage.lower()})." if area.stage else "."
            if area.goals:
                text += f" The goal you set yourself was “{area.goals}”."
            parts.append(text)
    else:
        parts.append(prompt("The focus you agreed with the patient, and the goals they set themselves."))
    if focus is not None and focus.formulation:
        parts.append("When we put together what had been happening in your life and in your mood, we understood "
                     f"it like this. {focus.formulation}")
    parts.append(_patient_outcomes(course, summary, rows))
    parts.append(prompt("The warning signs you agreed to look out for, and what the patient will do if their mood "
                        "drops again."))
    parts.append(_keep_well())
    parts.append(_sign_off(course, "With best wishes"))
    return "\n\n".join(parts)


def _gp(course: Course, summary: CourseSummary, rows: list[ScoreRow]) -> str:
    patient = course.patient
    definition = course.definition
    period = f"from {_date(course.started_on)}"
    if course.ended_on:
        period += f" to {_date(course.ended_on)}"
    reason = (f"The course ended: {course.end_reason_enum.label.lower()}." if course.end_reason_enum
              else "The course is ending.")
    parts = ["Dear Doctor,",
             f"{patient.given_name} {patient.family_name} has had a course of {definition.name} with our service "
             f"{period}, attending {summary.attended} session{'s' if summary.attended != 1 else ''}"
             f" (missed {summary.missed}, cancelled {summary.cancelled}). {reason}"]
    if definition.has_feature("ipaf"):
        ipaf = read_ipaf(course)
        if ipaf is not None:
            # Quoted as the formulation words them (often to the patient, as "you").
            pieces = [text.format(value) for text, value in (
                (f"{patient.given_name}'s sense of self as “{{}}”", ipaf.self_representation),
                ("in relation to others experienced as “{}”", ipaf.other_representation),
                ("with the feeling “{}”", ipaf.affect),
                ("and the way this was defended against: “{}”", ipaf.defensive_function)) if value]
            agreed = f", agreed with {patient.given_name}" if ipaf.agreed else ""
            if pieces:
                parts.append(f"The work focused on an interpersonal affective focus (IPAF){agreed}: "
                             + ", ".join(pieces) + ".")
    elif definition.has_feature("ipt_formulation"):
        focus_ipt = read_ipt_focus(course)
        if focus_ipt is not None and focus_ipt.areas:
            areas = ", ".join(a.label.lower() + (f" ({a.stage.lower()})" if a.stage else "") for a in focus_ipt.areas)
            parts.append(f"The agreed IPT focal area{'s were' if len(focus_ipt.areas) > 1 else ' was'} {areas}.")
    parts.append(_gp_risk(course))
    parts.append("Outcome measures (first and last; the table and chart below show them in full):\n"
                 + _gp_outcomes(summary, rows))
    parts.append(prompt("Medication the patient mentioned, and the plan: discharge back to your care, and how to "
                        "re-refer."))
    parts.append(_sign_off(course, "Yours sincerely"))
    return "\n\n".join(parts)


def draft_body(course: Course, kind: str, *, summary: CourseSummary | None = None) -> str:
    """The first draft of a letter of ``kind`` ("goodbye", "ending_summary", "gp_discharge")."""
    summary = summary or summarise(course)
    rows = score_rows(summary)
    builders: dict[str, Any] = {"goodbye": _goodbye, "ending_summary": _ending_summary, "gp_discharge": _gp}
    return builders[kind](course, summary, rows)
