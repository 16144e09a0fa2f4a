"""The accounts' secrets at rest: MultiFernet over the keys of ENCRYPTION_KEYS.

Fernet (AES-128-CBC with an HMAC-SHA256, from `cryptography`) is a well-kept, authenticated
format; MultiFernet takes a list of keys, encrypts with the first and decrypts with any, so a
new key goes first and the old ones stay until `manage.py rotate_encryption_keys` has
re-encrypted every secret with the new one.
"""
from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

from core.errors import GatewayError

KEYS_SETTING = "ENCRYPTION_KEYS"


class EncryptionKeyMissing(GatewayError):
    """No key (or no right key) for a secret: a configuration fault, not the caller's."""

    status = 503
    code = "encryption_key_missing"


def _fernet() -> MultiFernet:
    keys = [key for key in settings.ENCRYPTION_KEYS if key]
    if not keys:
        raise EncryptionKeyMissing(
            f"{KEYS_SETTING} is not set: the gateway cannot encrypt or read an account's client secret. Generate a "
            "key (python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'), set "
            f"{KEYS_SETTING} in .env and restart.")
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as exc:
        raise EncryptionKeyMissing(f"{KEYS_SETTING} holds a key that is not a Fernet key "
                                   "(32 url-safe base64-encoded bytes).") from exc


def keys_configured() -> bool:
    return any(settings.ENCRYPTION_KEYS)


def require_keys() -> None:
    """Raise EncryptionKeyMissing now, before any work whose result could not be stored."""
    _fernet()


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def decrypt(sealed: str) -> str:
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except InvalidToken as exc:
        raise EncryptionKeyMissing(f"No key in {KEYS_SETTING} opens an account's client secret: the key it was "
                                   "encrypted with has been removed.") from exc


def reencrypt(sealed: str) -> str:
    """The same secret, encrypted with the first key now (MultiFernet.rotate)."""
    try:
        return _fernet().rotate(sealed.encode()).decode()
    except InvalidToken as exc:
        raise EncryptionKeyMissing(f"No key in {KEYS_SETTING} opens an account's client secret.") from exc
