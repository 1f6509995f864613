"""Hand-built NHS Talking Therapies cohorts for the outcomes tests (DOMAIN.md §4)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import polars as pl

from interpersonal.core.outcomes.dataset import SCHEMAS, Dataset

REFERRED = date(2026, 1, 5)


@dataclass
class Course:
    """One referral with its contacts and scores; defaults make a finished, paired,
    reliably recovered course (PHQ-9 16→6, GAD-7 12→5, two attended sessions)."""

    referral_id: str
    phq9: Sequence[float] = (16, 6)
    gad7: Sequence[float] = (12, 5)
    sessions: int = 2
    wait: int = 14  # days from referral to the first attended treatment session
    ended: bool = True
    end_code: int = 46
    end_date: date | None = None
    therapy: str = "dit"
    therapist: str = "T1"
    provider: str = "P1"
    referral_date: date = REFERRED
    extra_contacts: list[tuple[int, int, bool]] = field(default_factory=list)  # (day, code, is_treatment)

    def rows(self) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
        contacts = [(self.wait + 7 * i, 5, True) for i in range(self.sessions)] + self.extra_contacts
        last_day = max([d for d, _, _ in contacts], default=0)
        end = self.end_date or (self.referral_date + timedelta(days=last_day + 1))
        referral = {
            "referral_id": self.referral_id, "patient_id": f"p-{self.referral_id}", "provider": self.provider,
            "therapist_id": self.therapist, "therapy": self.therapy, "referral_date": self.referral_date,
            "end_date": end if self.ended else None, "end_code": self.end_code if self.ended else None,
        }
        contact_rows = [
            {"referral_id": self.referral_id, "contact_date": self.referral_date + timedelta(days=d), "attendance_code": c, "is_treatment": t}
            for d, c, t in contacts
        ]
        start = datetime.combine(self.referral_date, datetime.min.time())
        score_rows = [
            {"referral_id": self.referral_id, "measure": m, "score_date": start + timedelta(days=i, hours=9), "score": float(v)}
            for m, values in (("phq9", self.phq9), ("gad7", self.gad7))
            for i, v in enumerate(values)
        ]
        # Reverse the rows: first and last must come from score_date, not file order.
        return referral, contact_rows, score_rows[::-1]


def cohort(*courses: Course) -> Dataset:
    referrals, contacts, scores = [], [], []
    for c in courses:
        r, cs, ss = c.rows()
        referrals.append(r)
        contacts += cs
        scores += ss
    return Dataset.from_frames(
        pl.DataFrame(referrals, schema=SCHEMAS["referrals"]),
        pl.DataFrame(contacts, schema=SCHEMAS["contacts"]),
        pl.DataFrame(scores, schema=SCHEMAS["scores"]),
    )
