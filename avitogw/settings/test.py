"""Settings of the test suite (AVITOGW_ENV=test, always in pytest's own process).

Any SECRET_KEY will do (none: the process makes up one), and passwords are hashed with a fast
hasher: the admin's tests create and log in users again and again, and Django's PBKDF2 takes
about 0.3 s of CPU for each hash and each check.
"""
from avitogw.settings.base import *  # noqa: F403
from avitogw.settings.base import SECRET_KEY, secret_key_checked

SECRET_KEY = secret_key_checked(SECRET_KEY, placeholder_allowed=True)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
