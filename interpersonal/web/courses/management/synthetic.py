"""Synthetic clinical data shared by ``seed_demo`` and ``synth_service``: answer sets that
add up to a wanted total, and symptom trajectories. Demonstration and benchmark data only.

Every answer set is scored by the core engine (``measures.score``) before it is stored, so a
stored total always equals the score of its stored answers.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from interpersonal.core import measures
from interpersonal.core.identifiers import check_digit

RISK_ITEMS = {"phq9": "9", "hrsd17": "3"}
"""Items that raise a risk alert; generated answers leave them at 0 unless asked."""


def synthetic_nhs_numbers(start: int = 1) -> Iterator[str]:
    """Valid (modulus 11) NHS numbers in the 999 range kept for test data, in order;
    stems whose check digit would be 10 are skipped."""
    n = start
    while n < 1_000_000:
        stem = f"999{n:06d}"
        digit = check_digit(stem)
        if digit is not None:
            yield f"{stem}{digit}"
        n += 1


def answers_for_total(rng: random.Random, instrument: str, total: int, *, risk: bool = False) -> dict[str, int]:
    """A complete answer set of ``instrument`` whose scored items sum to ``total`` (clamped
    to the possible range). ``risk`` sets the instrument's risk item to 1, counted in the total."""
    inst = measures.get(instrument)
    scored = list(inst.scored_items)
    risk_item = RISK_ITEMS.get(inst.id)
    answers = {i.id: 0 for i in inst.items}
    remaining = max(0, min(total, sum(i.max for i in scored)))
    if risk_item is not None and risk:
        answers[risk_item] = 1
        remaining -= 1
    free = [i for i in scored if i.id != risk_item]
    remaining = max(0, min(remaining, sum(i.max for i in free)))
    while remaining:
        item = rng.choice(free)
        if answers[item.id] < item.max:
            answers[item.id] += 1
            remaining -= 1
    for item in inst.items:  # unscored items (PHQ-9 10, GAD-7 8: "how difficult"): follow severity
        if item not in scored:
            answers[item.id] = min(item.max, round(total / max(1, len(scored))))
    return answers


def trajectory(
    rng: random.Random, kind: str, start: int, n: int, *, span: int | None = None, ceiling: int = 27
) -> list[int]:
    """``n`` weekly totals from ``start``: 'improving' (falling towards 3–8, with noise),
    'flat' (noise around the start) or 'deteriorating' (rising by about 7), the change
    spread over ``span`` sessions (default ``n``: the whole course)."""
    end = {"improving": rng.randint(3, 8), "deteriorating": start + 7}.get(kind, start)
    out = []
    for week in range(n):
        target = start + (end - start) * min(1.0, week / max(1, (span or n) - 1))
        noise = rng.gauss(0, 1.3) if week else 0.0
        out.append(max(0, min(ceiling, round(target + noise))))
    return out


class ScoredPool:
    """Answer sets scored once by the core engine and reused: keyed by (instrument, total,
    risk), ``per_key`` variants each. For bulk loads where scoring millions of answer sets
    one by one would dominate the run."""

    def __init__(self, rng: random.Random, per_key: int = 6) -> None:
        self._rng = rng
        self._per_key = per_key
        self._pool: dict[tuple[str, int, bool], list[tuple[dict[str, int], measures.Score]]] = {}

    def draw(self, instrument: str, total: int, *, risk: bool = False) -> tuple[dict[str, int], measures.Score]:
        key = (instrument, total, risk)
        entries = self._pool.get(key)
        if entries is None:
            entries = []
            for _ in range(self._per_key):
                answers = answers_for_total(self._rng, instrument, total, risk=risk)
                entries.append((answers, measures.score(instrument, answers)))
            self._pool[key] = entries
        return self._rng.choice(entries)
