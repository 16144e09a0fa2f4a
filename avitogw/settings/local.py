"""Settings of a developer's machine (AVITOGW_ENV=local): practising against the Avito sandbox.

DEBUG is on unless DEBUG says otherwise (base.py), so ALLOWED_HOSTS defaults to `*` and without
a SECRET_KEY the process makes up its own (logins then end at each restart). With DEBUG off the
key is held to production's rule. The sandbox itself is no Django app (`manage.py avito_sandbox`
and `python -m sandbox.server` work under every settings module).
"""
from avitogw.settings.base import *  # noqa: F403
from avitogw.settings.base import DEBUG, SECRET_KEY, SECRET_KEY_MIN_LENGTH, secret_key_checked

SECRET_KEY = secret_key_checked(SECRET_KEY, placeholder_allowed=DEBUG,
                                minimum_length=0 if DEBUG else SECRET_KEY_MIN_LENGTH)
