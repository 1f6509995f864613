"""Every page leaves no copy behind on a shared clinic PC: ``Cache-Control: no-store`` (issue #12).

Walks every URL pattern as every persona allowed to open it (the authorisation matrix's ``ok``
cells, and for one patient's pages the case's therapist and supervisor), and also as a persona
refused it: a refusal, a sign-in redirect and an error page are not cached either.
"""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from web.test_authorisation_matrix import PERSONAS, path_of, personas  # noqa: F401
from web.test_fuzz_endpoints import allowed
from web.test_permissions import ALL_PATTERNS, case  # noqa: F401


def assert_not_stored(response, where: str) -> None:
    cache_control = response.get("Cache-Control", "")
    assert "no-store" in cache_control, f"{where}: Cache-Control {cache_control!r}"
    assert response.get("Pragma") == "no-cache" or cache_control == "no-store", f"{where}: Pragma {response.get('Pragma')!r}"


def test_every_page_with_patient_data_says_no_store(case, personas, therapist, supervisor):  # noqa: F811
    clients, _ = personas
    for persona, user in (("therapist", therapist), ("supervisor", supervisor)):
        client = Client()
        client.force_login(user)
        clients[persona] = (client, case["token"])
    checked = 0
    for name, _, converters in ALL_PATTERNS:
        for persona in allowed(name):
            client, token = clients[persona]
            path = path_of(name, converters, case, token=token)
            assert_not_stored(client.get(path), f"{persona} GET {path} ({name})")
            checked += 1
    assert checked >= len(ALL_PATTERNS)


def test_refusals_and_redirects_say_no_store_too(case, personas):  # noqa: F811
    clients, _ = personas
    anonymous, _ = clients["anonymous"]
    unrelated, _ = clients["unrelated_therapist"]
    course = reverse("courses:detail", args=[case["course"].pk])
    for client, path in ((anonymous, "/"), (unrelated, course), (unrelated, "/no-such-page/")):
        response = client.get(path)
        assert response.status_code in (302, 403, 404)
        assert_not_stored(response, f"GET {path}")

