"""Per-referral outcome summaries: what the dashboard adds up, kept current at write time.

One :class:`ReferralSummary` row per referral, derived from the referral, its courses, contacts and
PHQ-9 / anxiety-measure scores by :func:`interpersonal.web.outcomes.summaries.summarise` — the
one computation both the write-time refresh (``summaries.refresh``, called by the actions in
their transaction) and the full rebuild (``manage.py rebuild_outcome_summaries``) use. The
outcome flags come from the core's rule (``interpersonal.core.outcomes.course_outcome``), the
definitions of finished, paired and the waits from the core's constants: nothing clinical is
decided here.

A summary is derived data: it is never edited by hand, and a change to what it holds comes with a
migration that rebuilds every summary (as ``0003_fill_referral_summaries`` does).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ReferralSummary(models.Model):
    referral = models.OneToOneField("referrals.Referral", on_delete=models.CASCADE, related_name="outcome_summary")
    # Where the referral is counted (docs/outcomes.md, "By therapy"): the therapy of its last course
    # with at least 2 attended treatment contacts, else of its last course; the therapist of its
    # last course. Blank / null before any course.
    therapy = models.CharField(max_length=32, blank=True)
    therapist = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    courses = models.PositiveSmallIntegerField(default=0)
    stepped_up = models.BooleanField(default=False, help_text="A step-2 course followed by a step-3 course.")
    received_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    end_code = models.PositiveSmallIntegerField(null=True, blank=True, help_text="The referral's NHS end code.")
    # Treatment contacts (TherapySession.treatment): attended ones (codes 5/6) make a course finished
    # and stop the waiting-time clocks; those coded 2–7 are the attendance and DNA rates' contacts.
    attended_treatment = models.PositiveIntegerField(default=0)
    first_treatment_on = models.DateField(null=True, blank=True)
    second_treatment_on = models.DateField(null=True, blank=True)
    wait_days = models.IntegerField(null=True, blank=True, help_text="Referral to first attended treatment, days.")
    treatment_contacts = models.PositiveIntegerField(default=0)
    attended_contacts = models.PositiveIntegerField(default=0)
    dna_contacts = models.PositiveIntegerField(default=0)
    first_contact_on = models.DateField(null=True, blank=True)
    last_contact_on = models.DateField(null=True, blank=True)
    finished = models.BooleanField(default=False)
    # First and last scores of the referral (screening scores included), by time recorded.
    phq9_n = models.PositiveIntegerField(default=0)
    phq9_first = models.FloatField(null=True, blank=True)
    phq9_first_at = models.DateTimeField(null=True, blank=True)
    phq9_last = models.FloatField(null=True, blank=True)
    phq9_last_at = models.DateTimeField(null=True, blank=True)
    anxiety_measure = models.CharField(max_length=32, help_text="The anxiety measure paired with the PHQ-9.")
    anxiety_n = models.PositiveIntegerField(default=0)
    anxiety_first = models.FloatField(null=True, blank=True)
    anxiety_first_at = models.DateTimeField(null=True, blank=True)
    anxiety_last = models.FloatField(null=True, blank=True)
    anxiety_last_at = models.DateTimeField(null=True, blank=True)
    # The core's outcome of the first and last scores; null when not paired.
    paired = models.BooleanField(default=False)
    caseness_at_start = models.BooleanField(null=True, blank=True)
    recovered = models.BooleanField(null=True, blank=True)
    reliable_improvement = models.BooleanField(null=True, blank=True)
    reliable_deterioration = models.BooleanField(null=True, blank=True)
    no_reliable_change = models.BooleanField(null=True, blank=True)
    reliable_recovery = models.BooleanField(null=True, blank=True)
    refreshed_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "referral summaries"
        indexes = [
            models.Index(fields=["ended_on"], name="outcomes_summary_ended"),
            models.Index(fields=["received_on"], name="outcomes_summary_received"),
        ]

    def __str__(self) -> str:
        return f"Outcome summary of referral {self.referral_id}"
