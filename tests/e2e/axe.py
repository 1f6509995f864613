"""axe-core in the e2e tests: inject the vendored engine into a page and return the serious and
critical violations (WCAG 2.x A/AA and best-practice rules, as axe runs them by default).

The engine is tests/e2e/vendor/axe.min.js (``scripts/vendor-axe``; MPL-2.0), read from disk —
no CDN. It is evaluated through the browser's debugging protocol rather than a <script> tag, so
a strict Content-Security-Policy on the page under test does not block it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

VENDOR = Path(__file__).resolve().parent / "vendor"
BLOCKING = frozenset({"serious", "critical"})


@cache
def _source() -> str:
    return (VENDOR / "axe.min.js").read_text(encoding="utf-8")


def version() -> str:
    return (VENDOR / "VERSION").read_text(encoding="utf-8").strip()


def violations(page: Any) -> list[dict[str, Any]]:
    """The page's serious and critical axe violations: ``{id, impact, help, nodes: [target…]}``."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # A program, not a function: Playwright evaluates it as-is (the trailing expression
        # keeps it from being mistaken for a function to call).
        page.evaluate(_source() + "\n;void 0")
    result = page.evaluate("async () => await window.axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "nodes": [" ".join(map(str, n["target"])) for n in v["nodes"]][:5]}
        for v in result["violations"] if v.get("impact") in BLOCKING
    ]


def describe(found: list[dict[str, Any]]) -> str:
    return "\n".join(f"  [{v['impact']}] {v['id']}: {v['help']} — {', '.join(v['nodes'])}" for v in found) or "  none"
