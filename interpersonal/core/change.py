"""Change statistics: reliable change, Jacobson–Truax, response.

Pure functions on totals, so that the measures engine, the outcome reports and a
notebook over an export all compute change the same way.

Jacobson NS, Truax P. Clinical significance: a statistical approach to defining
meaningful change in psychotherapy research. J Consult Clin Psychol. 1991;59(1):12-19.
  S_diff = SD_pre · √2 · √(1 − r);  RCI = (x_post − x_pre) / S_diff; reliable if |RCI| > 1.96.
  Criterion c = (SD_clin · M_norm + SD_norm · M_clin) / (SD_clin + SD_norm).
"""

from __future__ import annotations

import math
from typing import Literal

Number = int | float
RCI_CRITICAL = 1.96
"""|RCI| must exceed this for a change to be reliable (p < .05, two-sided)."""

ReliableDirection = Literal["improved", "deteriorated", "no reliable change"]
JTCategory = Literal["recovered", "improved", "unchanged", "deteriorated"]


def s_diff(sd: float, reliability: float) -> float:
    """Standard error of the difference between two scores (Jacobson & Truax 1991, eq. 2)."""
    if sd <= 0 or not 0 < reliability < 1:
        raise ValueError("sd must be positive and reliability strictly between 0 and 1")
    return sd * math.sqrt(2.0) * math.sqrt(1.0 - reliability)


def criterion_c(clinical_mean: float, clinical_sd: float, normal_mean: float, normal_sd: float) -> float:
    """Jacobson & Truax (1991) cut-off c, between the clinical and the normal populations."""
    return (clinical_sd * normal_mean + normal_sd * clinical_mean) / (clinical_sd + normal_sd)


def rci(before: Number, after: Number, sd: float, reliability: float) -> float:
    """The reliable change index (after − before) / S_diff. Negative is a fall in score."""
    return (after - before) / s_diff(sd, reliability)


def improvement(before: Number, after: Number, *, higher_is_worse: bool = True) -> Number:
    """How much better ``after`` is than ``before``, in points (negative: worse)."""
    return before - after if higher_is_worse else after - before


def reliable_by_points(before: Number, after: Number, points: Number, *, higher_is_worse: bool = True) -> ReliableDirection:
    """Reliable change by an instrument's published criterion in points (change ≥ points)."""
    gain = improvement(before, after, higher_is_worse=higher_is_worse)
    if gain >= points:
        return "improved"
    if -gain >= points:
        return "deteriorated"
    return "no reliable change"


def jacobson_truax_category(
    before: Number,
    after: Number,
    *,
    sd: float,
    reliability: float,
    cutoff: float,
    higher_is_worse: bool = True,
) -> JTCategory:
    """Recovered (reliably improved and crossed the cut-off into the functional range),
    improved, unchanged or deteriorated. The functional side of the cut-off is strictly
    below it when higher is worse (strictly above when higher is better)."""
    index = rci(before, after, sd, reliability)
    better = -index if higher_is_worse else index
    if better > RCI_CRITICAL:
        def functional(x: Number) -> bool:
            return x < cutoff if higher_is_worse else x > cutoff

        return "recovered" if not functional(before) and functional(after) else "improved"
    if better < -RCI_CRITICAL:
        return "deteriorated"
    return "unchanged"


def response(before: Number, after: Number, *, fraction: float = 0.5) -> bool | None:
    """At least ``fraction`` (by default 50%) reduction from baseline; None when the
    baseline is 0 (no reduction is possible, so response is undefined)."""
    if before <= 0:
        return None
    return (before - after) / before >= fraction
