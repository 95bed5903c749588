"""``manage.py create_audio_api_key USERNAME [--name NAME]``: print a new API key once."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...models import ApiKey


class Command(BaseCommand):
    """Create an API key for a user; the raw key is printed alone on the last line."""

    help = (
        "Create an API key for USERNAME for the OpenAI-compatible API. The key is shown only "
        "once, alone on the last line of the output; only its hash is stored."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """USERNAME and an optional --name."""
        parser.add_argument("username", help="The user who will own the key.")
        parser.add_argument("--name", default="", help="A label for the key (default: 'cli').")

    def handle(self, *args: Any, **options: Any) -> None:
        """Create the key and print it."""
        user_model = get_user_model()
        username = options["username"]
        try:
            user = user_model._default_manager.get_by_natural_key(username)
        except user_model.DoesNotExist:
            raise CommandError(f"No user with username {username!r}.") from None
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive; keys of inactive users fail.")
        key, raw = ApiKey.objects.create_key(user, options["name"] or "cli")
        if options["verbosity"] >= 1:
            self.stderr.write(
                f"Created API key {key.prefix!r} for {username!r}. It is shown only once:"
            )
        self.stdout.write(raw)
