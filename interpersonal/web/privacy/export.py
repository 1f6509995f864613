"""Pseudonymised research export (issue 7; docs/privacy.md), driven by the field classification.

For every exported model, one CSV file ``<app>_<model>.csv`` in which

* IDENTIFYING fields are dropped (free text included). The date of birth is replaced, in the
  referrals file, by each referral's ``age_at_referral`` in whole years, top-coded at 90;
* PSEUDONYMOUS fields (keys) become ``HMAC-SHA256(key, "<app>.<model>:<id>")[:16]``, named by
  the model the key points to, so joins between the files still work; without the key the
  hashes cannot be reversed or recomputed;
* DATE fields are shifted by the patient's own offset: a whole number of days, derived from
  the key, uniform in ``±1..max_shift_days`` (never 0), the same for every date of that patient,
  so intervals within a patient are exact;
* SAFE fields are written unchanged (JSON as JSON text).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import apps
from django.db import models, transaction
from django.db.models import F

from interpersonal.web.audit import log
from interpersonal.web.privacy.classification import Class, classify, field_names

AGE_TOP_CODE = 90
DEFAULT_MAX_SHIFT_DAYS = 30


@dataclass(frozen=True)
class Table:
    label: str  # "app_label.Model"
    patient_path: str  # the lookup from this model to its patient's id

    @property
    def model(self) -> type[models.Model]:
        return apps.get_model(self.label)

    @property
    def filename(self) -> str:
        return self.label.lower().replace(".", "_") + ".csv"


TABLES = (
    Table("patients.Patient", "id"),
    Table("referrals.Referral", "patient_id"),
    Table("courses.Course", "patient_id"),
    Table("courses.TherapySession", "referral__patient_id"),
    Table("courses.TaskCompletion", "course__patient_id"),
    Table("assessments.Measurement", "referral__patient_id"),
    Table("assessments.RiskAlert", "referral__patient_id"),
    Table("formulation.FocalArea", "formulation__course__patient_id"),
    Table("letters.Letter", "course__patient_id"),
)
_PATIENT = "privacy_patient_id"
_BIRTH = "privacy_date_of_birth"


class Pseudonymiser:
    def __init__(self, key: str | bytes, *, max_shift_days: int = DEFAULT_MAX_SHIFT_DAYS) -> None:
        if not key:
            raise ValueError("a pseudonym key is required (INTERPERSONAL_PSEUDONYM_KEY)")
        if max_shift_days < 1:
            raise ValueError("max_shift_days must be at least 1")
        self._key = key.encode() if isinstance(key, str) else key
        self.max_shift_days = max_shift_days

    def _mac(self, message: str) -> bytes:
        return hmac.new(self._key, message.encode(), hashlib.sha256).digest()

    def pseudonym(self, namespace: str, value: Any) -> str | None:
        """``HMAC-SHA256(key, "namespace:value")`` as 16 hex characters (64 bits)."""
        if value is None:
            return None
        return self._mac(f"{namespace}:{value}").hex()[:16]

    def shift_days(self, patient_id: int) -> int:
        """The patient's offset: uniform over ±1..max_shift_days (never 0, so every date moves)."""
        n = int.from_bytes(self._mac(f"date-shift:{patient_id}")[:8], "big") % (2 * self.max_shift_days)
        return n - self.max_shift_days if n < self.max_shift_days else n - self.max_shift_days + 1

    def shift(self, value: dt.date | dt.datetime | None, patient_id: int) -> str | None:
        if value is None:
            return None
        return (value + dt.timedelta(days=self.shift_days(patient_id))).isoformat()


def age_in_years(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _namespace(model: type[models.Model], field: models.Field) -> str:
    """Keys are hashed in the namespace of the model they identify, so a foreign key and the
    primary key it points to get the same pseudonym."""
    target = field.related_model if field.is_relation and field.related_model else model
    if not (field.primary_key or field.is_relation):
        return f"{model._meta.label_lower}.{field.name}"
    return target._meta.label_lower


def _columns(model: type[models.Model]) -> list[tuple[models.Field, Class]]:
    """The model's concrete fields and their classes (an unclassified field raises LookupError)."""
    names = field_names(model)  # classify m2m too, so a new one fails here; only columns are exported
    classes = {name: classify(model, name) for name in names}
    return [(f, classes[f.name]) for f in model._meta.concrete_fields]


def write_table(table: Table, out: Path, p: Pseudonymiser) -> int:
    model = table.model
    columns = [(f, c) for f, c in _columns(model) if c is not Class.IDENTIFYING]
    is_referral = model._meta.label == "referrals.Referral"
    header = [f.attname for f, _ in columns] + (["age_at_referral"] if is_referral else [])
    values = [f.attname for f, _ in columns]
    extra = {_PATIENT: F(table.patient_path)} | ({_BIRTH: F("patient__date_of_birth")} if is_referral else {})
    rows = model._default_manager.order_by("pk").values(*values, **extra)
    count = 0
    with (out / table.filename).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows.iterator():
            patient_id = row[_PATIENT]
            cells: list[Any] = []
            for field, cls in columns:
                value = row[field.attname]
                if cls is Class.PSEUDONYMOUS:
                    cells.append(p.pseudonym(_namespace(model, field), value))
                elif cls is Class.DATE:
                    cells.append(p.shift(value, patient_id))
                elif isinstance(value, dict | list):
                    cells.append(json.dumps(value, sort_keys=True))
                else:
                    cells.append(value)
            if is_referral:
                cells.append(min(age_in_years(row[_BIRTH], row["received_on"]), AGE_TOP_CODE))
            writer.writerow(cells)
            count += 1
    return count


def export(out: Path, *, key: str | bytes, max_shift_days: int = DEFAULT_MAX_SHIFT_DAYS,
           actor: Any = None) -> dict[str, int]:
    """Write every table to ``out`` (created if missing); audited as ``research.exported``.
    Returns the row count per file stem."""
    p = Pseudonymiser(key, max_shift_days=max_shift_days)
    out.mkdir(parents=True, exist_ok=True)
    with transaction.atomic():
        counts = {t.filename.removesuffix(".csv"): write_table(t, out, p) for t in TABLES}
        log.record("research.exported", actor=actor, target=("research_export", out.name or str(out)),
                   max_shift_days=max_shift_days, **counts)
    return counts
