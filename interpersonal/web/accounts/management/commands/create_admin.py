from __future__ import annotations

import os
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from interpersonal.web.accounts.actions import ensure_superuser


class Command(BaseCommand):
    help = (
        "Create a superuser, or update an existing one (password, email, active/staff/superuser flags). "
        "Idempotent: running it again with the same arguments changes nothing but the password hash. "
        "Give the password with --password-env VAR (recommended: it stays out of shell history and "
        "process listings) or --password. Example: "
        "ADMIN_PASSWORD=... manage.py create_admin --username alice --password-env ADMIN_PASSWORD --email alice@example.org"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True, help="login name of the administrator")
        secret = parser.add_mutually_exclusive_group(required=True)
        secret.add_argument("--password", help="the password (visible to other local users; prefer --password-env)")
        secret.add_argument(
            "--password-env", metavar="VAR", help="name of an environment variable holding the password"
        )
        parser.add_argument("--email", default="", help="email address (left unchanged when omitted)")

    def handle(self, *args: Any, **options: Any) -> None:
        password = options["password"]
        if options["password_env"]:
            password = os.environ.get(options["password_env"])
            if not password:
                raise CommandError(f"environment variable {options['password_env']} is not set or empty")
        try:
            result = ensure_superuser(username=options["username"], password=password, email=options["email"])
        except ValidationError as exc:
            raise CommandError("password rejected: " + " ".join(exc.messages)) from None
        verb = "Created" if result.created else "Updated"
        self.stdout.write(self.style.SUCCESS(f"{verb} administrator {result.user.username!r}."))
