"""Geometry of the closeness-circle diagram: three concentric rings around the patient,
each person placed on their ring at evenly spaced angles. Plain numbers; the template
draws (and escapes) the SVG."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from interpersonal.web.formulation.models import InventoryPerson

SIZE = 520
CENTRE = SIZE / 2
CORE_RADIUS = 34
RINGS = (("inner", "Inner", 95), ("middle", "Middle", 165), ("outer", "Outer", 240))
"""(ring, label, outer radius): each ring is the band between the previous radius and this one."""
LABEL_CHARS = 18
LABEL_GAP = 50
"""Degrees kept free at the bottom of each ring, where its name is written."""


@dataclass(frozen=True)
class Placed:
    person: InventoryPerson
    x: float
    y: float
    label_y: float
    short_label: str


def place(people: Iterable[InventoryPerson]) -> list[Placed]:
    by_ring: dict[str, list[InventoryPerson]] = {r: [] for r, _, _ in RINGS}
    for p in people:
        by_ring.setdefault(p.ring, []).append(p)
    placed: list[Placed] = []
    inner = CORE_RADIUS
    for ring, _, outer in RINGS:
        members = by_ring[ring]
        radius = (inner + outer) / 2
        inner = outer
        n = len(members)
        for i, person in enumerate(members):
            # evenly spaced round the ring, leaving a gap at the bottom for the ring's label
            # (a single person sits at the top)
            angle = math.radians(90 + LABEL_GAP / 2 + (360 - LABEL_GAP) * (i + 0.5) / n)
            x, y = CENTRE + radius * math.cos(angle), CENTRE + radius * math.sin(angle)
            label = person.label if len(person.label) <= LABEL_CHARS else person.label[: LABEL_CHARS - 1] + "…"
            placed.append(Placed(person, round(x, 1), round(y, 1), round(y + 22, 1), label))
    return placed


def rings() -> list[dict[str, object]]:
    """Ring circles with the place of their label (just inside the bottom of the ring)."""
    return [{"id": r, "label": label, "radius": radius, "label_y": CENTRE + radius - 8} for r, label, radius in reversed(RINGS)]
