"""`manage.py rotate_encryption_keys`: re-encrypt every account's secret with the first key of ENCRYPTION_KEYS.

Rotation: put the new key first in ENCRYPTION_KEYS (the old ones after it), restart, run this,
then drop the old keys. Each row is rewritten only if its secret is still the one read, so a
secret changed meanwhile is not overwritten.
"""
from django.core.management.base import BaseCommand, CommandError

from accounts.encryption import EncryptionKeyMissing, reencrypt
from accounts.models import Account


class Command(BaseCommand):
    help = "Re-encrypt every account's client secret with the first key of ENCRYPTION_KEYS."

    def handle(self, *args, **options):
        done = 0
        for pk, sealed in Account.objects.exclude(client_secret="").values_list("pk", "client_secret"):
            try:
                fresh = reencrypt(sealed)
            except EncryptionKeyMissing as exc:
                raise CommandError(exc.message) from exc
            done += Account.objects.filter(pk=pk, client_secret=sealed).update(client_secret=fresh)
        self.stdout.write(f"re-encrypted {done} secret(s) with the first key of ENCRYPTION_KEYS")
