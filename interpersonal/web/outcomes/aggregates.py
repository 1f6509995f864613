"""The service's outcome figures as SQL aggregates over the per-referral summaries.

:func:`report` and :func:`funnel` answer exactly what ``interpersonal.core.outcomes.service.report``
(``by="month"``) and ``service.funnel`` answer over ``outcomes.dataset.from_database`` — the same
keys, the same counts, the same rates (worked out by the core from the counts) — but in a request:
two or three grouped queries over one narrow row per referral instead of every contact and score
(tests/web/outcomes/test_aggregates.py holds them equal on a synthetic service; docs/outcomes.md,
"The dashboard").

Each count is a ``COUNT(*) FILTER (WHERE …)`` (or ``SUM``) over the summaries of the referrals
the filters select, grouped by (placed therapy, month ended); the overall, by-therapy and by-month
figures are sums of those groups. The pre–post effect sizes need the mean and SD of the first
scores and of the changes over finished, paired referrals: their sums and sums of squares are
aggregated too, so no score leaves the database. The core's rules for a period:

- ``referrals`` counts referrals *received* in the period;
- every finished figure counts referrals *ended* in the period;
- attendance and DNA count treatment contacts *dated* in the period. A referral whose counted
  contacts all fall inside the period adds its stored counts; one whose contacts straddle an end
  of the period (few: those in treatment on that day) has its contacts in the period counted from
  the contacts themselves.

Rows are narrowed as ``from_database`` narrows them (not ended before ``since``, not received after
``until``), so that the same therapies, months and therapists appear, with zeros where nothing
fell in the period.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Max, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from interpersonal.core.outcomes import ANXIETY_MEASURE, DEPRESSION_MEASURE
from interpersonal.core.outcomes import rules as outcome_rules
from interpersonal.core.outcomes import service as core_service
from interpersonal.core.outcomes import standards as outcome_standards
from interpersonal.web.courses.models import TherapySession
from interpersonal.web.outcomes import summaries
from interpersonal.web.outcomes.models import ReferralSummary

UNKNOWN = core_service.UNKNOWN
CONTACT_COUNTS = ("treatment_contacts", "attended_contacts", "dna_contacts")
_COUNTS = ("referrals", "finished", "finished_paired", "not_at_caseness", "recovered", "reliable_improvement",
           "reliable_deterioration", "reliable_recovery", "no_reliable_change", "waited_6_weeks", "waited_18_weeks",
           "unplanned_endings", *CONTACT_COUNTS, "sessions", "adsm_paired", "stepped_up", "in_period")
_SCORES = ((DEPRESSION_MEASURE, "phq9"), (ANXIETY_MEASURE, "anxiety"))  # (core measure key, summary column prefix)
_MOMENTS = ("n", "sum", "sum_sq", "change", "change_sq")
_SUMMED = (*_COUNTS, *(f"{m}_{k}" for m, _ in _SCORES for k in _MOMENTS))


def core_figures(row: dict[str, Any], as_of: dt.date) -> dict[str, Any]:
    """The core's counts, rates, effect sizes and national standards (those in force on ``as_of``)
    from one aggregated row (``service._finish``): the one place the rates' denominators, the
    effect size and the targets are defined, re-pointed here if the core renames it."""
    return core_service._finish(row, outcome_standards.current().in_force(as_of))


def _in_period(field: str, since: dt.date | None, until: dt.date | None) -> Q:
    q = Q()
    if since is not None:
        q &= Q(**{f"{field}__gte": since})
    if until is not None:
        q &= Q(**{f"{field}__lte": until})
    return q


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


def scope(*, since: dt.date | None = None, until: dt.date | None = None, provider: str | None = None,
          therapy: str | None = None, therapist: str | None = None) -> QuerySet[ReferralSummary]:
    """The summaries of the referrals the filters select (``therapist`` a pseudonymous "T12")."""
    rows = ReferralSummary.objects.all()
    if since is not None:
        rows = rows.filter(Q(ended_on__isnull=True) | Q(ended_on__gte=since))
    if until is not None:
        rows = rows.filter(received_on__lte=until)
    if therapy is not None:
        rows = rows.filter(therapy=therapy)
    if therapist is not None:
        pk = therapist[1:] if therapist.startswith("T") else ""
        rows = rows.filter(therapist_id=int(pk)) if pk.isdigit() else rows.none()
    if provider is not None:
        in_team = Q(therapist__team__name=provider)
        if provider == settings.INTERPERSONAL_SERVICE_NAME:  # the service's name stands for "no team"
            in_team |= Q(therapist__isnull=True) | Q(therapist__team__isnull=True)
        rows = rows.filter(in_team)
    return rows


def _aggregates(since: dt.date | None, until: dt.date | None) -> dict[str, Any]:
    finished = Q(finished=True) & _in_period("ended_on", since, until)
    fp = finished & Q(paired=True)
    aggregates: dict[str, Any] = {
        "referrals": Count("pk", filter=_in_period("received_on", since, until)),
        "finished": Count("pk", filter=finished),
        "finished_paired": Count("pk", filter=fp),
        "not_at_caseness": Count("pk", filter=fp & Q(caseness_at_start=False)),
        **{flag: Count("pk", filter=fp & Q(**{flag: True})) for flag in (
            "recovered", "reliable_improvement", "reliable_deterioration", "reliable_recovery", "no_reliable_change")},
        "waited_6_weeks": Count("pk", filter=finished & Q(wait_days__lte=core_service.SIX_WEEKS_DAYS)),
        "waited_18_weeks": Count("pk", filter=finished & Q(wait_days__lte=core_service.EIGHTEEN_WEEKS_DAYS)),
        "unplanned_endings": Count("pk", filter=finished & Q(end_code__in=core_service.UNPLANNED_END_CODES)),
        "sessions": Sum("attended_treatment", filter=finished),
        "adsm_paired": Count("pk", filter=fp & ~Q(anxiety_measure=ANXIETY_MEASURE)),
        "stepped_up": Count("pk", filter=finished & Q(stepped_up=True)),
        "last_end": Max("ended_on", filter=finished),
    }
    inside = _in_period("first_contact_on", since, None) & _in_period("last_contact_on", None, until)
    for name in CONTACT_COUNTS:
        aggregates[name] = Sum(name, filter=inside) if (since or until) else Sum(name)
    # Activity in the period (the core's "no match" test): received, ended, or a treatment contact
    # in it; referrals whose contacts straddle the period are added from their contacts (report).
    aggregates["in_period"] = Count("pk", filter=(_in_period("received_on", since, until)
                                                  | (Q(ended_on__isnull=False) & _in_period("ended_on", since, until))
                                                  | (inside & Q(treatment_contacts__gt=0))))
    # The effect sizes: PHQ-9 over finished, paired referrals; GAD-7 over those whose anxiety
    # measure is GAD-7 (the core's, for a referral paired on an ADSM, leaves GAD-7 out).
    for measure, prefix in _SCORES:
        among = fp if measure == DEPRESSION_MEASURE else fp & Q(anxiety_measure=ANXIETY_MEASURE)
        first, last = F(f"{prefix}_first"), F(f"{prefix}_last")
        aggregates.update({
            f"{measure}_n": Count("pk", filter=among), f"{measure}_sum": Sum(first, filter=among),
            f"{measure}_sum_sq": Sum(first * first, filter=among), f"{measure}_change": Sum(first - last, filter=among),
            f"{measure}_change_sq": Sum((first - last) * (first - last), filter=among),
        })
    # Prefixed: an annotation named like a field ("finished") would stand for it in the filters.
    return {f"agg_{name}": aggregate for name, aggregate in aggregates.items()}


def _straddling_contacts(rows: QuerySet[ReferralSummary], since: dt.date | None,
                         until: dt.date | None) -> Iterable[dict[str, Any]]:
    """Contact counts in the period, per (therapy, month), of the referrals whose counted contacts
    cross an end of the period (the others' stored counts are all in or all out)."""
    inside = _in_period("first_contact_on", since, None) & _in_period("last_contact_on", None, until)
    overlapping = _in_period("last_contact_on", since, None) & _in_period("first_contact_on", None, until)
    straddling = rows.filter(overlapping, first_contact_on__isnull=False).exclude(inside)
    contacts = TherapySession.objects.filter(
        referral_id__in=straddling.values("referral_id"), treatment=True,
        attendance__gte=summaries.CONTACT_CODES[0], attendance__lte=summaries.CONTACT_CODES[1])
    if since is not None:
        contacts = contacts.filter(scheduled_at__gte=_local_midnight(since))
    if until is not None:
        contacts = contacts.filter(scheduled_at__lt=_local_midnight(until + dt.timedelta(days=1)))
    return (contacts.order_by()
            .values(therapy=F("referral__outcome_summary__therapy"),
                    month=TruncMonth("referral__outcome_summary__ended_on"))
            .annotate(treatment_contacts=Count("pk"),
                      attended_contacts=Count("pk", filter=Q(attendance__in=sorted(summaries.ATTENDED_CODES))),
                      dna_contacts=Count("pk", filter=Q(attendance=summaries.DNA_CODE))))


def _sd(total: float, total_sq: float, n: int) -> float | None:
    """The sample SD (n − 1) from a sum and a sum of squares; None below 2 values."""
    if n < 2:
        return None
    return math.sqrt(max(0.0, (total_sq - total * total / n) / (n - 1)))


def _finish(sums: dict[str, Any], as_of: dt.date) -> dict[str, Any]:
    row: dict[str, Any] = {c: sums[c] for c in _COUNTS}
    row["mean_sessions"] = sums["sessions"] / sums["finished"] if sums["finished"] else None
    row["_gad7_n"] = sums[f"{ANXIETY_MEASURE}_n"]
    for measure, _prefix in _SCORES:
        n = sums[f"{measure}_n"]
        row[f"_{measure}_mean_change"] = sums[f"{measure}_change"] / n if n else None
        row[f"_{measure}_sd_first"] = _sd(sums[f"{measure}_sum"], sums[f"{measure}_sum_sq"], n)
        row[f"_{measure}_sd_change"] = _sd(sums[f"{measure}_change"], sums[f"{measure}_change_sq"], n)
    return core_figures(row, as_of)


def _month_end(month: str) -> dt.date:
    year, mon = (int(x) for x in month.split("-"))
    return dt.date(year, mon, calendar.monthrange(year, mon)[1])


def _month(value: dt.date | dt.datetime | None) -> str | None:
    return None if value is None else f"{value:%Y-%m}"


def report(*, since: dt.date | None = None, until: dt.date | None = None, provider: str | None = None,
           therapy: str | None = None, therapist: str | None = None) -> dict[str, Any]:
    """``{"overall", "by_therapy", "by_month"}`` as ``service.report(from_database(), by="month", …)``."""
    rows = scope(since=since, until=until, provider=provider, therapy=therapy, therapist=therapist)
    groups: dict[tuple[str, str | None], dict[str, float]] = defaultdict(lambda: dict.fromkeys(_SUMMED, 0))
    grouped = (rows.order_by().values("therapy", month=TruncMonth("ended_on")).annotate(**_aggregates(since, until)))
    last_end: dt.date | None = None
    for g in grouped:
        key = (g["therapy"] or UNKNOWN, _month(g["month"]))
        for name in _SUMMED:
            groups[key][name] += g[f"agg_{name}"] or 0
        if g["agg_last_end"] is not None and (last_end is None or g["agg_last_end"] > last_end):
            last_end = g["agg_last_end"]
    if since is not None or until is not None:
        for g in _straddling_contacts(rows, since, until):
            key = (g["therapy"] or UNKNOWN, _month(g["month"]))
            for name in CONTACT_COUNTS:
                groups[key][name] += g[name]
            groups[key]["in_period"] += g["treatment_contacts"] > 0

    def total(keys: Iterable[tuple[str, str | None]]) -> dict[str, Any]:
        out = dict.fromkeys(_SUMMED, 0)
        for key in keys:
            for name in _SUMMED:
                out[name] += groups[key][name]
        return out

    therapies = sorted({t for t, _ in groups})
    months = sorted({m for _, m in groups if m is not None})
    as_of = until or last_end or timezone.localdate()
    overall = total(groups)
    return {
        "overall": _finish(overall, as_of),
        "by_therapy": {t: _finish(total(k for k in groups if k[0] == t), as_of) for t in therapies},
        "by_month": {m: _finish(total(k for k in groups if k[1] == m), _month_end(m)) for m in months},
        **core_service.notes(outcome_rules.current(), outcome_standards.current(), as_of, int(overall["in_period"]), {
            "provider": provider, "therapy": therapy, "therapist": therapist, "since": since, "until": until}),
    }


def funnel(*, since: dt.date | None = None, until: dt.date | None = None, provider: str | None = None,
           therapy: str | None = None) -> list[dict[str, Any]]:
    """Funnel-plot rows, one per therapist, as ``service.funnel(from_database(), …)`` (no therapist
    filter: the funnel compares every therapist with the whole filtered service)."""
    fp = Q(finished=True, paired=True) & _in_period("ended_on", since, until)
    grouped = (scope(since=since, until=until, provider=provider, therapy=therapy).order_by().values("therapist_id")
               .annotate(eligible=Count("pk", filter=fp & Q(caseness_at_start=True)),
                         recovered=Count("pk", filter=fp & Q(recovered=True))))
    counts = sorted((f"T{g['therapist_id']}" if g["therapist_id"] is not None else UNKNOWN, g["eligible"], g["recovered"])
                    for g in grouped)
    total_n, total_r = sum(n for _, n, _ in counts), sum(r for *_, r in counts)
    mean = total_r / total_n if total_n else None
    rows: list[dict[str, Any]] = []
    for tid, n, r in counts:
        row: dict[str, Any] = {"therapist_id": tid, "finished_eligible": n, "recovered": r,
                               "rate": r / n if n else None, "mean": mean}
        for label, z in (("95", core_service.Z_95), ("998", core_service.Z_998)):
            lo, hi = core_service.control_limits(mean, n, z) if mean is not None and n else (None, None)
            row[f"lower_{label}"], row[f"upper_{label}"] = lo, hi
        rows.append(row)
    return rows
