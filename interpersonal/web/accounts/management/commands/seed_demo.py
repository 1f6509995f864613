from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.shortcuts import resolve_url

from interpersonal.web.accounts.actions import ensure_superuser

DEMO_USERNAME = "admin"
DEMO_DEFAULT_PASSWORD = "interpersonal-demo"  # noqa: S105 - the documented demo password


class Command(BaseCommand):
    help = (
        "Seed a demo: create or update the administrator 'admin' with the password from the "
        f"DEMO_PASSWORD environment variable (default {DEMO_DEFAULT_PASSWORD!r}), then print how to sign in. "
        "Idempotent. For demonstrations only: never run it on a server holding patient data."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--base-url", default="http://127.0.0.1:8000", help="where the server runs (default %(default)s)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        password = os.environ.get("DEMO_PASSWORD") or DEMO_DEFAULT_PASSWORD
        # The demo password is published, so Django's validators (which reject it as common) are skipped.
        result = ensure_superuser(username=DEMO_USERNAME, password=password, validate=False)
        verb = "Created" if result.created else "Updated"
        login_url = options["base_url"].rstrip("/") + resolve_url(settings.LOGIN_URL)
        self.stdout.write(self.style.SUCCESS(f"{verb} demo administrator."))
        self.stdout.write(f"Sign in at {login_url}")
        self.stdout.write(f"  username: {DEMO_USERNAME}")
        self.stdout.write(f"  password: {password}")
