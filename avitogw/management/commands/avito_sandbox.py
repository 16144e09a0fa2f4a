"""``python manage.py avito_sandbox``: run the local Avito Messenger API emulator (see docs/sandbox.md).

The sandbox is a program of its own (`sandbox/`, also `python -m sandbox.server`), not a
Django app: no settings install it, and nothing of it is loaded unless this command runs.
This launcher only gives it the gateway's AVITO_USER_ID as its default account. The Docker
image leaves `sandbox/` out; there the command says so instead of failing on an import.
"""
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

try:
    from sandbox.options import add_arguments, default_account_id, options_from
    from sandbox.server import serve
except ImportError:  # an installation without the sandbox (the Docker image)
    serve = None


def gateway_account_id() -> int:
    """AVITO_USER_ID as the gateway's settings read it (environment or .env), so the two agree."""
    try:
        value = int(getattr(settings, "AVITO_USER_ID", 0) or 0)
    except (TypeError, ValueError):
        value = 0
    return value if value > 0 else default_account_id()  # 0 is the settings' "not set"


class Command(BaseCommand):
    help = "Run a local emulator of Avito's Messenger API (tokens, chats, messages, webhooks) for development."
    # The sandbox uses no database or model: a half-migrated gateway must not stop it.
    requires_system_checks = []

    def add_arguments(self, parser):
        if serve is not None:
            add_arguments(parser, default_user=gateway_account_id())

    def handle(self, *args, **options):
        if serve is None:
            raise CommandError("The Avito sandbox is not part of this installation (the Docker image leaves "
                               "sandbox/ out): run it from a checkout of the repository.")
        try:
            sandbox_options = options_from(options)
        except ValueError as exc:
            raise CommandError(str(exc))
        serve(sandbox_options)
