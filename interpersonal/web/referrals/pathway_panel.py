"""The referral page's pathway panel (referrals.panels): where the referral stands on its way to
treatment, in one place — open risk alerts first (risk is never hidden), the latest screening
scores and their NICE NG222 severity, the suitability decision, the triage, and the opt-in
invitation while it waits — with links to the pages that change them.

Read through the screening access functions: a user who may open the referral page but not its
screening (the service lead never gets this far; a supervisor reads it) sees no panel.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from interpersonal.web.referrals import panels, screening
from interpersonal.web.referrals.models import Referral
from interpersonal.web.referrals.screening_access import PRE_TREATMENT, may_screen, referrals_visible_to


def context(request: HttpRequest, referral: Referral) -> dict[str, Any] | None:
    if not referrals_visible_to(request.user).filter(pk=referral.pk).exists():
        return None
    from interpersonal.web.assessments.models import Measurement
    from interpersonal.web.service.actions import latest_invitation

    latest = {}
    for m in (Measurement.objects.filter(referral=referral, instrument__in=("phq9", "gad7", "wsas"))
              .order_by("instrument", "-recorded_at", "-id")):
        latest.setdefault(m.instrument, m)
    _latest_phq9, severity = screening.ng222(referral)
    decision = referral.screening_decisions.select_related("decided_by").order_by("-decided_at", "-id").first()
    return {
        "open_alerts": screening.open_alert_count(referral),
        "latest": [latest[i] for i in ("phq9", "gad7", "wsas") if i in latest],
        "severity": severity,
        "decision": decision,
        "triaged": screening.triaged_protocol(referral),
        "invitation": latest_invitation(referral) if referral.status == Referral.Status.WAITING else None,
        "writable": may_screen(request.user, referral) and referral.status in PRE_TREATMENT,
    }


def register() -> None:
    panels.register(panels.Panel("pathway", "referrals/_pathway_panel.html", context))
