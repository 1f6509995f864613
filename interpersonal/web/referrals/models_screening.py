"""Screening and triage of a referral: the service's suitability rules (data it edits), each
clinician's suitability decision, and each triage to a step and therapy (docs/screening.md).

The rules only suggest (interpersonal.core.pathways.suitability evaluates them); a clinician
decides, and the decision keeps what the rules said at that moment. Changed only through
referrals.screening; rules through referrals.screening as well, by the service lead or an
administrator.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from interpersonal.core.codes import EndReason
from interpersonal.core.pathways import Ng222Severity, Outcome, RuleKind, Suggestion


class SuitabilityRule(models.Model):
    """One of the service's suitability rules (DOMAIN.md §6: service rules, [U] as national ones).
    Seeded with the typical defaults, each marked unconfirmed until the service confirms it."""

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=24, choices=[(k.value, k.label) for k in RuleKind])
    params = models.JSONField(default=dict, blank=True,
                              help_text="The kind's parameters (core.pathways.suitability.PARAMETERS).")
    outcome = models.CharField(max_length=16, choices=[(o.value, o.label) for o in Outcome])
    message = models.TextField(help_text="What the screening clinician is told when the rule applies.")
    description = models.TextField(blank=True, help_text="Why the service has the rule.")
    source = models.CharField(max_length=500, blank=True, help_text="Where the rule comes from.")
    confirmed = models.BooleanField(
        default=False, help_text="Confirmed as this service's policy. Unconfirmed rules are shown as defaults [U].",
    )
    active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0, help_text="Rules are checked and listed in this order.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"suitability rule {self.pk}: {self.name}"


class Decision(models.TextChoices):
    """A clinician's suitability decision; every one but SUITABLE discharges the referral."""

    SUITABLE = "suitable", "Suitable: go on to triage"
    SIGNPOSTED = "signposted", "Signpost elsewhere (with the patient's agreement)"
    REFERRED_ON = "referred_on", "Refer on to another service"
    NOT_SUITABLE = "not_suitable", "Not suitable: directed back to the referrer"


DISCHARGE: dict[str, EndReason] = {
    Decision.SIGNPOSTED: EndReason.SIGNPOSTED,
    Decision.REFERRED_ON: EndReason.REFERRED_ON,
    Decision.NOT_SUITABLE: EndReason.NOT_SUITABLE,
}
"""The NHS end reason each discharging decision ends the referral with (core.codes.EndReason)."""

SUGGESTED_DECISION: dict[str, str] = {
    Suggestion.SUITABLE: Decision.SUITABLE,
    Suggestion.SIGNPOST: Decision.SIGNPOSTED,
    Suggestion.REFER_ON: Decision.REFERRED_ON,
}
"""The decision a suggestion points to (a review or an incomplete check points to none)."""


class ScreeningDecision(models.Model):
    """A clinician's suitability decision about a referral, with what the rules suggested and
    which fired at that moment. Append-only: a later decision (while the referral is open)
    adds a row; the latest is current."""

    referral = models.ForeignKey("referrals.Referral", on_delete=models.PROTECT, related_name="screening_decisions")
    decision = models.CharField(max_length=16, choices=Decision.choices)
    reason = models.TextField(help_text="Why, in the clinician's words.")
    suggestion = models.CharField(max_length=16, choices=[(s.value, s.label) for s in Suggestion])
    fired_rule_ids = models.JSONField(default=list, blank=True, help_text="The rules that fired (ids).")
    findings = models.JSONField(
        default=list, blank=True,
        help_text="Every active rule as evaluated: id, name, kind, outcome, fired (true, false or null) and why.",
    )
    phq9_item9 = models.PositiveSmallIntegerField(null=True, blank=True, help_text="At screening; empty if unanswered.")
    clinician_risk = models.BooleanField(null=True, blank=True,
                                         help_text="The clinician judged the suicide risk significant or imminent.")
    under_secondary_care = models.BooleanField(null=True, blank=True)
    problem_descriptor = models.CharField(max_length=8, blank=True)
    end_reason = models.CharField(max_length=24, blank=True, help_text="The end reason the referral was discharged with.")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["decided_at", "id"]
        indexes = [models.Index(fields=["referral", "decided_at"])]

    def __str__(self) -> str:
        return f"screening decision {self.pk} ({self.decision}) for referral {self.referral_id}"


class PreferenceOption:
    """The patient's stated therapy preference besides a protocol id."""

    NO_PREFERENCE = "no_preference"
    LABEL = "No preference"


class Triage(models.Model):
    """One triage of a referral to a step and a therapy (the first, or a re-triage while it
    waits). The referral carries the current triage; these rows keep each one and its reason."""

    referral = models.ForeignKey("referrals.Referral", on_delete=models.PROTECT, related_name="triages")
    step = models.PositiveSmallIntegerField()
    therapy = models.CharField(max_length=32, help_text="A protocol id of that step.")
    reason = models.TextField()
    preferred_therapy = models.CharField(max_length=32, help_text="The protocol the patient prefers, or no preference.")
    preference = models.TextField(blank=True, help_text="The patient's preference in their words.")
    therapist = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    phq9_total = models.FloatField(null=True, blank=True, help_text="The PHQ-9 total shown when triaging.")
    severity = models.CharField(max_length=16, blank=True, choices=[(s.value, s.label) for s in Ng222Severity],
                                help_text="NICE NG222 severity from that PHQ-9 (less severe below 16).")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["referral", "at"])]
        # Written as a range: SQLite's introspection (Django 5.2) misreads "IN (2, 3)" in a table's SQL.
        constraints = [models.CheckConstraint(condition=models.Q(step__gte=2, step__lte=3), name="triage_step_2_or_3")]

    def __str__(self) -> str:
        return f"triage {self.pk} of referral {self.referral_id} to step {self.step} ({self.therapy})"
